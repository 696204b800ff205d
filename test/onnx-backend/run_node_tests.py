#!/usr/bin/env python3
"""Runs the ONNX backend tests (onnx's own test data) through Lopper.

    VENV/bin/python test/onnx-backend/run_node_tests.py --bin BUILD/bin \
        [--kinds node,simple,pytorch-converted,pytorch-operator] [--jobs 2] \
        [--timeout 20] [--filter REGEX] [--update-expectations] \
        [--json OUT.json] [--docs OUT.md] [--threads N] [--keep] [-v]

Run with the test venv's Python (onnx 1.22.0 and numpy from
test/requirements.txt): the test data is the one shipped in the onnx wheel,
onnx/backend/test/data/<kind>/<test>/{model.onnx,test_data_set_N/}. The kind
`real` is not supported (its models are downloaded).

For every test directory:
  1. `lopper compile model.onnx -o T.so --quiet`;
  2. for each test_data_set_N: `lopper run T.so --input NAME=input_K.pb ...
     --output-dir D --output-format pb`, where input_K.pb feeds the K-th graph
     input that is not an initializer (inputs are always fed at run time);
  3. each output_K.pb (the K-th graph output) is compared with what lopper
     wrote, with onnx's own Runner.assert_similar_outputs (shape and dtype
     must match, then np.testing.assert_allclose with the test's rtol/atol:
     1e-3/1e-7 unless the test's data.json overrides them, as onnx's loader
     does; object/string arrays must be equal).

Each compile and each run is limited to --timeout seconds. Classes:
  pass         every data set matches;
  unsupported  `lopper compile` exits non-zero with a `lopper: error:` line;
  mismatch     it ran, but an output differs in value, shape, dtype or count;
  run-error    `lopper run` exits non-zero with a `lopper: error:` line;
  crash        killed by a signal, or a non-zero exit without `lopper: error:`;
  timeout      a compile or run took longer than --timeout.

test/onnx-backend/expected/<kind>.txt lists the tests that pass (sorted, one
name per line). The script exits 1 when a listed test does not pass
("newly failing"), when an unlisted test passes ("newly passing"), and
whenever a test crashes or times out (always a compiler or runtime bug).
--update-expectations rewrites the files instead of reporting the first two
(with --filter, only the entries of the tests that ran change); crashes and
timeouts still make it exit 1.
"""

import argparse
import collections
import concurrent.futures
import glob
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

import onnx
from onnx import numpy_helper
from onnx.backend.test.loader import DATA_DIR, load_model_tests
from onnx.backend.test.runner import Runner

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
EXPECTED_DIR = os.path.join(HERE, "expected")
ALL_KINDS = ["node", "simple", "pytorch-converted", "pytorch-operator", "light"]
# The light model zoo (onnx/backend/test/data/light: nine CNNs at opset 9 whose
# weights are ConstantOfShape fills) is larger: its compiles get this many
# seconds at least.
LIGHT_TIMEOUT = 180
CLASSES = ["pass", "pass-bound", "unsupported", "mismatch", "run-error", "crash",
           "timeout"]
PASSING = ("pass", "pass-bound")
# A compile error that says an op needs an input's value at compile time. Such
# a test is retried with `lopper compile --bind-input NAME=FILE` for its
# shape-like inputs (scalars and vectors of at most BIND_MAX_ELEMENTS
# elements with the same value in every data set: sizes, scales, axes, pads,
# k); if that passes, it counts as "pass-bound", apart from "pass".
VALUE_NEEDED_RE = re.compile(
    r"known at compile time|cannot be expressed in the input shapes|"
    r"must be a constant|needs a constant")
BIND_MAX_ELEMENTS = 64
BUG_CLASSES = ("crash", "timeout")
# A failure of this script itself (an exception while running a test, such as
# the lopper binary vanishing); never expected, reported apart, exit 1.
HARNESS_ERROR = "harness-error"
ERROR_PREFIX = "lopper: error:"
STDERR_TAIL = 2000  # characters of stderr kept for crashes and timeouts


# ---------------------------------------------------------------- processes

class Proc:
    """The outcome of one subprocess."""

    def __init__(self, argv, rc, stdout, stderr, seconds, timed_out, timeout):
        self.argv = argv
        self.timeout = timeout
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        self.timed_out = timed_out


def run_proc(argv, timeout):
    """Runs argv in its own process group; on timeout the whole group is
    killed (the compiler may have started a linker)."""
    start = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    timed_out = False
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
    return Proc(argv, p.returncode, out.decode("utf-8", "replace"),
                err.decode("utf-8", "replace"), time.monotonic() - start,
                timed_out, timeout)


def first_error_line(text):
    for line in text.splitlines():
        if line.startswith(ERROR_PREFIX):
            return line
    return None


def signal_name(rc):
    try:
        return signal.Signals(-rc).name
    except ValueError:
        return f"signal {-rc}"


def failure_class(proc, error_class):
    """(class, reason) of a failed process: timeout, crash or error_class."""
    if proc.timed_out:
        return "timeout", f"still running after {proc.timeout:g} s (killed)"
    if proc.rc < 0:
        return "crash", f"killed by {signal_name(proc.rc)}"
    line = first_error_line(proc.stderr)
    if line is None:
        return "crash", f"exit status {proc.rc} without '{ERROR_PREFIX}'"
    return error_class, line


def tail(text, n=STDERR_TAIL):
    text = text.rstrip()
    return text if len(text) <= n else "..." + text[-n:]


# ---------------------------------------------------------------- op types

_SCHEMA_NAMES = None


def schema_names():
    """{normalized op name: op type} of every op schema onnx knows."""
    global _SCHEMA_NAMES
    if _SCHEMA_NAMES is None:
        names = {}
        for s in onnx.defs.get_all_schemas_with_history():
            names[s.name.lower().replace("_", "")] = s.name
        _SCHEMA_NAMES = names
    return _SCHEMA_NAMES


EXPANDED_RE = re.compile(r"_expanded(_ver\d+)?$")


def test_op_type(kind, name, model, kind_dir):
    """The op type a test is about. Node tests: the only node of the model;
    an expanded test takes its unexpanded sibling's; otherwise the longest op
    name that prefixes the test name (underscores ignored); else the test
    name's first word. Other kinds: the test name without `test_`."""
    bare = name[len("test_"):] if name.startswith("test_") else name
    if kind != "node":
        return bare
    if len(model.graph.node) == 1:
        return model.graph.node[0].op_type
    m = EXPANDED_RE.search(name)
    if m:
        sibling = os.path.join(kind_dir, name[:m.start()], "model.onnx")
        if os.path.exists(sibling):
            sm = onnx.load(sibling, load_external_data=False)
            if len(sm.graph.node) == 1:
                return sm.graph.node[0].op_type
    key = bare.lower().replace("_", "")
    best = None
    for norm, op in schema_names().items():
        if key.startswith(norm) and (best is None or len(norm) > len(best[0])):
            best = (norm, op)
    if best is not None:
        return best[1]
    return bare.split("_")[0]


NODE_IN_ERROR_RE = re.compile(r"node (?:#\d+|'(?:[^']*)') \(([A-Za-z0-9_.]+)\)")


def error_op_types(line, model):
    """The op types an error line blames: each `node ... (OpType)` it names,
    else that of the first node (graph order) whose non-empty name appears
    in it; [] when it names no node (an opset or input-type error)."""
    ops = []
    for op in NODE_IN_ERROR_RE.findall(line):
        if op not in ops:
            ops.append(op)
    if ops:
        return ops
    for node in model.graph.node:
        if node.name and node.name in line:
            return [node.op_type]
    return []


def generic_reason(reason):
    """A reason with quoted names replaced, to group alike errors."""
    return re.sub(r"'[^']*'", "'...'", reason)


def unsupported_summary(results_by_kind):
    """({op: tests whose compile error names it}, {reason: tests}) where the
    second counts the compile errors that name no node."""
    blamed = collections.Counter()
    unnamed = collections.Counter()
    for results in results_by_kind.values():
        for r in results:
            if r.cls != "unsupported":
                continue
            if r.error_ops:
                blamed.update(set(r.error_ops))
            else:
                unnamed[generic_reason(r.reason)] += 1
    return blamed, unnamed


def short_reason(line, model_path):
    """An error line without the `lopper: error: MODEL:` prefix."""
    if line.startswith(ERROR_PREFIX):
        line = line[len(ERROR_PREFIX):].strip()
    for p in (model_path + ": ", os.path.basename(model_path) + ": "):
        if line.startswith(p):
            line = line[len(p):]
    return line


# ---------------------------------------------------------------- outputs

def load_proto(path, type_proto):
    """As onnx's Runner._load_proto: by the model's type of the value."""
    with open(path, "rb") as f:
        content = f.read()
    if type_proto.HasField("sequence_type"):
        seq = onnx.SequenceProto()
        seq.ParseFromString(content)
        return numpy_helper.to_list(seq)
    if type_proto.HasField("optional_type"):
        opt = onnx.OptionalProto()
        opt.ParseFromString(content)
        return numpy_helper.to_optional(opt)
    t = onnx.TensorProto()
    t.ParseFromString(content)
    return numpy_helper.to_array(t)


OUT_LINE_RE = re.compile(
    r"^(?P<name>.*): (?P<dtype>\S+) \[(?P<shape>[^\]]*)\] -> (?P<path>.*?)"
    r"(?: \(written as f32\))?$")


def read_outputs(proc, out_dir, names):
    """lopper's outputs in the order of `names` (None where absent): the file
    each stdout line names, else the .pb in out_dir whose TensorProto name
    is the output's."""
    by_name = {}
    for line in proc.stdout.splitlines():
        m = OUT_LINE_RE.match(line)
        if m and not line.startswith(("tap ", "input ")):
            by_name.setdefault(m.group("name"), m.group("path"))
    tensors = {}
    for n, path in by_name.items():
        if n in names and os.path.exists(path):
            t = onnx.TensorProto()
            with open(path, "rb") as f:
                t.ParseFromString(f.read())
            tensors[n] = numpy_helper.to_array(t)
    missing = [n for n in names if n not in tensors]
    if missing:
        for path in sorted(glob.glob(os.path.join(out_dir, "*.pb"))):
            t = onnx.TensorProto()
            with open(path, "rb") as f:
                t.ParseFromString(f.read())
            if t.name in missing and t.name not in tensors:
                tensors[t.name] = numpy_helper.to_array(t)
    return [tensors.get(n) for n in names]


def fmt_shape(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


def describe_difference(ref, out, rtol, atol, names):
    """A short reason for the first difference, in the order onnx's
    assert_similar_outputs checks (count, shape, dtype, values)."""
    if len(ref) != len(out):
        return f"{len(out)} outputs, expected {len(ref)}"
    for i, (r, o) in enumerate(zip(ref, out)):
        label = f"output {i} '{names[i]}'"
        if o is None:
            return f"{label}: not written"
        if isinstance(r, (list, tuple)) or r is None:
            return f"{label}: expected a {type(r).__name__}, got a tensor"
        if tuple(o.shape) != tuple(r.shape):
            return f"{label}: shape {fmt_shape(o.shape)}, expected {fmt_shape(r.shape)}"
        if r.dtype == object:
            if not np.array_equal(o, r):
                n = int(np.sum(o != r)) if o.shape == r.shape else -1
                return f"{label}: {n} of {r.size} strings differ"
            continue
        if o.dtype != r.dtype:
            return f"{label}: dtype {o.dtype}, expected {r.dtype}"
        try:
            a = o.astype(np.float64)
            b = r.astype(np.float64)
        except (TypeError, ValueError):
            if not np.array_equal(o, r):
                return f"{label}: values differ"
            continue
        with np.errstate(invalid="ignore", over="ignore"):
            close = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
            bad = int(np.sum(~close))
            if bad == 0:
                continue
            diff = np.abs(a - b)
            finite = diff[np.isfinite(diff)]
            nan_off = int(np.sum(np.isnan(a) != np.isnan(b)))
        err = f"max abs err {finite.max():.3g}" if finite.size else "max abs err inf/nan"
        extra = f", {nan_off} NaN where not expected (or missing)" if nan_off else ""
        return f"{label}: {err}, {bad} of {r.size} elements off (rtol {rtol:g}, atol {atol:g}){extra}"
    return None


def compare(ref, out, rtol, atol, names, model_dir):
    """(ok, reason). onnx's own assert_similar_outputs decides."""
    try:
        Runner.assert_similar_outputs(ref, out, rtol=rtol, atol=atol,
                                      model_dir=model_dir)
        ok = True
    except (AssertionError, TypeError, ValueError, AttributeError):
        ok = False
    if ok:
        return True, None
    reason = describe_difference(ref, out, rtol, atol, names)
    return False, reason or "outputs differ (onnx's assert_similar_outputs)"


# ---------------------------------------------------------------- one test

class Result:
    def __init__(self, kind, name, op):
        self.kind = kind
        self.name = name
        self.op = op
        self.cls = None
        self.reason = ""
        self.error_ops = []
        self.stderr_tail = ""
        self.repro = ""
        self.seconds = 0.0

    def to_json(self):
        return {"kind": self.kind, "name": self.name, "op": self.op,
                "class": self.cls, "reason": self.reason,
                "error_ops": self.error_ops, "seconds": round(self.seconds, 3),
                "stderr_tail": self.stderr_tail, "repro": self.repro}


def repro_command(lopper, model_path, name, run_args_list, threads):
    d = os.path.join(tempfile.gettempdir(), "lopper-repro")
    so = os.path.join(d, name + ".so")
    cmds = [f"mkdir -p {shlex.quote(d)}",
            " ".join(shlex.quote(a) for a in
                     [lopper, "compile", model_path, "-o", so, "--quiet"])]
    for i, inputs in enumerate(run_args_list):
        argv = [lopper, "run", so]
        for n, f in inputs:
            argv += ["--input", f"{n}={f}"]
        argv += ["--output-dir", os.path.join(d, f"{name}.out{i}"),
                 "--output-format", "pb"]
        if threads is not None:
            argv += ["--threads", str(threads)]
        cmds.append(" ".join(shlex.quote(a) for a in argv))
    return " && ".join(cmds)


def bindable_inputs(run_inputs):
    """The (name, file) of each shape-like input (rank <= 1, small) that has
    the same value in every
    data set (so one compiled artifact serves them all), from the first set;
    [] if there is none."""
    if not run_inputs:
        return []
    out = []
    for k, (name, f) in enumerate(run_inputs[0]):
        t = onnx.TensorProto()
        with open(f, "rb") as fh:
            t.ParseFromString(fh.read())
        a = numpy_helper.to_array(t)
        if a.ndim > 1 or a.size > BIND_MAX_ELEMENTS:
            continue
        same = True
        for ri in run_inputs[1:]:
            if k >= len(ri):
                same = False
                break
            t2 = onnx.TensorProto()
            with open(ri[k][1], "rb") as fh:
                t2.ParseFromString(fh.read())
            b = numpy_helper.to_array(t2)
            same = same and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
        if same:
            out.append((name, f))
    return out


def run_test(case, kind_dir, lopper, repro_lopper, work, timeout, threads, keep):
    model_path = os.path.join(case.model_dir, "model.onnx")
    model = onnx.load(model_path, load_external_data=False)
    res = Result(case.kind, case.name, test_op_type(case.kind, case.name, model, kind_dir))
    start = time.monotonic()
    tdir = os.path.join(work, case.kind, case.name)
    os.makedirs(tdir, exist_ok=True)
    try:
        inits = {i.name for i in model.graph.initializer}
        graph_inputs = [i for i in model.graph.input if i.name not in inits]
        sets = sorted(glob.glob(os.path.join(case.model_dir, "test_data_set*")))
        run_inputs = []
        for s in sets:
            n = len(glob.glob(os.path.join(s, "input_*.pb")))
            run_inputs.append([(graph_inputs[k].name if k < len(graph_inputs) else f"input_{k}",
                                os.path.join(s, f"input_{k}.pb")) for k in range(n)])
        res.repro = repro_command(repro_lopper, model_path, case.name, run_inputs, threads)

        def fail(cls, reason, proc, blame=False):
            # No temporary paths in what is reported (the docs are deterministic).
            reason = reason.replace(tdir + os.sep, "")
            res.cls = cls
            res.reason = short_reason(reason, model_path) if cls in ("unsupported", "run-error") else reason
            if blame:
                res.error_ops = error_op_types(reason, model)
            if cls in BUG_CLASSES:
                res.stderr_tail = tail(proc.stderr).replace(tdir + os.sep, "")
            return res

        so = os.path.join(tdir, "model.so")
        proc = run_proc([lopper, "compile", model_path, "-o", so, "--quiet"], timeout)
        bound = []
        if proc.timed_out or proc.rc != 0:
            cls, reason = failure_class(proc, "unsupported")
            if cls == "unsupported" and VALUE_NEEDED_RE.search(reason):
                bound = bindable_inputs(run_inputs)
            if bound:
                argv = [lopper, "compile", model_path, "-o", so, "--quiet"]
                for name, f in bound:
                    argv += ["--bind-input", f"{name}={f}"]
                bproc = run_proc(argv, timeout)
                if bproc.timed_out or bproc.rc != 0:
                    bcls, breason = failure_class(bproc, "unsupported")
                    if bcls in BUG_CLASSES:  # a crash is a bug either way
                        return fail(bcls, "compile --bind-input: " + breason, bproc)
                    bound = []
                else:
                    names = {n for n, _ in bound}
                    run_inputs = [[(n, f) for n, f in ri if n not in names]
                                  for ri in run_inputs]
            if not bound:
                if cls != "unsupported":
                    reason = "compile: " + reason
                return fail(cls, reason, proc, blame=(cls == "unsupported"))
        if not os.path.exists(so):
            return fail("crash", "compile: exit status 0 but no artifact written", proc)

        out_names = [o.name for o in model.graph.output]
        for si, s in enumerate(sets):
            out_dir = os.path.join(tdir, f"out{si}")
            argv = [lopper, "run", so]
            for n, f in run_inputs[si]:
                argv += ["--input", f"{n}={f}"]
            argv += ["--output-dir", out_dir, "--output-format", "pb"]
            if threads is not None:
                argv += ["--threads", str(threads)]
            proc = run_proc(argv, timeout)
            if proc.timed_out or proc.rc != 0:
                cls, reason = failure_class(proc, "run-error")
                if cls != "run-error":
                    reason = "run: " + reason
                if len(sets) > 1:
                    reason = f"{os.path.basename(s)}: {reason}"
                return fail(cls, reason, proc, blame=(cls == "run-error"))
            ref = []
            n_ref = len(glob.glob(os.path.join(s, "output_*.pb")))
            for k in range(n_ref):
                ref.append(load_proto(os.path.join(s, f"output_{k}.pb"),
                                      model.graph.output[k].type))
            out = read_outputs(proc, out_dir, out_names[:n_ref])
            ok, reason = compare(ref, out, case.rtol, case.atol, out_names,
                                 case.model_dir)
            if not ok:
                if len(sets) > 1:
                    reason = f"{os.path.basename(s)}: {reason}"
                return fail("mismatch", reason, proc)
        res.cls = "pass-bound" if bound else "pass"
        if bound:
            res.reason = "with --bind-input " + ", ".join(n for n, _ in bound)
        return res
    except Exception as e:  # a harness problem: report it, never hide it
        res.cls = HARNESS_ERROR
        res.reason = f"harness: {type(e).__name__}: {e}"
        return res
    finally:
        res.seconds = time.monotonic() - start
        if not keep:
            shutil.rmtree(tdir, ignore_errors=True)


# ---------------------------------------------------------------- light models

class LightCase:
    def __init__(self, name, model_dir, rtol, atol):
        self.kind, self.name, self.model_dir = "light", name, model_dir
        self.rtol, self.atol = rtol, atol


def light_cases(data_dir, work):
    """The light model zoo as onnx's own runner tests it: the input is
    Runner.generate_dummy_data(random=False) and the expected output is the
    `light_<model>_output_0.pb` shipped beside the model; rtol/atol are the
    test case's. Each case gets a test_data_set folder in the work dir."""
    from onnx.backend.test.case.model import collect_testcases
    cases = []
    for tc in collect_testcases():
        if not (tc.url or "").startswith("onnx/backend/test/data/light/"):
            continue
        src = os.path.join(data_dir, "light", os.path.basename(tc.url))
        prefix = os.path.splitext(src)[0]
        if not os.path.exists(src):
            continue
        mdir = os.path.join(work, "light-data", tc.name)
        sdir = os.path.join(mdir, "test_data_set_0")
        os.makedirs(sdir, exist_ok=True)
        if not os.path.exists(os.path.join(mdir, "model.onnx")):
            os.symlink(src, os.path.join(mdir, "model.onnx"))
        model = onnx.load(src, load_external_data=False)
        inits = {i.name for i in model.graph.initializer}
        k = 0
        for x in model.graph.input:
            if x.name in inits:
                continue
            value = Runner.generate_dummy_data(x, seed=0, name=tc.model_name, random=False)
            with open(os.path.join(sdir, f"input_{k}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(value).SerializeToString())
            k += 1
        for i in range(len(model.graph.output)):
            shutil.copy(f"{prefix}_output_{i}.pb", os.path.join(sdir, f"output_{i}.pb"))
        cases.append(LightCase(tc.name, mdir, tc.rtol, tc.atol))
    return cases


# ---------------------------------------------------------------- expectations

def expected_path(kind):
    return os.path.join(EXPECTED_DIR, f"{kind}.txt")


def read_expected(kind):
    path = expected_path(kind)
    if not os.path.exists(path):
        return None
    expected = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, tag = line.partition(" ")
                expected[name] = "pass-bound" if tag.strip() == "bound" else "pass"
    return expected


def write_expected(kind, expected):
    """One passing test per line; "NAME bound" for one that passes only with
    --bind-input."""
    os.makedirs(EXPECTED_DIR, exist_ok=True)
    with open(expected_path(kind), "w") as f:
        for n in sorted(expected):
            f.write(n + (" bound" if expected[n] == "pass-bound" else "") + "\n")


# ---------------------------------------------------------------- docs

def md_escape(s):
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def rel(path):
    path = os.path.abspath(path)
    r = os.path.relpath(path, REPO_ROOT)
    return path if r.startswith("..") else r


def regen_command(args):
    cmd = [".venv/bin/python", "test/onnx-backend/run_node_tests.py",
           "--bin", rel(args.bin), "--kinds", ",".join(args.kinds)]
    if args.filter:
        cmd += ["--filter", args.filter]
    if args.timeout != 20:
        cmd += ["--timeout", f"{args.timeout:g}"]
    if args.threads is not None:
        cmd += ["--threads", str(args.threads)]
    cmd += ["--docs", rel(args.docs)]
    return " ".join(shlex.quote(c) for c in cmd)


def shown_classes(results_by_kind):
    """CLASSES, plus harness-error where any test has it."""
    if any(r.cls == HARNESS_ERROR for rs in results_by_kind.values() for r in rs):
        return CLASSES + [HARNESS_ERROR]
    return CLASSES


def write_docs(path, args, results_by_kind):
    CLASSES = shown_classes(results_by_kind)
    L = []
    L.append("# ONNX backend test status")
    L.append("")
    L.append("Generated by `test/onnx-backend/run_node_tests.py` (see "
             "[test/onnx-backend/README.md](../test/onnx-backend/README.md)); "
             "do not edit. Regenerate with:")
    L.append("")
    L.append("```")
    L.append(regen_command(args))
    L.append("```")
    L.append("")
    L.append(f"Test data: the backend tests shipped with onnx {onnx.__version__}. "
             "Each test is compiled with `lopper compile` and run with "
             "`lopper run` on its test data sets, inputs fed at run time; "
             "outputs are compared as onnx's backend runner does "
             "(`assert_allclose`, rtol 1e-3, atol 1e-7 unless the test says "
             "otherwise).")
    L.append("")
    L.append("| Kind | Tests | " + " | ".join(CLASSES) + " |")
    L.append("| --- | ---: | " + " | ".join("---:" for _ in CLASSES) + " |")
    total = collections.Counter()
    n_total = 0
    for kind, results in results_by_kind.items():
        c = collections.Counter(r.cls for r in results)
        total.update(c)
        n_total += len(results)
        L.append(f"| {kind} | {len(results)} | " + " | ".join(str(c[k]) for k in CLASSES) + " |")
    if len(results_by_kind) > 1:
        L.append(f"| **all** | {n_total} | " + " | ".join(str(total[k]) for k in CLASSES) + " |")
    L.append("")
    L.append("Classes: **pass**; **pass-bound**: passes only when its small "
             "inputs are bound at compile time with `lopper compile "
             "--bind-input` (an op needs their value: a Resize's sizes, a "
             "TopK's k), counted apart from pass; **unsupported**: `lopper compile` reports an "
             "error (the op it cannot compile); **mismatch**: it ran but an "
             "output differs; **run-error**: `lopper run` reports an error; "
             "**crash**: killed by a signal or exit without an error message; "
             "**timeout**: a compile or run over the time limit. Crashes and "
             "timeouts are bugs.")
    L.append("")

    # Most common unsupported ops over all kinds.
    blamed, unnamed = unsupported_summary(results_by_kind)
    if blamed or unnamed:
        L.append("## Unsupported ops")
        L.append("")
        L.append("Number of tests whose compile error names the op (a test "
                 "that names several counts for each), over all kinds.")
        L.append("")
        L.append("| Op type | Tests |")
        L.append("| --- | ---: |")
        for op, n in sorted(blamed.items(), key=lambda kv: (-kv[1], kv[0])):
            L.append(f"| {md_escape(op)} | {n} |")
        L.append("")
    if unnamed:
        L.append("Compile errors that name no node:")
        L.append("")
        L.append("| Error | Tests |")
        L.append("| --- | ---: |")
        for reason, n in sorted(unnamed.items(), key=lambda kv: (-kv[1], kv[0])):
            L.append(f"| {md_escape(reason)} | {n} |")
        L.append("")

    for kind, results in results_by_kind.items():
        L.append(f"## {kind}")
        L.append("")
        if kind == "node":
            by_op = collections.defaultdict(list)
            for r in results:
                by_op[r.op].append(r)
            L.append("Per op type (the op the test is about: its only node, "
                     "or the op its name starts with).")
            L.append("")
            L.append("| Op type | Passing | Total | Failing tests (class: reason) |")
            L.append("| --- | ---: | ---: | --- |")
            for op in sorted(by_op, key=str.lower):
                rs = sorted(by_op[op], key=lambda r: r.name)
                npass = sum(r.cls == "pass" for r in rs)
                fails = [f"`{r.name}` ({r.cls}: {md_escape(r.reason or '')})"
                         for r in rs if r.cls != "pass"]
                L.append(f"| {md_escape(op)} | {npass} | {len(rs)} | " + "<br>".join(fails) + " |")
        else:
            L.append("| Test | Class | Reason |")
            L.append("| --- | --- | --- |")
            for r in sorted(results, key=lambda r: r.name):
                L.append(f"| `{r.name}` | {r.cls} | {md_escape(r.reason)} |")
        L.append("")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(L).rstrip("\n") + "\n")


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="the build's bin folder (holds lopper)")
    ap.add_argument("--kinds", default=",".join(ALL_KINDS),
                    help="comma-separated kinds (default: %(default)s)")
    ap.add_argument("--jobs", type=int, default=2, help="tests at a time (default 2)")
    ap.add_argument("--timeout", type=float, default=20,
                    help="seconds per compile and per run (default 20)")
    ap.add_argument("--filter", help="only tests whose name matches this regex (re.search)")
    ap.add_argument("--update-expectations", action="store_true",
                    help="rewrite test/onnx-backend/expected/<kind>.txt")
    ap.add_argument("--json", help="write every result to this JSON file")
    ap.add_argument("--docs", help="write the status page (Markdown) to this file")
    ap.add_argument("--threads", type=int,
                    help="pass --threads N to lopper run (default: not passed)")
    ap.add_argument("--data-dir", default=DATA_DIR,
                    help="onnx's backend test data (default: the installed onnx's)")
    ap.add_argument("--work-dir", help="where artifacts go (default: a new temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep artifacts and outputs")
    ap.add_argument("--no-snapshot", action="store_true",
                    help="run BIN/lopper in place (default: run a copy made at the "
                         "start, so a rebuild during the run does not disturb it)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every test")
    args = ap.parse_args()

    args.kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    for k in args.kinds:
        if k not in ALL_KINDS:
            ap.error(f"unknown or unsupported kind '{k}' (choose from {', '.join(ALL_KINDS)})")
    lopper = os.path.join(os.path.abspath(args.bin), "lopper")
    if not os.access(lopper, os.X_OK):
        ap.error(f"no lopper executable in {args.bin}")
    pattern = re.compile(args.filter) if args.filter else None
    if args.jobs < 1:
        ap.error("--jobs must be at least 1")

    work = args.work_dir or tempfile.mkdtemp(prefix="lopper-onnx-backend-")
    os.makedirs(work, exist_ok=True)
    repro_lopper = lopper
    if not args.no_snapshot:
        snap = os.path.join(work, "bin", "lopper")
        os.makedirs(os.path.dirname(snap), exist_ok=True)
        shutil.copy2(lopper, snap)
        lopper = snap
    print(f"lopper: {repro_lopper}" + ("" if args.no_snapshot else f" (run as its copy {lopper})")
          + f"\nonnx {onnx.__version__}: {args.data_dir}\n"
          f"jobs {args.jobs}, timeout {args.timeout:g} s, work dir {work}", flush=True)

    results_by_kind = {}
    wall_by_kind = {}
    t_all = time.monotonic()
    lock = threading.Lock()
    for kind in args.kinds:
        if kind == "light":
            cases = [c for c in light_cases(args.data_dir, work)
                     if pattern is None or pattern.search(c.name)]
        else:
            cases = [c for c in load_model_tests(data_dir=args.data_dir, kind=kind)
                     if c.model_dir is not None
                     and (pattern is None or pattern.search(c.name))]
        timeout = max(args.timeout, LIGHT_TIMEOUT) if kind == "light" else args.timeout
        cases.sort(key=lambda c: c.name)
        kind_dir = os.path.join(args.data_dir, kind)
        t0 = time.monotonic()
        results = []
        done = [0]
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futs = [pool.submit(run_test, c, kind_dir, lopper, repro_lopper, work,
                                timeout, args.threads, args.keep) for c in cases]
            for fut in concurrent.futures.as_completed(futs):
                r = fut.result()
                with lock:
                    results.append(r)
                    done[0] += 1
                    if args.verbose or r.cls in BUG_CLASSES or r.cls == HARNESS_ERROR:
                        print(f"  [{kind} {done[0]}/{len(cases)}] {r.name}: {r.cls}"
                              + (f" ({r.reason})" if r.reason else ""), flush=True)
                    elif done[0] % 100 == 0:
                        print(f"  [{kind} {done[0]}/{len(cases)}]", flush=True)
        results.sort(key=lambda r: r.name)
        results_by_kind[kind] = results
        wall_by_kind[kind] = time.monotonic() - t0
    wall = time.monotonic() - t_all
    if not args.work_dir and not args.keep:
        shutil.rmtree(work, ignore_errors=True)

    # ---- summary
    classes = shown_classes(results_by_kind)
    print()
    print(f"{'kind':<18} {'tests':>6} " + " ".join(f"{c:>11}" for c in classes) + "    wall")
    total = collections.Counter()
    for kind, results in results_by_kind.items():
        c = collections.Counter(r.cls for r in results)
        total.update(c)
        print(f"{kind:<18} {len(results):>6} " + " ".join(f"{c[k]:>11}" for k in classes)
              + f" {wall_by_kind[kind]:>6.1f} s")
    n_all = sum(len(r) for r in results_by_kind.values())
    print(f"{'all':<18} {n_all:>6} " + " ".join(f"{total[k]:>11}" for k in classes)
          + f" {wall:>6.1f} s")

    blamed, unnamed = unsupported_summary(results_by_kind)
    if blamed:
        print("\nmost common unsupported ops (tests naming the op in the compile error):")
        for op, n in sorted(blamed.items(), key=lambda kv: (-kv[1], kv[0]))[:20]:
            print(f"  {op:<32} {n}")
    if unnamed:
        print(f"\ncompile errors that name no node ({sum(unnamed.values())} tests):")
        for reason, n in sorted(unnamed.items(), key=lambda kv: (-kv[1], kv[0]))[:10]:
            print(f"  {n:>5}  {reason}")

    if args.verbose:
        print("\nper op type (node): passing/total")
        by_op = collections.defaultdict(list)
        for r in results_by_kind.get("node", []):
            by_op[r.op].append(r)
        for op in sorted(by_op, key=str.lower):
            rs = by_op[op]
            c = collections.Counter(r.cls for r in rs)
            print(f"  {op:<32} {c['pass']}/{len(rs)}  "
                  + ", ".join(f"{k} {c[k]}" for k in classes[1:] if c[k]))

    bugs = [r for rs in results_by_kind.values() for r in rs if r.cls in BUG_CLASSES]
    if bugs:
        print(f"\n{len(bugs)} crashes/timeouts (compiler or runtime bugs):")
        for r in bugs:
            print(f"\n  {r.kind}/{r.name}: {r.cls}: {r.reason}")
            print(f"    reproduce: {r.repro}")
            if r.stderr_tail:
                print("    stderr tail:")
                for line in r.stderr_tail.splitlines()[-20:]:
                    print("      " + line)

    harness = [r for rs in results_by_kind.values() for r in rs if r.cls == HARNESS_ERROR]
    if harness:
        print(f"\n{len(harness)} tests hit an error of this script:")
        for r in harness:
            print(f"  {r.kind}/{r.name}: {r.reason}")

    # ---- expectations
    failed = bool(bugs) or bool(harness)
    for kind, results in results_by_kind.items():
        ran = {r.name for r in results}
        passing = {r.name: r.cls for r in results if r.cls in PASSING}
        expected = read_expected(kind)
        if args.update_expectations:
            old = expected or {}
            new = {n: c for n, c in old.items() if n not in ran}
            new.update(passing)
            if expected is None or new != old:
                write_expected(kind, new)
                changed = sum(old.get(n) != c for n, c in new.items())
                print(f"\nexpectations: wrote {rel(expected_path(kind))} "
                      f"({sum(c == 'pass' for c in new.values())} passing, "
                      f"{sum(c == 'pass-bound' for c in new.values())} with bound inputs; "
                      f"{changed} changed, {len(set(old) - set(new))} removed)")
            continue
        if expected is None:
            print(f"\nexpectations: {rel(expected_path(kind))} does not exist; "
                  "create it with --update-expectations")
            failed = True
            continue
        # Worse than expected fails; better than expected (pass where
        # pass-bound or nothing was expected) asks for an update.
        rank = {"pass": 2, "pass-bound": 1}
        newly_failing = sorted(n for n in ran if n in expected
                               and rank.get(passing.get(n), 0) < rank[expected[n]])
        newly_passing = sorted(n for n in passing
                               if rank[passing[n]] > rank.get(expected.get(n), 0))
        by_name = {r.name: r for r in results}
        if newly_failing:
            failed = True
            print(f"\n{kind}: newly failing: {len(newly_failing)}")
            for n in newly_failing:
                print(f"  {n}: {by_name[n].cls}: {by_name[n].reason}")
        if newly_passing:
            failed = True
            print(f"\n{kind}: newly passing: {', '.join(newly_passing)} — update "
                  "the expectations with --update-expectations")

    if args.json:
        data = {"onnx_version": onnx.__version__, "lopper": lopper,
                "jobs": args.jobs, "timeout_s": args.timeout,
                "wall_s": round(wall, 1),
                "kinds": {k: {"wall_s": round(wall_by_kind[k], 1),
                              "counts": {c: sum(r.cls == c for r in rs) for c in classes}}
                          for k, rs in results_by_kind.items()},
                "tests": [r.to_json() for rs in results_by_kind.values() for r in rs]}
        with open(args.json, "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
    if args.docs:
        write_docs(args.docs, args, results_by_kind)
        print(f"\ndocs: wrote {args.docs}")

    print(f"\nwall time {wall:.1f} s; " + ("FAILED" if failed else "OK"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
