//===- CalibrationData.h - calibration and evaluation data sets -*- C++ -*-===//
//
// Reads the sample sets that `lopper verify` (and `lopper compile` for
// calibration) run through a model: ONNX test-data folders
// (test_data_set_*/input_K.pb), folders of <input>.npy files, and .npz
// archives. Every tensor is checked against the model's inputs; errors name
// the file and the input.
//
//===----------------------------------------------------------------------===//
#ifndef LOPPER_TOOLS_LOPPER_CALIBRATIONDATA_H
#define LOPPER_TOOLS_LOPPER_CALIBRATIONDATA_H

#include "TensorFiles.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <map>
#include <string>
#include <vector>

namespace lopper::tools {

/// The inputs a data set must provide, in the model's order.
struct ModelSignature {
  std::vector<TensorSig> inputs;
};

/// The inputs of an imported module's `main` (for calibration inside
/// `lopper compile`): names from `lop.name`, dim symbols from
/// `lop.input_dim_params`, dynamic dims -1. Fails on an element type that
/// tensor files cannot hold.
llvm::Expected<ModelSignature> signatureOf(mlir::ModuleOp module);

/// One sample: a tensor for every input of the signature.
struct Sample {
  /// Where it came from: "DIR/test_data_set_0", "data.npz[3]", ...
  std::string source;
  std::map<std::string, HostTensor> tensors;
};

/// The samples in a deterministic order (sorted file and folder names, then
/// the leading axis of stacked arrays).
struct Dataset {
  std::vector<Sample> samples;
};

/// Reads `path`, one of:
/// - a folder of ONNX test-data sets `test_data_set_*/input_K.pb` (input K
///   is the K-th model input, or the input the TensorProto names), or one
///   such set;
/// - a folder of `<input>.npy` files (or `.pb` named the same), or a folder
///   of such folders; an array whose rank is the input's plus one holds one
///   sample per slice of its leading axis, one of the input's rank is one
///   sample;
/// - a `.npz` archive whose keys are the input names (the same rank rule).
/// Dtypes must be the inputs' exactly; static dims must match, a symbolic
/// dim takes any size but the same one in every input of a sample.
llvm::Expected<Dataset> loadDataset(llvm::StringRef path,
                                    const ModelSignature &signature);

/// Parses a NumPy .npz image (a zip archive of .npy files, stored or
/// deflated): the arrays by key (the entry name without ".npy"), sorted.
/// Errors start with `fileName`.
bool parseNpz(llvm::StringRef bytes, llvm::StringRef fileName,
              std::vector<std::pair<std::string, HostTensor>> &out,
              std::string &error);

} // namespace lopper::tools

#endif
