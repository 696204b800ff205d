#!/usr/bin/env python3
"""A model with more external weight data than protobuf's 2 GB limit
compiles, runs and matches numpy, within a memory bound (issue 4, point 6).

    VENV/bin/python test/e2e/large_model.py --bin BUILD/bin [--gib 2.2] [--work DIR]

The model is generated, never committed: a chain of L MatMul(+Add bias)
layers of 4096x4096 fp32 weights (64 MiB each) with a ReLU between them,
written with onnx's external-data format into one `weights.bin`. Weights
are seeded and scaled so activations stay O(1). Checks:

  * `lopper compile` succeeds and writes the artifact with its sidecar
    `<out>.weights` (weights above 256 MiB always go there);
  * its peak anonymous memory (RssAnon, sampled from /proc every 10 ms) is
    under 1.5x the weight bytes. The external data is memory-mapped, never
    copied; its pages add to VmRSS as they are read but are clean page cache,
    so VmRSS is printed beside it, not bounded;
  * `lopper run` on a seeded batch-2 input matches the numpy float64
    reference within relative L2 1e-5.

Prints the figures and `PASS`/`FAIL`; exits 1 on failure.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto, helper

N = 4096


def layer_weight(i):
    rng = np.random.default_rng(1000 + i)
    # Var(w) = 2/N keeps the ReLU chain's scale near 1.
    return (rng.standard_normal((N, N), dtype=np.float32) * np.float32(np.sqrt(2.0 / N)))


def layer_bias(i):
    return np.random.default_rng(5000 + i).standard_normal(N, dtype=np.float32) * np.float32(0.01)


def write_model(d, layers):
    """Writes d/model.onnx and d/weights.bin one layer at a time (never all
    weights in memory)."""
    nodes, inits = [], []
    offset = 0
    with open(os.path.join(d, "weights.bin"), "wb") as f:
        for i in range(layers):
            for name, arr in ((f"W{i}", layer_weight(i)), (f"B{i}", layer_bias(i))):
                t = TensorProto()
                t.name = name
                t.data_type = TensorProto.FLOAT
                t.dims.extend(arr.shape)
                t.data_location = TensorProto.EXTERNAL
                for k, v in (("location", "weights.bin"), ("offset", str(offset)),
                             ("length", str(arr.nbytes))):
                    e = t.external_data.add()
                    e.key, e.value = k, v
                f.write(arr.tobytes())
                offset += arr.nbytes
                inits.append(t)
            x = "X" if i == 0 else f"h{i - 1}"
            nodes.append(helper.make_node("MatMul", [x, f"W{i}"], [f"m{i}"], name=f"mm{i}"))
            out = "Y" if i == layers - 1 else f"a{i}"
            nodes.append(helper.make_node("Add", [f"m{i}", f"B{i}"], [out], name=f"add{i}"))
            if i != layers - 1:
                nodes.append(helper.make_node("Relu", [out], [f"h{i}"], name=f"relu{i}"))
    g = helper.make_graph(nodes, "large",
                          [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["batch", N])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["batch", N])],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)],
                          producer_name="lopper-large-model-test")
    m.ir_version = 8
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(m.SerializeToString())
    return offset


def run_sampled(argv):
    """Runs argv, sampling /proc/PID/status every 10 ms: (rc, stderr, peak
    VmRSS, peak RssAnon) in bytes. RssAnon is the memory the compile itself
    holds; VmRSS adds the pages of the memory-mapped external data file,
    which are clean page cache the kernel can drop at any time."""
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak_rss = peak_anon = 0
    status = f"/proc/{p.pid}/status"
    while p.poll() is None:
        try:
            with open(status) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        peak_rss = max(peak_rss, int(line.split()[1]) * 1024)
                    elif line.startswith("RssAnon:"):
                        peak_anon = max(peak_anon, int(line.split()[1]) * 1024)
        except OSError:
            pass
        time.sleep(0.01)
    err = p.stderr.read()
    return p.returncode, err, peak_rss, peak_anon


def reference(x, layers):
    h = x.astype(np.float64)
    for i in range(layers):
        h = h @ layer_weight(i).astype(np.float64) + layer_bias(i)
        if i != layers - 1:
            h = np.maximum(h, 0)
    return h


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--gib", type=float, default=2.2,
                    help="weight bytes to generate, in GiB (default 2.2: over 2 GB)")
    ap.add_argument("--work", help="folder for the model and artifact (default: a temp dir, removed)")
    a = ap.parse_args()
    lopper = os.path.join(a.bin, "lopper")
    layer_bytes = N * N * 4 + N * 4
    layers = max(1, int(np.ceil(a.gib * 2**30 / layer_bytes)))
    work = a.work or tempfile.mkdtemp(prefix="lopper-large-")
    os.makedirs(work, exist_ok=True)
    ok = False
    try:
        wbytes = write_model(work, layers)
        print(f"model: {layers} layers of {N}x{N}, {wbytes / 2**30:.2f} GiB of external data")
        so = os.path.join(work, "model.so")
        t0 = time.monotonic()
        rc, err, peak_rss, peak_anon = run_sampled(
            [lopper, "compile", os.path.join(work, "model.onnx"), "-o", so, "--quiet"])
        wall = time.monotonic() - t0
        if rc != 0:
            print(err[-3000:])
            print("FAIL: compile")
            return 1
        ratio = peak_anon / wbytes
        sidecar = so + ".weights"
        print(f"compile: {wall:.1f} s wall; peak anonymous memory {peak_anon / 2**30:.2f} GiB "
              f"= {ratio:.2f}x the weights (peak RSS with the mapped model file "
              f"{peak_rss / 2**30:.2f} GiB = {peak_rss / wbytes:.2f}x); artifact "
              f"{os.path.getsize(so) / 2**20:.2f} MiB + sidecar "
              f"{os.path.getsize(sidecar) / 2**30 if os.path.exists(sidecar) else 0:.2f} GiB")
        x = np.random.default_rng(7).standard_normal((2, N), dtype=np.float32)
        np.save(os.path.join(work, "x.npy"), x)
        out = os.path.join(work, "out")
        p = subprocess.run([lopper, "run", so, "--input", f"X={os.path.join(work, 'x.npy')}",
                            "--output-dir", out], capture_output=True, text=True)
        if p.returncode != 0:
            print(p.stderr[-3000:])
            print("FAIL: run")
            return 1
        y = np.load(os.path.join(out, "Y.npy")).astype(np.float64)
        ref = reference(x, layers)
        rel = float(np.linalg.norm(y - ref) / np.linalg.norm(ref))
        print(f"run: relative L2 against numpy float64 {rel:.3g}")
        ok = os.path.exists(sidecar) and ratio < 1.5 and rel < 1e-5
        if not os.path.exists(sidecar):
            print("the weights did not go to a sidecar file")
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
