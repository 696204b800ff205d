//===- OnnxExporter.h - the lop dialect back to ONNX ------------*- C++ -*-===//

#ifndef LOPPER_EXPORT_ONNXEXPORTER_H
#define LOPPER_EXPORT_ONNXEXPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace lopper {

/// Writes `module`'s @main as a binary ONNX ModelProto to `os`. Each lop op
/// becomes the ONNX node it was imported from (an op with an epilogue
/// becomes the heavy node followed by its Add/activation nodes); constants
/// become initializers. Fails with one line per problem in `errors`, naming
/// the op, for ops or types ONNX cannot express.
mlir::LogicalResult exportOnnx(mlir::ModuleOp module, llvm::raw_ostream &os,
                               std::vector<std::string> &errors);

} // namespace lopper

#endif
