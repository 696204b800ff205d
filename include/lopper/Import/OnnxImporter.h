//===- OnnxImporter.h - ONNX model to the lop dialect -----------*- C++ -*-===//

#ifndef LOPPER_IMPORT_ONNXIMPORTER_H
#define LOPPER_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <map>
#include <string>
#include <vector>

namespace lopper {

struct ImportOptions {
  /// Shapes pinned by name (`--input-shape name=1x3x224x224`); -1 keeps a
  /// dimension dynamic.
  std::map<std::string, llvm::SmallVector<int64_t>> inputShapes;
  /// When > 0, every symbolic dimension left is pinned to this size.
  int64_t pinDynamicDims = 0;
  /// Inputs whose value is fixed at compile time (`--bind-input`): each
  /// becomes a constant, as if it were an initializer, and is no longer an
  /// input of the compiled model. For ops that need a value at compile time
  /// (a Resize's sizes, a TopK's k) when the model feeds it as an input.
  struct BoundInput {
    int32_t dtype = 0; ///< ONNX TensorProto.DataType
    llvm::SmallVector<int64_t> shape;
    std::string raw; ///< little-endian, row-major
  };
  std::map<std::string, BoundInput> boundInputs;
  /// Constants with more elements than this are stored as dense_resource
  /// blobs rather than inline dense attributes.
  int64_t inlineElementLimit = 16;
};

/// What went wrong: each entry is one line naming the file and the node,
/// initializer or argument at fault.
using ImportErrors = std::vector<std::string>;

/// Imports a model file: binary protobuf, or the ONNX text syntax when the
/// file starts with '<' (after white space). External data files are read
/// relative to the model's directory.
mlir::OwningOpRef<mlir::ModuleOp> importOnnxFile(llvm::StringRef path,
                                                 mlir::MLIRContext *context,
                                                 const ImportOptions &options,
                                                 ImportErrors &errors);

/// Imports a model held in memory; `displayName` names it in errors and
/// `baseDir` is where external data files are looked up (empty: none
/// allowed).
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxBuffer(llvm::StringRef buffer, llvm::StringRef displayName,
                 llvm::StringRef baseDir, mlir::MLIRContext *context,
                 const ImportOptions &options, ImportErrors &errors);

/// Parses "name=1x3x224x224" (with "?" or "-1" for a dynamic dimension).
bool parseInputShape(llvm::StringRef spec, ImportOptions &options,
                     std::string &error);

/// Parses every `--input-shape` spec; stops at the first bad one.
bool parseInputShapes(llvm::ArrayRef<std::string> specs, ImportOptions &options,
                      std::string &error);

} // namespace lopper

#endif
