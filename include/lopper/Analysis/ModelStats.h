//===- ModelStats.h - op histogram, parameters, MACs ------------*- C++ -*-===//

#ifndef LOPPER_ANALYSIS_MODELSTATS_H
#define LOPPER_ANALYSIS_MODELSTATS_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lopper {

/// What `lopper inspect` and `lop-print-model-stats` report about a module.
struct ModelStats {
  /// Op count by ONNX-style name ("Conv", "MatMul", ...), sorted by name.
  std::map<std::string, int64_t> ops;
  int64_t nodes = 0;
  int64_t parameters = 0;
  int64_t parameterBytes = 0;
  /// Multiply-accumulates of the heavy ops, by op name.
  std::map<std::string, int64_t> macsByOp;
  int64_t macs = 0;
  /// FLOPs: 2 per MAC plus one per output element of every other op.
  int64_t flops = 0;
  /// FLOPs by op name, every op kind.
  std::map<std::string, int64_t> flopsByOp;
};

/// Computes the statistics of every function in `module`; a dynamic
/// dimension counts as `dynamicDimValue`.
ModelStats computeModelStats(mlir::ModuleOp module,
                             int64_t dynamicDimValue = 1);

/// One op's share of the statistics, for per-layer reports.
struct OpStats {
  mlir::Operation *op = nullptr;
  /// The ONNX node name (the op's NameLoc), or "" when it has none.
  std::string name;
  /// ONNX-style op name, as in ModelStats::ops.
  std::string opType;
  /// Elements and bytes of the constants among its operands (directly or
  /// through a dequantize).
  int64_t parameters = 0, parameterBytes = 0;
  /// As in ModelStats: MACs of the heavy ops, FLOPs of every op.
  int64_t macs = 0, flops = 0;
};

/// The per-op statistics of every non-constant `lop` op in `module`, in
/// walk order; their MACs and FLOPs add up to computeModelStats'.
std::vector<OpStats> computeOpStats(mlir::ModuleOp module,
                                    int64_t dynamicDimValue = 1);

/// Prints `stats` as aligned text, or as one JSON object with the keys
/// ops, nodes, parameters, parameter_bytes, macs, flops, macs_by_op and
/// flops_by_op.
void printModelStats(const ModelStats &stats, llvm::raw_ostream &os, bool json,
                     llvm::StringRef modelName = "", int64_t opset = 0);

} // namespace lopper

#endif
