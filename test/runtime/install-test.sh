#!/bin/sh
# Installs liblopper_runtime from a build directory into PREFIX, builds
# test/runtime/example/example.c against the installed tree (pkg-config;
# CMake find_package(Lopper) with Lopper::runtime and Lopper::runtime_static)
# and runs every build on MODEL.so; all must print the same output.
#
#   test/runtime/install-test.sh PREFIX MODEL.so [BUILD_DIR]
#
# BUILD_DIR defaults to $LOPPER_BUILD_DIR or build/ in the source tree. Only
# the runtime's targets are built (cmake --build --target), and only the
# `runtime` install component is installed: no compiler parts are needed.
set -eu

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 PREFIX MODEL.so [BUILD_DIR]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$1"
prefix=$(cd "$1" && pwd)
model=$2
build=${3:-${LOPPER_BUILD_DIR:-$root/build}}
case $model in /*) ;; *) model=$(pwd)/$model ;; esac
[ -f "$model" ] || { echo "$0: no model file $model" >&2; exit 1; }
[ -f "$build/CMakeCache.txt" ] || { echo "$0: $build is not a build directory" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/lopper-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

step() { printf '== %s\n' "$*"; }

step "build and install the runtime into $prefix"
cmake --build "$build" --target lopper_runtime lopper_runtime_static
cmake --install "$build" --prefix "$prefix" --component runtime

libdir=
for d in "$prefix"/lib "$prefix"/lib64 "$prefix"/lib/*-linux-gnu; do
  [ -f "$d/pkgconfig/lopper-runtime.pc" ] && libdir=$d && break
done
[ -n "$libdir" ] || { echo "$0: lopper-runtime.pc was not installed" >&2; exit 1; }
for f in "$prefix/include/lopper/runtime.h" "$prefix/include/lopper/runtime.hpp" \
         "$prefix/include/lopper/artifact_abi.h" "$libdir/liblopper_runtime.a" \
         "$libdir/liblopper_runtime.so.0" "$libdir/cmake/Lopper/LopperConfig.cmake"; do
  [ -e "$f" ] || { echo "$0: $f was not installed" >&2; exit 1; }
done
if command -v nm >/dev/null 2>&1; then
  bad=$(nm -D --defined-only "$libdir/liblopper_runtime.so.0" | awk '$2 == "T" || $2 == "D" || $2 == "B" { print $3 }' | grep -v '^lopper_' || true)
  [ -z "$bad" ] || { echo "$0: the shared library exports non-API symbols: $bad" >&2; exit 1; }
fi

cc=${CC:-cc}
example=$here/example/example.c

step "pkg-config build"
PKG_CONFIG_PATH=$libdir/pkgconfig
export PKG_CONFIG_PATH
# shellcheck disable=SC2046
$cc -std=c99 -Wall -Wextra -o "$work/example-pkgconfig" "$example" \
  $(pkg-config --cflags --libs lopper-runtime) -Wl,-rpath,"$libdir"
run() { # run OUT BINARY: runs BINARY on the model, output to OUT and stdout
  out=$1
  shift
  "$@" "$model" >"$work/$out"
  cat "$work/$out"
}
run out-pkgconfig "$work/example-pkgconfig"

step "CMake find_package(Lopper) build"
generator=
command -v ninja >/dev/null 2>&1 && generator="-G Ninja"
# shellcheck disable=SC2086
cmake -S "$here/example" -B "$work/cmake" $generator \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$work/cmake.log" \
  || { cat "$work/cmake.log"; exit 1; }
cmake --build "$work/cmake"
run out-cmake "$work/cmake/example"
run out-cmake-static "$work/cmake/example_static"

if ! cmp -s "$work/out-pkgconfig" "$work/out-cmake" ||
  ! cmp -s "$work/out-pkgconfig" "$work/out-cmake-static"; then
  echo "$0: the builds disagree" >&2
  exit 1
fi
[ -s "$work/out-pkgconfig" ] || { echo "$0: no output" >&2; exit 1; }
step "ok"
