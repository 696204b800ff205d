//===- Report.h - the per-layer compile report ------------------*- C++ -*-===//
//
// What `lopper compile --report` writes (JSON or a self-contained HTML page)
// and the before/after table it prints: per-layer and whole-model
// statistics of a `lop` module, and the accuracy from verification.
//
//===----------------------------------------------------------------------===//
#ifndef LOPPER_TOOLS_LOPPER_REPORT_H
#define LOPPER_TOOLS_LOPPER_REPORT_H

#include "Metrics.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace lopper::tools {

/// Whole-model totals.
struct ModelTotals {
  int64_t parameters = 0, parameterBytes = 0, macs = 0, flops = 0;
};

/// One heavy op (Conv, ConvTranspose, Gemm, MatMul).
struct LayerRecord {
  std::string name, op;
  int64_t parameters = 0, parameterBytes = 0, macs = 0, flops = 0;
  /// 1 - density from the weight's #lop.sparsity, 0 without one.
  double sparsity = 0;
  /// "dense", "unstructured", "nm[2,4]", "block[4,1]".
  std::string sparsityPattern = "dense";
  /// The weight's element type ("f32", "int8", ...), looking through a
  /// dequantize.
  std::string precision;
  bool bias = false, residual = false;
  std::string activation = "none";
  /// The kernel the code generator chose ("dense-f32", "block-sparse-q8",
  /// "conv-f32", ...; see CostModel.h); before code generation, the family
  /// the operand types imply ("dense-f32" or "q8").
  std::string kernel;
  /// The cost model's predicted time at batch 1 (and the dense kernel's),
  /// in microseconds; 0 when the layer was not compiled. `kernelForced`:
  /// chosen by --kernel-config.
  double predictedUs = 0, denseUs = 0;
  bool kernelForced = false;
};

ModelTotals computeTotals(mlir::ModuleOp module);
std::vector<LayerRecord> computeLayers(mlir::ModuleOp module);

/// Everything the report says.
struct CompileReportData {
  std::string model, output;
  ModelTotals before, after;
  std::vector<LayerRecord> layers; ///< of the module before code generation
  uint64_t artifactBytes = 0;
  /// Set when the artifact was verified.
  std::optional<VerifyResult> accuracy;
  std::string accuracyData;
};

llvm::json::Object reportToJson(const CompileReportData &report);
/// One HTML page with inline CSS and SVG, no external resources.
std::string reportToHtml(const CompileReportData &report);
/// The short before/after table (and accuracy) printed after a compile.
void printSummary(const CompileReportData &report, llvm::raw_ostream &os);

} // namespace lopper::tools

#endif
