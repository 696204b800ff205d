//===- Metrics.h - accuracy metrics between two models' tensors -*- C++ -*-===//
//
// Agreement of a compressed model's tensors with the original's, accumulated
// over samples: every metric is of the concatenation of all samples, not a
// mean of per-sample values.
//
//===----------------------------------------------------------------------===//
#ifndef LOPPER_TOOLS_LOPPER_METRICS_H
#define LOPPER_TOOLS_LOPPER_METRICS_H

#include "TensorFiles.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lopper::tools {

/// The metrics of everything added so far.
struct Metrics {
  /// max |a - e| over finite pairs.
  double maxAbs = 0;
  /// ||a - e|| / ||e|| (||a - e|| when ||e|| is 0).
  double relL2 = 0;
  /// a . e / (||a|| ||e||); 1 when both are zero, 0 when one is.
  double cosine = 1;
  /// The fraction of rows whose argmax agrees, for 2-D float [N, classes]
  /// tensors (classes > 1); std::nullopt for other tensors.
  std::optional<double> top1;
  int64_t top1Rows = 0, top1Agree = 0;
  /// Elements compared, and those where a or e is NaN or infinite and the
  /// two are not the same value (left out of the other metrics).
  int64_t elements = 0, nonFinite = 0;
  int64_t samples = 0;
};

/// Accumulates the agreement of `actual` (the compressed model) with
/// `expected` (the original) over samples.
class MetricsAccumulator {
public:
  /// Adds one sample; the two must have the same shape (dtypes may differ)
  /// and the same rank as earlier samples, else `error` says why.
  bool add(const HostTensor &actual, const HostTensor &expected,
           std::string &error);
  Metrics result() const;

private:
  double maxAbs = 0, diff2 = 0, exp2 = 0, act2 = 0, dot = 0;
  int64_t elements = 0, nonFinite = 0, samples = 0;
  int64_t top1Rows = 0, top1Agree = 0;
  bool classifier = true;
};

/// One compared tensor: a model output or a tap (a node's result).
struct TensorMetrics {
  std::string name;
  Metrics metrics;
};

struct VerifyResult {
  int64_t samples = 0;
  std::vector<TensorMetrics> outputs;
  /// Every tap compared, worst (largest relative L2 error) first.
  std::vector<TensorMetrics> layers;
  /// Taps both artifacts have but with different shapes or dtypes.
  int64_t layersSkipped = 0;
};

/// The result as JSON: {"samples", "outputs": [...], "layers": [worst
/// `maxLayers`], "layers_compared", "layers_skipped"}.
llvm::json::Object verifyResultToJson(const VerifyResult &result,
                                      size_t maxLayers);

/// Prints the per-output and worst-layer tables.
void printVerifyResult(const VerifyResult &result, size_t maxLayers,
                       llvm::raw_ostream &os);

} // namespace lopper::tools

#endif
