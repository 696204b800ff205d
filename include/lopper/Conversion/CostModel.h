//===- CostModel.h - per-layer kernel choice for the CPU target -*- C++ -*-===//
//
// Predicts each heavy op's time on the kernels that can run it, from its
// operation count, its rows M, and the stored share of its weight blocks,
// with per-kernel rates measured on this project's reference machine (AMD
// Zen 4, one core, `lopper-kernel-bench --filter=bsr --cpu-time`; see
// docs/benchmarks.md). The code generator runs a layer block-sparse only
// where that is predicted faster than dense by a margin, records every
// choice with its predicted time, and lets `--kernel-config` force one.
//
//===----------------------------------------------------------------------===//
#ifndef LOPPER_CONVERSION_COSTMODEL_H
#define LOPPER_CONVERSION_COSTMODEL_H

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lopper {

enum class KernelFamily {
  DenseF32, ///< packed fp32 GEMM (lopper_k_matmul_f32)
  BsrF32,   ///< block-sparse fp32, 1x16 blocks
  DenseQ8,  ///< u8 x s8 VNNI GEMM
  BsrQ8,    ///< block-sparse int8, 4x16 blocks
  ConvF32,  ///< fp32 convolution (1x1 as GEMM, KxK implicit GEMM)
  DepthwiseF32,
  ConvQ8, ///< int8 convolution
  DepthwiseQ8,
};

/// "dense-f32", "block-sparse-f32", "dense-q8", ...
const char *kernelFamilyName(KernelFamily k);

/// Dense rate in ops per second at rows M: peak * M / (M + m0).
double denseRate(KernelFamily k, double M);

/// Predicted seconds for `ops` operations (2 per multiply-add) on kernel
/// `k`, with `density` the share of weight blocks stored (1 for dense).
double predictSeconds(KernelFamily k, double ops, double M,
                      double density = 1.0);

/// Block-sparse runs only where predicted at most this share of dense:
/// nothing above a density of 0.7 was measured, so the fit is trusted with
/// a margin.
constexpr double kSparseMargin = 0.9;

/// One heavy op's kernel, for the compile report.
struct KernelChoice {
  std::string layer, op;
  std::string kernel;      ///< kernelFamilyName of the chosen kernel
  double predictedUs = 0;  ///< at the nominal shape (symbols = 1)
  double denseUs = 0;      ///< the dense kernel's prediction
  double blockDensity = 1; ///< stored share of the sparse kernel's blocks
  bool forced = false;     ///< chosen by --kernel-config
};

/// `--kernel-config`: (layer glob, "dense" | "block-sparse") in file order;
/// the first glob that matches a layer's name wins.
struct KernelConfig {
  std::vector<std::pair<std::string, std::string>> rules;
  /// The forced kind for `layer`, and the index of the rule that matched.
  std::optional<std::pair<std::string, size_t>>
  lookup(const std::string &layer) const;
};

/// Parses a --kernel-config JSON file: {"<layer glob>": "dense" |
/// "block-sparse", ...}. On failure returns false with `error` naming the
/// file and the entry.
bool parseKernelConfig(const std::string &path, KernelConfig &config,
                       std::string &error);

} // namespace lopper

#endif
