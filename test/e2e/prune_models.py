#!/usr/bin/env python3
"""Pruning end to end: every pruning mode on ResNet-18 and the BERT-style
encoder through lopper-opt, exported back to ONNX and checked in numpy and
onnxruntime.

For each mode the pruned weights are checked exactly (every N:M group, every
block, the zeros per layer, the channel counts), and the pruned model runs in
onnxruntime against the original on the same random inputs (cosine
similarity, with bounds below). Channel pruning must equal the original with
the removed channels zeroed in their consumers to 1e-4. Run with the venv's
python: prune_models.py --bin build/bin --models-dir DIR.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

# Lowest cosine similarity accepted between the pruned and the original
# outputs (seeded random weights: nothing is fine-tuned after pruning).
# Channel pruning is checked against the zeroed original instead.
COSINE_BOUNDS = {
    "resnet18": {"magnitude:0.5": 0.88, "magnitude:0.5:global": 0.90,
                 "nm:2:4": 0.82, "block:4x1:0.5": 0.74, "block:1x16:0.5": 0.67},
    "bert_small": {"magnitude:0.5": 0.95, "magnitude:0.5:global": 0.93,
                   "nm:2:4": 0.93, "block:4x1:0.5": 0.90,
                   "block:1x16:0.5": 0.88, "block:16x1:0.9": 0.84},
    # Channel pruning only: its depthwise convs follow the expand convs.
    "mobilenet_v2": {},
}
CHANNEL_SPARSITY = 0.25
EXACT_TOL = 1e-4
# What lop-detect-sparsity must find on every pruned layer after the pruned
# model is exported and imported again.
DETECTED = {"magnitude:0.5": "unstructured", "nm:2:4": "nm[2, 4]",
            "block:4x1:0.5": "block[4, 1]", "block:1x16:0.5": "block[1, 16]"}
# Modes also run through `lopper compile --prune` and `lopper run`.
# block:16x1:0.9 runs on the block-sparse fp32 kernel (the matmuls' 16x1
# blocks are 90% zero), so this also checks that kernel end to end.
COMPILED_MODES = ("nm:2:4", f"channel:{CHANNEL_SPARSITY}", "block:16x1:0.9")


def pass_for(mode):
    """The lopper-opt pass flag for a --prune spec."""
    p = mode.split(":")
    if p[0] == "magnitude":
        g = " global=true" if len(p) == 3 else ""
        return f'--lop-prune-magnitude=sparsity={p[1]}{g}'
    if p[0] == "nm":
        return f"--lop-prune-nm=n={p[1]} m={p[2]}"
    if p[0] == "block":
        r, c = p[1].split("x")
        return f"--lop-prune-block=rows={r} cols={c} sparsity={p[2]}"
    if p[0] == "channel":
        return f"--lop-prune-channel=sparsity={p[1]}"
    raise ValueError(mode)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return r


def heavy_layers(model):
    """(node, weight initializer name, [O, R] view function) of every Conv,
    Gemm and MatMul with an initializer weight, in graph order."""
    inits = {i.name for i in model.graph.initializer}
    out = []
    for n in model.graph.node:
        if n.op_type not in ("Conv", "Gemm", "MatMul") or len(n.input) < 2:
            continue
        if n.input[1] not in inits:
            out.append((n, None))
            continue
        out.append((n, n.input[1]))
    return out


def or_view(node, w):
    """The [O, R] view of a weight (docs/ir-contracts.md)."""
    if node.op_type == "Conv":
        return w.reshape(w.shape[0], -1)
    trans_b = any(a.name == "transB" and a.i for a in node.attribute)
    if node.op_type == "Gemm" and trans_b:
        return w
    return w.T


def prunable(model):
    """The layers the passes prune with keep-first-last: all heavy layers
    with a 2-D or conv weight but the first conv and the last heavy op when
    it is a gemm/matmul."""
    layers = heavy_layers(model)
    first_conv = next((n for n, _ in layers if n.op_type == "Conv"), None)
    last = layers[-1][0] if layers and layers[-1][0].op_type != "Conv" else None
    return [(n, w) for n, w in layers
            if w is not None and n is not first_conv and n is not last]


def weights(model):
    return {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}


def random_inputs(model, rng):
    feeds = {}
    inits = {i.name for i in model.graph.initializer}
    for i in model.graph.input:
        if i.name in inits:
            continue
        t = i.type.tensor_type
        if i.name == "input":
            feeds[i.name] = rng.standard_normal((2, 3, 224, 224)).astype(np.float32)
        elif i.name == "input_ids":
            feeds[i.name] = rng.integers(0, 30522, (2, 16)).astype(np.int64)
        elif i.name == "attention_mask":
            feeds[i.name] = np.ones((2, 16), np.int64)
        else:
            raise RuntimeError(f"no input recipe for {i.name} ({t})")
    return feeds


def run_ort(model_or_path, feeds):
    data = model_or_path if isinstance(model_or_path, (str, bytes)) else \
        model_or_path.SerializeToString()
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    s = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])
    return s.run(None, feeds)


def cosine(a, b):
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))


def params(model):
    return sum(int(np.prod(i.dims)) for i in model.graph.initializer)


def check_mask_mode(mode, orig, pruned):
    """Exact checks of magnitude, N:M and block pruning; returns the number
    of layers pruned."""
    wo, wp = weights(orig), weights(pruned)
    lo, lp = prunable(orig), prunable(pruned)
    assert len(lo) == len(lp), "layer lists differ"
    kind = mode.split(":")[0]
    pruned_layers = 0
    total = zeros_total = 0
    for (no, io), (np_, ip) in zip(lo, lp):
        a, b = or_view(no, wo[io]), or_view(np_, wp[ip])
        assert a.shape == b.shape, f"{no.name}: shape changed"
        # Pruning only zeroes: every kept weight is unchanged.
        kept = b != 0
        assert np.array_equal(a[kept], b[kept]), f"{no.name}: kept weights changed"
        # Every weight pruned to zero is one the rule picks; zeros already in
        # the (seeded random) original count as picked first.
        n_zero = int(np.count_nonzero(b == 0))
        if kind == "magnitude":
            s = float(mode.split(":")[1])
            total += b.size
            zeros_total += n_zero
            if len(mode.split(":")) == 2:
                want = math.floor(s * b.size)
                assert n_zero == want, f"{no.name}: {n_zero} zeros, want {want}"
            # The zeroed ones are the smallest: max zeroed |w| <= min kept.
            if n_zero and n_zero < b.size and len(mode.split(":")) == 2:
                assert np.abs(a[~kept]).max() <= np.abs(a[kept]).min()
            pruned_layers += n_zero > 0
        elif kind == "nm":
            n, m = map(int, mode.split(":")[1:])
            if b.shape[1] % m:
                assert n_zero == 0, f"{no.name}: pruned although R % M != 0"
                continue
            groups = np.count_nonzero(b.reshape(b.shape[0], -1, m), axis=2)
            had = np.count_nonzero(a.reshape(b.shape[0], -1, m), axis=2)
            assert (groups == np.minimum(had, n)).all(), \
                f"{no.name}: a group does not keep min({n}, its nonzeros)"
            # The kept ones are the largest of their group.
            ga = np.abs(a.reshape(b.shape[0], -1, m))
            gk = b.reshape(b.shape[0], -1, m) != 0
            assert (np.where(gk, ga, np.inf).min(2) >=
                    np.where(gk, -np.inf, ga).max(2)).all()
            pruned_layers += 1
        elif kind == "block":
            br, bc = map(int, mode.split(":")[1].split("x"))
            s = float(mode.split(":")[2])
            o, r = b.shape
            to, tc = -(-o // br), -(-r // bc)

            def tiled(x, fill):
                t = np.full((to * br, tc * bc), fill)
                t[:o, :r] = x
                return t.reshape(to, br, tc, bc)
            nz = tiled(b != 0, False).sum(axis=(1, 3))
            same = tiled(b == a, True).all(axis=(1, 3))
            assert ((nz == 0) | same).all(), f"{no.name}: a tile is partly zeroed"
            tiles, zero_tiles = to * tc, int((nz == 0).sum())
            want = math.floor(s * tiles)
            assert zero_tiles == want, f"{no.name}: {zero_tiles} zero tiles, want {want}"
            pruned_layers += 1
    if kind == "magnitude" and len(mode.split(":")) == 3:
        want = math.floor(float(mode.split(":")[1]) * total)
        assert zeros_total == want, f"global: {zeros_total} zeros, want {want}"
    return pruned_layers


def as_oc(w, out_axis, in_axis):
    """A weight as [O, C, K]: output channels, input channels (features),
    and the kernel elements of each (O, C) pair."""
    w = np.moveaxis(w, (out_axis, in_axis), (0, 1))
    return w.reshape(w.shape[0], w.shape[1], -1)


def match_kept(a, b):
    """The rows and columns of `a` ([O, C, K]) that `b` keeps, in order,
    found by value: every (o, c) kernel of random weights is unique enough
    that a few lookups per row (column) pin it down."""
    where = {}
    for o in range(a.shape[0]):
        for c in range(a.shape[1]):
            where.setdefault(a[o, c].tobytes(), []).append((o, c))

    def solve(n, m, pick, cell):
        out = []
        for i in range(n):
            cand = None
            for j in range(m):
                s = {pick(p) for p in where.get(cell(i, j).tobytes(), [])}
                cand = s if cand is None else cand & s
                if len(cand) <= 1:
                    break
            assert cand and len(cand) == 1, "cannot tell which channel was kept"
            out.append(cand.pop())
        return out

    rows = solve(b.shape[0], b.shape[1], lambda p: p[0], lambda i, j: b[i, j])
    cols = solve(b.shape[1], b.shape[0], lambda p: p[1], lambda j, i: b[i, j])
    return rows, cols


def check_channel_mode(orig, pruned, sparsity, feeds, ref_out):
    """Channel counts, and the pruned model against the original with the
    removed channels zeroed in their consumers (to EXACT_TOL)."""
    wo, wp = weights(orig), weights(pruned)
    ho, hp = heavy_layers(orig), heavy_layers(pruned)
    assert len(ho) == len(hp)
    zeroed = onnx.ModelProto()
    zeroed.CopyFrom(orig)
    zinits = {i.name: i for i in zeroed.graph.initializer}
    pruned_layers = 0
    out_counts = []
    for (no, io), (np_, ip) in zip(ho, hp):
        if io is None:
            continue
        a, b = wo[io], wp[ip]
        out_axis = 0 if no.op_type == "Conv" or any(
            x.name == "transB" and x.i for x in no.attribute) else 1
        in_axis = 1 if no.op_type == "Conv" else 1 - out_axis
        o_before, o_after = a.shape[out_axis], b.shape[out_axis]
        if o_after != o_before:
            pruned_layers += 1
            want = o_before - math.floor(sparsity * o_before)
            assert o_after == want, f"{no.name}: {o_after} channels, want {want}"
        out_counts.append((o_before, o_after))
        if a.shape[in_axis] == b.shape[in_axis]:
            continue
        # A consumer: find which input channels it kept, check it is the
        # original restricted to the kept ones, and zero the others in the
        # original.
        ao, bo = as_oc(a, out_axis, in_axis), as_oc(b, out_axis, in_axis)
        rows, cols = match_kept(ao, bo)
        assert cols == sorted(cols), f"{no.name}: inputs reordered"
        assert np.array_equal(ao[rows][:, cols], bo), \
            f"{no.name}: not a slice of the original"
        z = ao.copy()
        z[:, sorted(set(range(ao.shape[1])) - set(cols))] = 0
        z = np.moveaxis(z.reshape(np.moveaxis(a, (out_axis, in_axis), (0, 1)).shape),
                        (0, 1), (out_axis, in_axis))
        zinits[io].CopyFrom(numpy_helper.from_array(np.ascontiguousarray(z), io))
    out_z = run_ort(zeroed, feeds)
    out_p = run_ort(pruned, feeds)
    err = max(float(np.abs(x - y).max() / (np.abs(x).max() + 1e-30))
              for x, y in zip(out_z, out_p))
    assert err <= EXACT_TOL, f"pruned differs from the zeroed original: {err:.3g}"
    cos = min(cosine(x, y) for x, y in zip(ref_out, out_p))
    return pruned_layers, err, cos


def check_compiled(lopper, src, mode, pruned, feeds, tmp):
    """`lopper compile --prune=MODE` gives an artifact that computes what the
    pruned ONNX computes in onnxruntime; returns the relative error."""
    so = os.path.join(tmp, "pruned.so")
    out_dir = os.path.join(tmp, "run")
    run([lopper, "compile", src, "-o", so, f"--prune={mode}", "--quiet"])
    cmd = [lopper, "run", so, "--output-dir", out_dir, "--threads", "2"]
    for name, value in feeds.items():
        path = os.path.join(tmp, name + ".npy")
        np.save(path, value)
        cmd += ["--input", f"{name}={path}"]
    run(cmd)
    want = run_ort(pruned, feeds)
    names = [o.name for o in pruned.graph.output]
    err = 0.0
    for name, ref in zip(names, want):
        got = np.load(os.path.join(out_dir, name + ".npy"))
        err = max(err, float(np.abs(got - ref).max() / (np.abs(ref).max() + 1e-30)))
    assert err <= EXACT_TOL, f"compiled artifact differs from onnxruntime: {err:.3g}"
    return err


def check_detected(tr, opt, onnx_path, pattern, layers, tmp):
    """Re-imports a pruned model and counts the weights lop-detect-sparsity
    annotates with `pattern`: one per pruned layer."""
    mlir = os.path.join(tmp, "reimported.mlir")
    run([tr, "--import-onnx", onnx_path, "-o", mlir])
    out = run([opt, mlir, "--lop-detect-sparsity",
               "--mlir-elide-resource-strings-if-larger=1"]).stdout
    found = out.count("#lop.sparsity<" + pattern)
    total = out.count("#lop.sparsity<")
    assert found == layers == total, \
        f"detected {found} x {pattern} ({total} in all), want {layers}"
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--models-dir", required=True)
    ap.add_argument("--models", default="resnet18,bert_small,mobilenet_v2")
    args = ap.parse_args()
    opt = os.path.join(args.bin, "lopper-opt")
    lopper = os.path.join(args.bin, "lopper")
    tr = os.path.join(args.bin, "lopper-translate")
    rng = np.random.default_rng(0)
    rows = []
    failures = 0
    with tempfile.TemporaryDirectory(prefix="lopper-prune-") as tmp:
        for model_name in args.models.split(","):
            src = os.path.join(args.models_dir, model_name + ".onnx")
            mlir = os.path.join(tmp, model_name + ".mlir")
            run([tr, "--import-onnx", src, "--mlir-print-debuginfo", "-o", mlir])
            # The unpruned round trip is the reference: same node order and
            # weight layout as every pruned export.
            base = os.path.join(tmp, model_name + ".onnx")
            run([tr, "--export-onnx", mlir, "-o", base])
            orig = onnx.load(base)
            feeds = random_inputs(orig, rng)
            ref_out = run_ort(orig, feeds)
            modes = list(COSINE_BOUNDS[model_name]) + [f"channel:{CHANNEL_SPARSITY}"]
            for mode in modes:
                t0 = time.time()
                out_mlir = os.path.join(tmp, "pruned.mlir")
                out_onnx = os.path.join(tmp, "pruned.onnx")
                try:
                    run([opt, mlir, pass_for(mode), "--mlir-print-debuginfo",
                         "-o", out_mlir])
                    run([tr, "--export-onnx", out_mlir, "-o", out_onnx])
                    pruned = onnx.load(out_onnx)
                    if mode.startswith("channel"):
                        n, err, cos = check_channel_mode(
                            orig, pruned, CHANNEL_SPARSITY, feeds, ref_out)
                        note = f"zeroed-ref err {err:.1e}"
                    else:
                        n = check_mask_mode(mode, orig, pruned)
                        out = run_ort(pruned, feeds)
                        cos = min(cosine(x, y) for x, y in zip(ref_out, out))
                        bound = COSINE_BOUNDS[model_name][mode]
                        assert cos >= bound, f"cosine {cos:.4f} < {bound}"
                        note = f"cos >= {bound}"
                        if mode in DETECTED:
                            d = check_detected(tr, opt, out_onnx, DETECTED[mode], n, tmp)
                            note += f"; detected {d}"
                    if mode in COMPILED_MODES:
                        cerr = check_compiled(lopper, src, mode, pruned, feeds, tmp)
                        note += f"; compiled err {cerr:.1e}"
                    nz_before = params(orig)
                    nz_after = sum(int(np.count_nonzero(numpy_helper.to_array(i)))
                                   for i in pruned.graph.initializer)
                    rows.append((model_name, mode, n, nz_before, params(pruned),
                                 nz_after, cos, note, time.time() - t0, "ok"))
                except (AssertionError, RuntimeError) as e:
                    failures += 1
                    rows.append((model_name, mode, 0, 0, 0, 0, float("nan"),
                                 str(e)[:200], time.time() - t0, "FAIL"))
                    print(f"FAIL {model_name} {mode}: {e}", file=sys.stderr)
    print(f"{'model':<11} {'mode':<21} {'layers':>6} {'params':>10} "
          f"{'after':>10} {'nonzero':>10} {'cosine':>8} {'time':>6}  result")
    for m, mode, n, pb, pa, nz, cos, note, t, res in rows:
        print(f"{m:<11} {mode:<21} {n:>6} {pb:>10} {pa:>10} {nz:>10} "
              f"{cos:>8.5f} {t:>5.1f}s  {res} ({note})")
    print(f"{len(rows) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
