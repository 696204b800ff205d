#!/usr/bin/env bash
# The main job on the bundled example model: set up, build, inspect it,
# compile it to a native artifact, run it on a seeded random input and print
# its output beside onnxruntime's for the same input; then compress it (2:4
# pruning and static int8 calibrated on seeded random samples), with the
# accuracy against fp32 and the size and FLOPs before and after.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
lopper_setup

MODEL="$LOPPER_ROOT/test/e2e/models/example-cnn.onnx"
BIN="$LOPPER_BUILD/bin"
WORK="$LOPPER_BUILD/example"
rm -rf "$WORK"
mkdir -p "$WORK"

echo "== lopper inspect $(basename "$MODEL")"
"$BIN/lopper" inspect "$MODEL"
echo
echo "== lopper compile $(basename "$MODEL") -o example-cnn.so"
"$BIN/lopper" compile "$MODEL" -o "$WORK/example-cnn.so"
echo
echo "== lopper run example-cnn.so --random-inputs 7 --dim batch=2"
"$BIN/lopper" run "$WORK/example-cnn.so" --random-inputs 7 --dim batch=2 \
  --save-inputs --output-dir "$WORK/out"
echo
echo "== the same input through onnxruntime"
"$LOPPER_VENV/bin/python" - "$MODEL" "$WORK/out" <<'PY'
import sys, numpy as np, onnxruntime as ort
model, out = sys.argv[1], sys.argv[2]
sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
feeds = {i.name: np.load(f"{out}/inputs/{i.name}.npy") for i in sess.get_inputs()}
for o, ref in zip(sess.get_outputs(), sess.run(None, feeds)):
    got = np.load(f"{out}/{o.name}.npy")
    np.set_printoptions(precision=5, suppress=True, linewidth=120)
    for b in range(ref.shape[0]):
        print(f"{o.name}[{b}] lopper      {got[b]}")
        print(f"{o.name}[{b}] onnxruntime {ref[b]}")
    err = float(np.max(np.abs(got.astype(np.float64) - ref)))
    print(f"max abs difference: {err:.3g}")
    if err > 1e-4 * max(1.0, float(np.max(np.abs(ref)))):
        sys.exit("lopper and onnxruntime disagree")
PY

echo
echo "== lopper compile $(basename "$MODEL") -o example-cnn-2of4-int8.so --prune=nm:2:4 --quantize=int8 --calibration-data calib.npz --verify --report=report.html"
"$LOPPER_VENV/bin/python" - "$WORK" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(11)
np.savez(f"{sys.argv[1]}/calib.npz", image=rng.standard_normal((16, 1, 3, 32, 32)).astype(np.float32))
np.savez(f"{sys.argv[1]}/eval.npz", image=rng.standard_normal((8, 1, 3, 32, 32)).astype(np.float32))
PY
"$BIN/lopper" compile "$MODEL" -o "$WORK/example-cnn-2of4-int8.so" \
  --prune=nm:2:4 --quantize=int8 --calibration-data "$WORK/calib.npz" \
  --verify --verify-data "$WORK/eval.npz" --report="$WORK/report.html"
echo "(report: $WORK/report.html)"
