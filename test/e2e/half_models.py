#!/usr/bin/env python3
"""fp16 and bf16 models compile and run (issue 4: computed in fp32 with the
result of every op rounded to the model's type; docs/codegen.md).

    VENV/bin/python test/e2e/half_models.py --bin BUILD/bin --models-dir DIR [--models a,b]

Each exported fp32 model is converted here to fp16 and to bf16 (initializers,
graph inputs/outputs, Constant values and Cast targets), compiled with
`lopper compile` and run on seeded inputs (attention masks all ones). The
error against the fp32 model run by onnxruntime must stay within
    fp16: max(2e-3, 2 x onnxruntime's own fp16 error on the same inputs)
    bf16: 2e-2 (onnxruntime has no bf16 CPU kernels to compare with)
in relative L2. Prints a table and `N passed, M failed`; exits 1 on failure.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto
from onnx import numpy_helper as nh

HALF = {"fp16": (TensorProto.FLOAT16, np.float16), "bf16": (TensorProto.BFLOAT16, None)}


def to_bf16_tensor(a, name):
    """bf16 TensorProto from float32 (round to nearest even)."""
    u = a.astype(np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    t = TensorProto()
    t.name, t.data_type = name, TensorProto.BFLOAT16
    t.dims.extend(a.shape)
    t.raw_data = r.tobytes()
    return t


def bf16_bits(a):
    u = a.astype(np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def convert(src, dst, kind):
    code, npt = HALF[kind]
    m = onnx.load(src)
    g = m.graph

    def conv(t):
        a = nh.to_array(t)
        return nh.from_array(a.astype(np.float16), t.name) if kind == "fp16" else to_bf16_tensor(a, t.name)
    for i, t in enumerate(g.initializer):
        if t.data_type == TensorProto.FLOAT:
            g.initializer[i].CopyFrom(conv(t))
    for v in list(g.input) + list(g.output):
        if v.type.tensor_type.elem_type == TensorProto.FLOAT:
            v.type.tensor_type.elem_type = code
    del g.value_info[:]
    for n in g.node:
        for a in n.attribute:
            if n.op_type == "Cast" and a.name == "to" and a.i == TensorProto.FLOAT:
                a.i = code
            if a.name == "value" and a.t.data_type == TensorProto.FLOAT:
                a.t.CopyFrom(conv(a.t))
    onnx.save(m, dst)


def feeds_for(sess, rng):
    out = {}
    for i in sess.get_inputs():
        shape = [d if isinstance(d, int) else (1 if k == 0 else 32) for k, d in enumerate(i.shape)]
        if "int64" in i.type:
            out[i.name] = (np.ones(shape, np.int64) if "mask" in i.name
                           else rng.integers(0, 100, shape).astype(np.int64))
        else:
            out[i.name] = rng.standard_normal(shape).astype(np.float32)
    return out


def rel(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--models-dir", required=True)
    ap.add_argument("--models", default="resnet18,bert_2layer")
    a = ap.parse_args()
    lopper = os.path.join(a.bin, "lopper")
    work = tempfile.mkdtemp(prefix="lopper-half-")
    passed = failed = 0
    for name in a.models.split(","):
        src = os.path.join(a.models_dir, name + ".onnx")
        s32 = ort.InferenceSession(src, providers=["CPUExecutionProvider"])
        feeds = feeds_for(s32, np.random.default_rng(0))
        ref = s32.run(None, feeds)[0].astype(np.float64)
        for kind in ("fp16", "bf16"):
            path = os.path.join(work, f"{name}-{kind}.onnx")
            convert(src, path, kind)
            so = path[:-5] + ".so"
            p = subprocess.run([lopper, "compile", path, "-o", so, "--quiet"],
                               capture_output=True, text=True)
            row = f"{name:<14} {kind}"
            if p.returncode != 0:
                print(f"FAIL {row}: compile: {p.stderr.strip()[-500:]}")
                failed += 1
                continue
            args = [lopper, "run", so, "--output-dir", path[:-5] + "-out"]
            ort_err = None
            hfeeds = {}
            for k, v in feeds.items():
                f = os.path.join(work, f"{name}-{kind}-{k}.npy")
                if v.dtype == np.float32:
                    if kind == "fp16":
                        v = v.astype(np.float16)
                        np.save(f, v)
                    else:
                        tp = to_bf16_tensor(v, k)
                        f = f[:-4] + ".pb"
                        with open(f, "wb") as fh:
                            fh.write(tp.SerializeToString())
                else:
                    np.save(f, v)
                hfeeds[k] = v
                args += ["--input", f"{k}={f}"]
            p = subprocess.run(args + ["--output-format", "pb"], capture_output=True, text=True)
            if p.returncode != 0:
                print(f"FAIL {row}: run: {p.stderr.strip()[-500:]}")
                failed += 1
                continue
            out_dir = path[:-5] + "-out"
            t = onnx.TensorProto()
            with open(os.path.join(out_dir, sorted(os.listdir(out_dir))[0]), "rb") as fh:
                t.ParseFromString(fh.read())
            got = nh.to_array(t).astype(np.float64)
            err = rel(got, ref)
            if kind == "fp16":
                s16 = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
                ort_err = rel(s16.run(None, hfeeds)[0].astype(np.float64), ref)
                bound = max(2e-3, 2 * ort_err)
            else:
                bound = 2e-2
            ok = bool(np.isfinite(got).all()) and err <= bound
            passed += ok
            failed += not ok
            print(f"{'PASS' if ok else 'FAIL'} {row}: rel L2 vs fp32 {err:.3g} (bound {bound:.3g}"
                  + (f"; onnxruntime fp16 {ort_err:.3g}" if ort_err is not None else "") + ")")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
