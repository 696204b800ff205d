//===- CompileExtras.h - lopper compile --report and --verify ---*- C++ -*-===//
//
// The hooks `lopper compile` calls around its pipeline: statistics of the
// module right after import and just before code generation, then
// verification of the written artifact, the report file and the summary.
//
//===----------------------------------------------------------------------===//
#ifndef LOPPER_TOOLS_LOPPER_COMPILEEXTRAS_H
#define LOPPER_TOOLS_LOPPER_COMPILEEXTRAS_H

#include "CalibrationData.h"
#include "Report.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace lopper {
struct CPUCompileReport;
} // namespace lopper

namespace lopper::tools {

/// `lopper compile`'s flags for the report and verification.
struct CompileExtrasOptions {
  std::string input, output;
  std::string reportPath; ///< --report=FILE.json|FILE.html
  bool verify = false;    ///< --verify
  std::string verifyData; ///< --verify-data, else --calibration-data
  std::string calibrationData;
  std::vector<std::string> inputShapes;
  bool emitsLibrary = true; ///< --emit=lib
  bool quiet = false;       ///< --quiet or -o -
};

/// The hooks in `lopper compile`: begin() right after import,
/// beforeCodegen() on the module code generation gets, finish() once the
/// artifact is written, printSummary() last.
class CompileExtras {
public:
  explicit CompileExtras(CompileExtrasOptions options)
      : options(std::move(options)) {}
  /// Checks the flags and records the imported module's totals; returns
  /// the exit status (non-zero after printing an error).
  int begin(mlir::ModuleOp imported);
  void beforeCodegen(mlir::ModuleOp module);
  /// Verifies the artifact (with --verify) and writes the report (with
  /// --report). On failure the artifact is removed and the status is 1.
  int finish(const lopper::CPUCompileReport &compiled);
  /// The summary table, unless quiet.
  void printSummary(llvm::raw_ostream &os) const;

private:
  /// --verify-data, else --calibration-data.
  std::string dataPath() const;

  CompileExtrasOptions options;
  CompileReportData data;
  /// The --verify data, read and checked before compiling.
  std::optional<Dataset> verifyData;
};

} // namespace lopper::tools

#endif
