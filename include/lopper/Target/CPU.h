//===- CPU.h - the CPU artifact: object emission and linking ----*- C++ -*-===//
//
// Turns an imported `lop` module into a native artifact: a shared library
// (`model.so`) that liblopper_runtime loads, or a relocatable object plus a
// C header for static linking, or the intermediate MLIR / LLVM IR. The
// artifact ABI is runtime/include/lopper/artifact_abi.h.
//
//===----------------------------------------------------------------------===//
#ifndef LOPPER_TARGET_CPU_H
#define LOPPER_TARGET_CPU_H

#include "lopper/Conversion/CostModel.h"
#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lopper {

enum class EmitKind { Library, Object, MLIR, LLVMIR };

struct CPUCompileOptions {
  EmitKind emit = EmitKind::Library;
  /// Target triple; empty = the host's (x86_64-pc-linux-gnu here).
  std::string triple;
  /// CPU name; empty = a portable baseline (x86-64-v3 on x86-64, generic
  /// elsewhere); "native" = this machine's CPU and features.
  std::string cpu;
  /// Weights go to a sidecar file `<output>.weights` when they are larger
  /// than this many bytes, or always with `externalWeights`.
  uint64_t externalThreshold = uint64_t(256) << 20;
  bool externalWeights = false;
  /// Model name: the suffix of the object's get-info symbol (--emit=obj).
  std::string name = "model";
  /// The linker; empty = ld.lld-22 from PATH or /usr/lib/llvm-22/bin/ld.lld.
  std::string linker;
  /// --kernel-config: kernels forced per layer.
  KernelConfig kernelConfig;
};

struct CPUCompileReport {
  std::string triple, cpu;
  std::vector<std::string> requiredFeatures;
  uint64_t codeBytes = 0, weightBytes = 0, artifactBytes = 0;
  bool sidecar = false;
  std::string sidecarPath;
  unsigned numOps = 0, numBuffers = 0, numSymbols = 0;
  std::vector<std::string> symbolNames;
  std::string metadata;
  /// The cost model's kernel per conv/gemm/matmul.
  std::vector<KernelChoice> kernels;
  /// Per-phase wall times in seconds.
  double lowerSeconds = 0, llvmSeconds = 0, codegenSeconds = 0, linkSeconds = 0;
};

/// Compiles `lopModule` and writes the artifact to `outputPath` (through a
/// temporary file that is renamed, so a failure leaves nothing behind).
bool compileForCPU(mlir::ModuleOp lopModule, const CPUCompileOptions &options,
                   const std::string &outputPath, CPUCompileReport &report,
                   std::string &error);

} // namespace lopper

#endif
