//===- Calibrate.h - activation ranges for static int8 ----------*- C++ -*-===//
//
// Runs the fp32 model compiled by Lopper itself (in process, through the
// runtime's tensor taps) on a calibration data set and computes, for every
// tensor that feeds an op lop-quantize quantizes, the range its int8 grid
// covers.
//
//===----------------------------------------------------------------------===//

#ifndef LOPPER_TOOLS_LOPPER_CALIBRATE_H
#define LOPPER_TOOLS_LOPPER_CALIBRATE_H

#include "CalibrationData.h"

#include "lopper/Passes/Quantization.h"

#include "mlir/IR/BuiltinOps.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace lopper::tools {

enum class CalibrationMethod { MinMax, Percentile, Entropy, MSE };

/// Parses minmax | percentile | entropy | mse.
bool parseCalibrationMethod(llvm::StringRef text, CalibrationMethod &method);
const char *calibrationMethodName(CalibrationMethod method);

struct CalibrateOptions {
  CalibrationMethod method = CalibrationMethod::MinMax;
  double percentile = 99.999; // for Percentile: the kept central mass, in %
  bool unsignedActivations = true; // the u8 grid (asymmetric) or i8
  bool progress = true;            // a progress line on stderr
  std::string workDir;             // where the temporary fp32 artifact goes
};

/// Fills `table` for the quantization sites of `module` (an fp32 module,
/// after fusion). The module is not modified.
bool calibrate(mlir::ModuleOp module, const Dataset &data,
               const CalibrateOptions &options, CalibrationTable &table,
               std::string &error);

/// One quantized op's error against fp32 on a data set: relative L2 of its
/// output and of the tensor feeding it (0 for a graph input); the
/// difference is the error the op itself adds.
struct LayerError {
  std::string node;
  double outputRelL2 = 0, inputRelL2 = 0;
  double contribution() const {
    return std::max(0.0, outputRelL2 - inputRelL2);
  }
};

/// Compiles `fp32` and `quantized` (the same module before and after
/// quantizeModule) and measures every quantized op on `data` through taps.
bool measureLayerErrors(mlir::ModuleOp fp32, mlir::ModuleOp quantized,
                        const Dataset &data, std::vector<LayerError> &errors,
                        std::string &error);

/// Wanda-style importance data: for every conv/gemm/matmul with a constant
/// weight, the L2 norm over `data` of each input channel of its input
/// (axis 1 of a conv input, the last axis of a gemm/matmul input), keyed by
/// node name. Runs the fp32 `module` compiled by Lopper through taps.
bool activationNorms(mlir::ModuleOp module, const Dataset &data,
                     std::map<std::string, std::vector<double>> &norms,
                     std::string &error);

} // namespace lopper::tools

#endif
