#!/usr/bin/env python3
"""Imports real exported models with Lopper's tools and checks the results.

    VENV/bin/python test/e2e/run_models.py --bin BUILD/bin --models-dir DIR \
        [--tier default|full] [--models a,b,...]

Run with the test venv's Python (onnx, onnxruntime and numpy from
test/requirements.txt).
The models come from test/e2e/models/export_models.py (run that first with
/usr/bin/python3); the bundled test/e2e/models/example-cnn.onnx is added to
every tier.

For each model:
  1. `lopper-translate --import-onnx MODEL.onnx` under `/usr/bin/time -v`
     (wall time and peak RSS) must exit 0;
  2. the printed module must pass `lopper-opt --verify-each -o /dev/null`;
  3. the `func.func @main(` signature must keep the batch dimension dynamic:
     the line contains `tensor<?x`, and so does every tensor argument;
  4. `lopper inspect MODEL.onnx --json` must exit 0 with the documented keys;
     its parameter count must match the model's initializers, its MACs per
     Conv/Gemm/MatMul must match a reference count made here from shapes
     that onnxruntime computes (dynamic dims pinned to 1), and for resnet50 the parameters
     must lie in 25.5e6..25.7e6 and the MACs in 4.0e9..4.2e9.
Prints a table and a final line `N passed, M failed`; exits 1 if any failed.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLED_DIR = os.path.join(HERE, "models")
EXAMPLE = "example-cnn"

# Keep in step with TIERS in models/export_models.py (which needs torch, so
# it is not imported here), less lstm_small and gru_small: they are exported
# for compile_models.py, and the import unrolls their recurrent nodes into
# many lop ops, which the op-count check of `lopper inspect` here would not
# accept.
TIERS = {
    "default": ["resnet18", "mobilenet_v2", "bert_small", "bert_2layer"],
    "full": ["resnet18", "resnet50", "mobilenet_v2", "efficientnet_b0",
             "vit_b_16", "bert_encoder", "bert_small", "bert_2layer"],
}

# Absolute ranges (batch 1) that `lopper inspect` must report.
EXPECTED = {
    # torchvision's 25.557 M, plus the BatchNorm running statistics, less the
    # BatchNorm weights and biases that the exporter stores once when equal.
    "resnet50": {"parameters": (25.55e6, 25.65e6), "macs": (4.0e9, 4.2e9)},
}
INSPECT_KEYS = ["model", "opset", "ops", "nodes", "parameters",
                "parameter_bytes", "macs", "flops", "macs_by_op"]
MAC_TOLERANCE = 0.01  # relative, per op type, against the reference count
GNU_TIME = "/usr/bin/time"


class Failure(Exception):
    pass


# ---------------------------------------------------------------------------
# Running the tools
# ---------------------------------------------------------------------------


def tail(text, n=20):
    lines = text.decode(errors="replace").rstrip().splitlines()
    return "\n".join("      " + l for l in lines[-n:])


def run_measured(cmd, stdout_path, timeout):
    """Runs cmd with stdout to a file. Returns (rc, wall s, peak RSS MB, stderr)."""
    with tempfile.NamedTemporaryFile(prefix="lopper-time-", delete=False) as t:
        time_path = t.name
    use_gnu_time = os.access(GNU_TIME, os.X_OK)
    full = [GNU_TIME, "-v", "-o", time_path] + cmd if use_gnu_time else cmd
    start = time.monotonic()
    try:
        with open(stdout_path, "wb") as out:
            proc = subprocess.Popen(full, stdout=out, stderr=subprocess.PIPE)
            try:
                _, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise Failure(f"timed out after {timeout} s: {' '.join(cmd)}")
        wall = time.monotonic() - start
        rss_mb = None
        if use_gnu_time:
            with open(time_path) as f:
                report = f.read()
            m = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)",
                          report)
            if m:
                wall = (int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60
                        + float(m.group(3)))
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
            if m:
                rss_mb = int(m.group(1)) / 1024.0
            m = re.search(r"Command terminated by signal (\d+)", report)
            if m:
                return -int(m.group(1)), wall, rss_mb, err
        return proc.returncode, wall, rss_mb, err
    finally:
        os.unlink(time_path)


def check_signature(mlir_path):
    with open(mlir_path, errors="replace") as f:
        for line in f:
            if "func.func @main(" in line:
                break
        else:
            raise Failure("no `func.func @main(` in the imported module")
    if "tensor<?x" not in line:
        raise Failure(f"batch dimension not dynamic in: {line.strip()[:300]}")
    args = line.split("func.func @main(", 1)[1]
    args = re.split(r"\)\s*(->|\{|attributes)", args, 1)[0]
    types = re.findall(r"tensor<[^>]*>", args)
    static = [t for t in types if not t.startswith("tensor<?x")]
    if static:
        raise Failure(f"argument(s) with a static batch dimension: "
                      f"{', '.join(static)} in: {line.strip()[:300]}")
    return line.strip()


def run_inspect(lopper, model, timeout):
    cmd = [lopper, "inspect", model, "--json"]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Failure(f"timed out after {timeout} s: {' '.join(cmd)}")
    if p.returncode != 0:
        raise Failure(f"`lopper inspect` exited {p.returncode}\n{tail(p.stderr)}")
    try:
        info = json.loads(p.stdout)
    except ValueError as e:
        raise Failure(f"`lopper inspect --json` printed no valid JSON ({e}):\n"
                      f"{tail(p.stdout, 5)}")
    missing = [k for k in INSPECT_KEYS if k not in info]
    if missing:
        raise Failure(f"`lopper inspect --json` lacks key(s): {', '.join(missing)}")
    return info


# ---------------------------------------------------------------------------
# Reference numbers from the ONNX file itself
# ---------------------------------------------------------------------------


def prod(xs):
    r = 1
    for x in xs:
        r *= x
    return r


def reference_counts(model_path):
    """Returns (initializer elements, Constant-node elements, opset,
    {op: count}, {op: MACs}) with every dynamic input dim pinned to 1.

    The shapes that the MAC count needs come from running the model once in
    onnxruntime at that size (ONNX shape inference alone cannot follow the
    Shape/Gather/Slice chains of a traced transformer).
    """
    import numpy as np
    import onnx
    import onnxruntime as ort

    model = onnx.load(model_path)
    graph = model.graph
    init_elems = sum(prod(t.dims) for t in graph.initializer)
    const_elems = 0
    for n in graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.type == onnx.AttributeProto.TENSOR:
                    const_elems += prod(a.t.dims)
                elif a.type in (onnx.AttributeProto.INTS, onnx.AttributeProto.FLOATS):
                    const_elems += len(a.ints) + len(a.floats)
                elif a.type in (onnx.AttributeProto.INT, onnx.AttributeProto.FLOAT):
                    const_elems += 1
        elif n.op_type == "Slice":
            # The importer materializes absent axes and steps as constants.
            const_elems += 2 * 8
    # The importer folds these away (docs/cli.md): Constant nodes become
    # parameters, Identity and inference Dropout forward their input.
    vanishing = ("Constant", "Identity", "Dropout")
    ops = {}
    for n in graph.node:
        if n.op_type not in vanishing:
            ops[n.op_type] = ops.get(n.op_type, 0) + 1
    opset = next((o.version for o in model.opset_import
                  if o.domain in ("", "ai.onnx")), None)

    shapes = {t.name: list(t.dims) for t in graph.initializer}
    init_names = set(shapes)
    feeds = {}
    for vi in graph.input:
        if vi.name in init_names:
            continue
        t = vi.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else 1
                 for d in t.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(t.elem_type)
        feeds[vi.name] = np.zeros(shape, dtype=dtype)
        shapes[vi.name] = shape

    heavy = [n for n in graph.node if n.op_type in ("Conv", "Gemm", "MatMul")]
    wanted = []
    for n in heavy:
        for name in (n.input[0], n.input[1], n.output[0]):
            if name not in shapes and name not in wanted:
                wanted.append(name)
    if wanted:
        existing = {o.name for o in graph.output}
        for name in wanted:
            if name not in existing:
                graph.output.append(onnx.ValueInfoProto(name=name))
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        opts.log_severity_level = 3
        sess = ort.InferenceSession(model.SerializeToString(), opts,
                                    providers=["CPUExecutionProvider"])
        del model
        for name, value in zip(wanted, sess.run(wanted, feeds)):
            shapes[name] = list(value.shape)

    macs = {}
    for n in heavy:
        out, a, b = shapes[n.output[0]], shapes[n.input[0]], shapes[n.input[1]]
        if n.op_type == "Conv":
            k = prod(b[1:])
        elif n.op_type == "Gemm":
            trans_a = any(x.name == "transA" and x.i for x in n.attribute)
            k = a[0] if trans_a else a[1]
        else:
            k = a[-1]
        macs[n.op_type] = macs.get(n.op_type, 0) + prod(out) * k
    return init_elems, const_elems, opset, ops, macs


def check_inspect(name, info, ref):
    init_elems, const_elems, opset, ops, macs = ref
    problems = []
    if info["opset"] != opset:
        problems.append(f"opset {info['opset']}, the model has {opset}")
    if info["ops"] != ops:
        problems.append(f"ops {info['ops']}, the model has {ops}")
    if info["nodes"] != sum(ops.values()):
        problems.append(f"nodes {info['nodes']}, the model has {sum(ops.values())}")
    if not init_elems <= info["parameters"] <= init_elems + const_elems:
        problems.append(f"parameters {info['parameters']}, the initializers hold "
                        f"{init_elems} (+{const_elems} in Constant nodes)")
    for op, want in macs.items():
        got = info["macs_by_op"].get(op, 0)
        if abs(got - want) > MAC_TOLERANCE * want:
            problems.append(f"macs_by_op[{op}] = {got}, reference {want}")
    total = sum(macs.values())
    if info["macs"] < total * (1 - MAC_TOLERANCE):
        problems.append(f"macs {info['macs']} < Conv+Gemm+MatMul reference {total}")
    if info["flops"] < info["macs"]:
        problems.append(f"flops {info['flops']} < macs {info['macs']}")
    for key, (lo, hi) in EXPECTED.get(name, {}).items():
        if not lo <= info[key] <= hi:
            problems.append(f"{key} {info[key]:.4g} outside {lo:.4g}..{hi:.4g}")
    if problems:
        raise Failure("`lopper inspect` disagrees: " + "; ".join(problems))


# ---------------------------------------------------------------------------


def find_model(name, models_dir):
    for d in (models_dir, BUNDLED_DIR):
        p = os.path.join(d, name + ".onnx")
        if os.path.exists(p):
            return p
    raise Failure(f"{name}.onnx not found in {models_dir}; run "
                  f"/usr/bin/python3 test/e2e/models/export_models.py --out "
                  f"{models_dir} first")


def run_one(name, a, tools, workdir, row):
    model = find_model(name, a.models_dir)
    mlir = os.path.join(workdir, name + ".mlir")
    try:
        rc, wall, rss, err = run_measured(
            [tools["lopper-translate"], "--import-onnx", model], mlir, a.timeout)
        row["import_s"], row["rss_mb"] = wall, rss
        if rc != 0:
            raise Failure(f"`lopper-translate --import-onnx` exited {rc}\n"
                          f"{tail(err)}")
        with open(mlir, "rb") as f:
            try:
                p = subprocess.run([tools["lopper-opt"], "--verify-each",
                                    "-o", os.devnull], stdin=f,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   timeout=a.timeout)
            except subprocess.TimeoutExpired:
                raise Failure(f"`lopper-opt` timed out after {a.timeout} s")
        if p.returncode != 0:
            raise Failure(f"`lopper-opt --verify-each` rejected the imported "
                          f"module (exit {p.returncode})\n{tail(p.stderr)}")
        check_signature(mlir)
        check_roundtrip(model, mlir, tools, workdir, a.timeout, row)
    finally:
        if os.path.exists(mlir) and not a.keep:
            os.unlink(mlir)
    info = run_inspect(tools["lopper"], model, a.timeout)
    row.update(ops=info["nodes"], params=info["parameters"], macs=info["macs"])
    check_inspect(name, info, reference_counts(model))


def random_feeds(model_path, batch, seq, rng):
    """Random inputs for every graph input: symbolic dims become `batch`
    (the first) or `seq` (any later one); int64 inputs get small ids."""
    import numpy as np
    import onnx

    m = onnx.load(model_path, load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    feeds = {}
    for vi in m.graph.input:
        if vi.name in inits:
            continue
        t = vi.type.tensor_type
        shape = []
        for i, d in enumerate(t.shape.dim):
            shape.append(d.dim_value if d.HasField("dim_value")
                         else (batch if i == 0 else seq))
        dtype = onnx.helper.tensor_dtype_to_np_dtype(t.elem_type)
        if np.issubdtype(dtype, np.integer):
            feeds[vi.name] = rng.integers(0, 2, size=shape).astype(dtype)
        else:
            feeds[vi.name] = rng.standard_normal(shape).astype(dtype)
    return feeds


def check_roundtrip(model, mlir, tools, workdir, timeout, row):
    """ONNX -> lop -> ONNX must compute what the original does: onnxruntime
    runs both on the same random inputs at batch 1 and 3 (and sequence 16
    and 77 where there is one). This checks the importer's normalizations
    numerically until Lopper runs models itself."""
    import numpy as np
    import onnxruntime as ort

    out = os.path.join(workdir, os.path.basename(model) + ".roundtrip.onnx")
    try:
        p = subprocess.run([tools["lopper-translate"], "--export-onnx", mlir,
                            "-o", out], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        if p.returncode != 0:
            raise Failure(f"`lopper-translate --export-onnx` exited "
                          f"{p.returncode}\n{tail(p.stderr)}")
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        sessions = [ort.InferenceSession(f, opts,
                                         providers=["CPUExecutionProvider"])
                    for f in (model, out)]
        rng = np.random.default_rng(0)
        worst = 0.0
        for batch, seq in ((1, 16), (3, 77)):
            feeds = random_feeds(model, batch, seq, rng)
            ref, got = (s.run(None, feeds) for s in sessions)
            for r, g in zip(ref, got):
                if r.shape != g.shape:
                    raise Failure(f"round trip changed an output shape: "
                                  f"{r.shape} -> {g.shape}")
                scale = max(1.0, float(np.max(np.abs(r))) if r.size else 1.0)
                err = float(np.max(np.abs(r.astype(np.float64) - g))) / scale \
                    if r.size else 0.0
                worst = max(worst, err)
        row["roundtrip_err"] = worst
        if worst > 1e-5:
            raise Failure(f"ONNX -> lop -> ONNX changed the outputs: relative "
                          f"error {worst:.3g} (> 1e-5)")
    finally:
        if os.path.exists(out):
            os.unlink(out)


def fmt(v, spec, scale=1.0):
    if v is None:
        return format("-", ">" + re.match(r"\d*", spec).group(0))
    return format(v / scale if scale != 1.0 else v, spec)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin", required=True,
                   help="folder with lopper, lopper-opt, lopper-translate")
    p.add_argument("--models-dir", required=True,
                   help="folder export_models.py wrote to")
    p.add_argument("--tier", default="default", choices=sorted(TIERS))
    p.add_argument("--models", default=None,
                   help="comma-separated model names (overrides --tier)")
    p.add_argument("--timeout", type=int, default=900,
                   help="seconds allowed for each tool run")
    p.add_argument("--keep", action="store_true",
                   help="keep the imported .mlir files (printed at the end)")
    a = p.parse_args(argv)

    names = (a.models.split(",") if a.models
             else [EXAMPLE] + TIERS[a.tier])
    names = [n.strip() for n in names if n.strip()]
    tools = {t: os.path.join(a.bin, t)
             for t in ("lopper", "lopper-opt", "lopper-translate")}
    missing = [t for t in tools.values() if not os.access(t, os.X_OK)]
    if missing:
        print(f"error: tool(s) not found: {', '.join(missing)}", file=sys.stderr)
    if not os.access(GNU_TIME, os.X_OK):
        print(f"note: {GNU_TIME} not found (Debian package `time`); wall time "
              "measured here, peak RSS not reported", file=sys.stderr)

    workdir = tempfile.mkdtemp(prefix="lopper-e2e-models-")
    rows, failures = [], []
    for name in names:
        print(f"== {name}", flush=True)
        row = {"model": name, "status": "FAIL"}
        rows.append(row)
        try:
            if missing:
                raise Failure("tools missing")
            run_one(name, a, tools, workdir, row)
            row["status"] = "PASS"
        except Failure as e:
            failures.append((name, str(e)))
            print(f"   FAIL: {e}", flush=True)
    if a.keep:
        print(f"imported modules kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)

    header = (f"{'model':<16} {'import s':>9} {'peak RSS MB':>12} {'ops':>6} "
              f"{'params':>12} {'GMACs':>8} {'round trip':>10}  status")
    print()
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['model']:<16} {fmt(r.get('import_s'), '9.2f')} "
              f"{fmt(r.get('rss_mb'), '12.1f')} {fmt(r.get('ops'), '6d')} "
              f"{fmt(r.get('params'), '12,d')} {fmt(r.get('macs'), '8.3f', 1e9)} "
              f"{fmt(r.get('roundtrip_err'), '10.1e')}  {r['status']}")
    for name, why in failures:
        print(f"FAILED {name}: {why}")
    passed = sum(r["status"] == "PASS" for r in rows)
    print(f"{passed} passed, {len(rows) - passed} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
