#!/usr/bin/env python3
"""int8 accuracy of `lopper compile --quantize` against fp32, beside
onnxruntime's own quantizer given the same calibration data.

    VENV/bin/python test/e2e/quantize_models.py --bin BUILD/bin \
        --models-dir DIR [--models resnet18,bert_2layer] [--json F]

Per model (exported by test/e2e/export_models.py into --models-dir):
  - CNNs (resnet18, mobilenet_v2): static int8. Calibration: 8 seeded
    random samples, evaluation: 8 other samples. Lopper: `--quantize=int8
    --calibration=minmax`. onnxruntime: quantize_static, QDQ format,
    per-channel weights, QUInt8 activations, QInt8 weights, MinMax, on the
    same 8 calibration samples (the reference is the same fp32 model run by
    onnxruntime).
  - BERT-style encoders: dynamic int8 (`--quantize=int8-dynamic`) against
    onnxruntime's quantize_dynamic (QInt8 weights), on 8 token sequences.
`--emit=onnx` with the same flags (and the same calibration table) is run
by onnxruntime and compared with Lopper's own int8 outputs: the largest
difference, in steps of a u8 grid over the fp32 output's range ("onnx-out"),
must stay within --max-emitted-steps (3; onnxruntime requantizes some
intermediate tensors of the QDQ graph that Lopper keeps in f32, measured
1.99 steps on ResNet-18). These two bounds apply to ResNet-18 and the
encoders; for ResNet-50 and MobileNetV2 (--full) Lopper's cosine must only
be at least onnxruntime's (both quantize these random-weight models to
about 0.98) and the rest is reported.
Reported per model: cosine similarity, relative L2 error and top-1
agreement (CNN classifiers) of each int8 model's outputs against fp32
onnxruntime. The test fails when Lopper's cosine is below --min-cosine
(0.99) or below onnxruntime's int8 model's on the same data (for the static
CNN case: the issue's bar). Also checks that the calibration table is the
same bytes when calibrated twice.
"""

import argparse
import logging
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime import quantization as q


STRICT = {"resnet18", "bert_2layer", "bert_small", "bert_encoder"}


def cosine(a, b):
    a = a.astype(np.float64).ravel()
    b = b.astype(np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-300))


def rel_l2(a, e):
    a = a.astype(np.float64).ravel()
    e = e.astype(np.float64).ravel()
    return float(np.linalg.norm(a - e) / (np.linalg.norm(e) + 1e-300))


def inputs_of(models_dir, name, n, seed, seq=32):
    """n samples as {input: array with a leading sample axis}; batch 1 and
    sequence `seq` for the models' symbolic dims."""
    meta = json.load(open(os.path.join(models_dir, name + ".inputs.json")))
    rng = np.random.default_rng(seed)
    out = {}
    for inp in meta["inputs"]:
        shape = [1 if d == "batch" else seq if d == "seq" else d
                 for d in inp["shape"]]
        if inp["dtype"] == "int64":
            lo, hi = inp.get("range", [0, 100])
            if inp["name"] == "attention_mask":
                arr = np.ones([n] + shape, np.int64)
            else:
                arr = rng.integers(lo, hi, [n] + shape, dtype=np.int64)
        else:
            arr = rng.standard_normal([n] + shape).astype(np.float32)
        out[inp["name"]] = arr
    return out


def ort_run(path, samples):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    n = len(next(iter(samples.values())))
    return [sess.run(None, {k: v[i] for k, v in samples.items()})
            for i in range(n)]


def lopper_run(binary, so_path, samples, work):
    n = len(next(iter(samples.values())))
    results = []
    for i in range(n):
        d = os.path.join(work, "run%d" % i)
        os.makedirs(d, exist_ok=True)
        args = [os.path.join(binary, "lopper"), "run", so_path,
                "--output-dir", d]
        for k, v in samples.items():
            f = os.path.join(d, k + ".npy")
            np.save(f, v[i])
            args += ["--input", "%s=%s" % (k, f)]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        outs = sorted(f for f in os.listdir(d) if f.endswith(".npy")
                      and not any(f == k + ".npy" for k in samples))
        results.append({f[:-4]: np.load(os.path.join(d, f)) for f in outs})
    return results


class Reader(q.CalibrationDataReader):
    def __init__(self, samples):
        n = len(next(iter(samples.values())))
        self.items = iter([{k: v[i] for k, v in samples.items()}
                           for i in range(n)])

    def get_next(self):
        return next(self.items, None)


def metrics(outs, refs, names):
    a = np.concatenate([o[names[0]].ravel() for o in outs])
    e = np.concatenate([r[0].ravel() for r in refs])
    m = {"cosine": cosine(a, e), "rel_l2": rel_l2(a, e)}
    if refs[0][0].ndim == 2:
        agree = [np.argmax(o[names[0]], -1) == np.argmax(r[0], -1)
                 for o, r in zip(outs, refs)]
        m["top1"] = float(np.mean(np.concatenate(agree)))
    return m


def run_model(args, name, work):
    model = os.path.join(args.models_dir, name + ".onnx")
    cnn = not name.startswith("bert")
    calib = inputs_of(args.models_dir, name, 8, 1)
    evals = inputs_of(args.models_dir, name, 8, 2)
    out_names = [o.name for o in onnx.load(model, load_external_data=False)
                 .graph.output]
    ref = ort_run(model, evals)
    calib_npz = os.path.join(work, name + ".calib.npz")
    np.savez(calib_npz, **calib)
    so = os.path.join(work, name + ".int8.so")
    binary = os.path.join(args.bin, "lopper")
    row = {"model": name, "mode": "static" if cnn else "dynamic"}
    if cnn:
        tables = []
        for k in range(2):
            table = os.path.join(work, "%s.table%d.json" % (name, k))
            subprocess.run([binary, "compile", model, "-o", so, "--quiet",
                            "--quantize=int8", "--calibration=minmax",
                            "--calibration-data", calib_npz,
                            "--save-calibration-table", table], check=True)
            tables.append(open(table, "rb").read())
        row["table_deterministic"] = tables[0] == tables[1]
        qpath = os.path.join(work, name + ".ort_qdq.onnx")
        pre = os.path.join(work, name + ".pre.onnx")
        q.quant_pre_process(model, pre, skip_symbolic_shape=True)
        q.quantize_static(pre, qpath, Reader(calib),
                          quant_format=q.QuantFormat.QDQ, per_channel=True,
                          activation_type=q.QuantType.QUInt8,
                          weight_type=q.QuantType.QInt8,
                          calibrate_method=q.CalibrationMethod.MinMax)
    else:
        subprocess.run([binary, "compile", model, "-o", so, "--quiet",
                        "--quantize=int8-dynamic"], check=True)
        qpath = os.path.join(work, name + ".ort_dyn.onnx")
        q.quantize_dynamic(model, qpath, weight_type=q.QuantType.QInt8)
    # The same compression written as ONNX (QDQ) and run by onnxruntime.
    emitted = os.path.join(work, name + ".lopper_qdq.onnx")
    flags = (["--quantize=int8", "--calibration-table",
              os.path.join(work, name + ".table0.json")] if cnn
             else ["--quantize=int8-dynamic"])
    subprocess.run([binary, "compile", model, "-o", emitted, "--quiet",
                    "--emit=onnx"] + flags, check=True)
    lop = lopper_run(args.bin, so, evals, os.path.join(work, name + "-runs"))
    qdq = ort_run(emitted, evals)
    a = np.concatenate([r[0].ravel() for r in qdq])
    b = np.concatenate([o[out_names[0]].ravel() for o in lop])
    row["emitted_onnx_vs_lopper_rel_l2"] = rel_l2(a, b)
    # One step of a u8 grid over the fp32 output's range.
    e = np.concatenate([r[0].ravel() for r in ref])
    step = (max(e.max(), 0) - min(e.min(), 0)) / 255.0
    row["emitted_onnx_vs_lopper_max_abs_steps"] = float(
        np.abs(a - b).max() / step)
    row["lopper"] = metrics(lop, ref, out_names)
    ortq = [[o] for o in (r[0] for r in ort_run(qpath, evals))]
    row["onnxruntime"] = metrics([{out_names[0]: o[0]} for o in ortq], ref,
                                 out_names)
    row["lopper_bytes"] = os.path.getsize(so)
    # The bounds of the issue hold for ResNet-18 and the encoders; deeper
    # random-weight CNNs (ResNet-50, MobileNetV2) quantize worse for every
    # tool: there Lopper must only be at least as close as onnxruntime, and
    # the emitted-ONNX distance is reported.
    strict = name in STRICT
    row["strict"] = strict
    ok = not strict or (
        row["lopper"]["cosine"] >= args.min_cosine and
        row["emitted_onnx_vs_lopper_max_abs_steps"] <= args.max_emitted_steps)
    if cnn:
        ok = ok and row["table_deterministic"] and \
            row["lopper"]["cosine"] >= row["onnxruntime"]["cosine"]
    row["ok"] = ok
    return row


def main():
    logging.getLogger().setLevel(logging.ERROR)  # onnxruntime quantizer chatter
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--models-dir", required=True)
    p.add_argument("--models", default="resnet18,bert_2layer")
    p.add_argument("--min-cosine", type=float, default=0.99)
    p.add_argument("--max-emitted-steps", type=float, default=3.0,
                   help="bound on |--emit=onnx in onnxruntime - Lopper|, in "
                        "steps of a u8 grid over the fp32 output's range")
    p.add_argument("--json")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name in args.models.split(","):
            rows.append(run_model(args, name, work))
    print("%-14s %-8s %10s %10s %7s %10s %10s %7s %10s" %
          ("model", "mode", "cos", "relL2", "top1", "ort cos", "ort relL2",
           "ort top1", "onnx-steps"))
    for r in rows:
        lo, orr = r["lopper"], r["onnxruntime"]
        t = lambda m: "%6.2f%%" % (100 * m["top1"]) if "top1" in m else "    -"
        print("%-14s %-8s %10.6f %10.5f %7s %10.6f %10.5f %7s %10.2f %s" %
              (r["model"], r["mode"], lo["cosine"], lo["rel_l2"], t(lo),
               orr["cosine"], orr["rel_l2"], t(orr),
               r["emitted_onnx_vs_lopper_max_abs_steps"],
               "ok" if r["ok"] else "FAILED"))
    if args.json:
        json.dump(rows, open(args.json, "w"), indent=1)
    failed = sum(not r["ok"] for r in rows)
    print("%d passed, %d failed" % (len(rows) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
