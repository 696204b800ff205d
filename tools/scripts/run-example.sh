#!/usr/bin/env bash
# The main job on the bundled example model: set up, build, import it and
# print its op summary. (Compression and the native artifact arrive with the
# code generator.)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
lopper_setup

MODEL="$LOPPER_ROOT/test/e2e/models/example-cnn.onnx"
BIN="$LOPPER_BUILD/bin"
echo "== lopper inspect $(basename "$MODEL")"
"$BIN/lopper" inspect "$MODEL"
echo
echo "== lopper-translate --import-onnx (first lines of the lop module)"
MLIR="$LOPPER_BUILD/example-cnn.mlir"
"$BIN/lopper-translate" --import-onnx "$MODEL" --mlir-elide-elementsattrs-if-larger=8 -o "$MLIR"
head -n 12 "$MLIR"
echo "... (the whole module: $MLIR)"
