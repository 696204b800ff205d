#!/bin/sh
# Runs Lopper's GPU checks on a machine with an NVIDIA GPU, from the bundle
# `ninja -C build lopper-gpu-bundle` makes (build/gpu-bundle: this script,
# lopper-cuda-tests, lopper-gpu-bench, lopper-gpu-e2e, lopper_kernels.fatbin,
# e2e/mlp.so and its plan e2e/mlp.so.gpu). Needs the
# driver and the CUDA 12/13 libraries (libcudart, libcublasLt, libcusparse)
# on the loader path or in $LOPPER_CUDA_LIB_DIR; no compiler, no MLIR.
#
#   sh run-gpu.sh [--quick] [--seed N]
# Exit status: 0 all passed, 1 a test or a benchmark check failed, 2 no GPU.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export LOPPER_CUDA_KERNELS="$here/lopper_kernels.fatbin"
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L
status=0
echo "== GPU tests (lopper-cuda-tests) =="
"$here/lopper-cuda-tests" --gtest_brief=1 || status=1
# A run where every GPU test skipped has checked nothing: say so.
if "$here/lopper-cuda-tests" --gtest_filter='Gpu.*' 2>&1 |
    grep -q "no CUDA device"; then
  echo "run-gpu.sh: no usable CUDA device; the GPU tests were skipped" >&2
  exit 2
fi
echo "== benchmark (lopper-gpu-bench) =="
"$here/lopper-gpu-bench" --kernels "$LOPPER_CUDA_KERNELS" "$@"
rc=$?
[ "$rc" -ne 0 ] && status=$rc
# A compiled model through the runtime (lopper_model_load with device CUDA):
# every layer dense, then every layer 2:4, against the CPU run.
echo "== end to end (lopper-gpu-e2e, e2e/mlp.so) =="
"$here/lopper-gpu-e2e" --model "$here/e2e/mlp.so" "$@"
rc=$?
[ "$rc" -ne 0 ] && status=$rc
exit $status
