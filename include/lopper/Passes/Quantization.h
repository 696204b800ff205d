//===- Quantization.h - int8 quantization support ---------------*- C++ -*-===//
//
// Shared by the lop-quantize pass and the calibration in `lopper compile`:
// which ops are quantized, which tensor feeds each of them (named as the
// runtime's taps name it), and the calibration table file.
//
//===----------------------------------------------------------------------===//

#ifndef LOPPER_PASSES_QUANTIZATION_H
#define LOPPER_PASSES_QUANTIZATION_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

#include <map>
#include <string>
#include <vector>

namespace lopper {

/// A conv/gemm/matmul that lop-quantize quantizes.
struct QuantizationSite {
  mlir::Operation *op = nullptr;
  std::string nodeName;
  /// The tensor feeding the op's input, past views (reshape and friends):
  /// `input:NAME` for a graph input, else the producing node's name (with
  /// `:N` for result N of a multi-result op), i.e. the runtime tap name.
  std::string tensor;
  bool graphInput = false;
  std::string graphInputName; // when graphInput
};

/// The sites of `module` in program order, minus those whose node name
/// matches one of `skip` (glob patterns).
std::vector<QuantizationSite>
findQuantizationSites(mlir::ModuleOp module,
                      llvm::ArrayRef<std::string> skip = {});

struct TensorRange {
  double min = 0, max = 0;
};

struct CalibrationTable {
  std::string method;  // minmax, percentile, entropy, mse
  int64_t samples = 0; // calibration samples seen
  std::map<std::string, TensorRange> ranges;
};

/// JSON: {"format": "lopper-calibration", "version": 1, "method": ...,
/// "samples": N, "tensors": {NAME: {"min": X, "max": Y}, ...}} with names
/// sorted and floats printed so that they read back exactly: the same
/// table gives the same bytes.
bool writeCalibrationTable(llvm::StringRef path, const CalibrationTable &table,
                           std::string &error);
bool readCalibrationTable(llvm::StringRef path, CalibrationTable &table,
                          std::string &error);

struct QuantizeOptions {
  bool dynamic = false;            // activations quantized at run time
  bool unsignedActivations = true; // static: u8 asymmetric, else i8
  std::vector<std::string> skip;   // node-name globs kept in f32
  /// An op whose f32 result only feeds a quantize writes the quantized
  /// type itself (the requantizing epilogue). Off to measure every op's
  /// f32 output through taps.
  bool requantize = true;
};

/// What lop-quantize does, with the table in memory (`table` may be null
/// for dynamic quantization).
mlir::LogicalResult quantizeModule(mlir::ModuleOp module,
                                   const QuantizeOptions &options,
                                   const CalibrationTable *table);

} // namespace lopper

#endif
