//===- ImporterImpl.h - state shared by the ONNX importer -------*- C++ -*-===//

#ifndef LOPPER_LIB_IMPORT_IMPORTERIMPL_H
#define LOPPER_LIB_IMPORT_IMPORTERIMPL_H

#include "lopper/Dialect/Lop/LopOps.h"
#include "lopper/Import/OnnxImporter.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"

#include <onnx/onnx_pb.h>

#include <list>
#include <memory>
#include <optional>
#include <string>

namespace lopper::import {

/// Raised inside node conversion; turned into one error line naming the node.
struct NodeError {
  std::string message;
};

/// Imports one ONNX graph into a func.func.
class GraphImporter {
public:
  GraphImporter(mlir::MLIRContext *ctx, const ImportOptions &options,
                std::string fileName, std::string baseDir, int64_t opset,
                ImportErrors &errors)
      : ctx(ctx), b(ctx), options(options), fileName(std::move(fileName)),
        baseDir(std::move(baseDir)), opset(opset), errors(errors) {}

  /// Builds @main into `module`; failure leaves the reasons in `errors`.
  mlir::LogicalResult importGraph(onnx::GraphProto &graph,
                                  mlir::ModuleOp module);

  //===--- used by the per-op conversions (ConvertNode.cpp) ---------------===//

  /// Converts one node, mapping its outputs; throws NodeError.
  void convertNode(const onnx::NodeProto &node);
  /// An opset 1-6 node in its opset 7 form (attributes renamed, a legacy
  /// axis broadcast made explicit with a reshape, a Reshape's shape
  /// attribute made an input); the other converters only know opset 7+.
  onnx::NodeProto upgradeLegacy(const onnx::NodeProto &node);

  /// The converter's name for a node: its op type, prefixed with
  /// "DOMAIN." outside the default domain ("com.microsoft.QGemm").
  static std::string converterKey(const onnx::NodeProto &node);
  /// True when the importer converts the op named by `key`.
  static bool isSupported(llvm::StringRef key);

  mlir::Value input(const onnx::NodeProto &node, int i);
  mlir::Value optionalInput(const onnx::NodeProto &node, int i);
  void setOutputs(const onnx::NodeProto &node, mlir::ValueRange values);

  /// Creates `lop.<name>` with inferred result types; throws NodeError with
  /// the verifier's reason when the operands do not fit.
  mlir::Operation *create(llvm::StringRef name, mlir::ValueRange operands,
                          llvm::ArrayRef<mlir::NamedAttribute> attrs,
                          unsigned numResults = 1);
  mlir::Value create1(llvm::StringRef name, mlir::ValueRange operands,
                      llvm::ArrayRef<mlir::NamedAttribute> attrs = {}) {
    return create(name, operands, attrs)->getResult(0);
  }

  mlir::Value constI64(llvm::ArrayRef<int64_t> values, bool scalar = false);
  mlir::Value constant(mlir::ElementsAttr value, mlir::Type resultType = {});

  /// The tensor type of `t`; throws on a bad element type or dimension.
  mlir::RankedTensorType tensorType(const onnx::TensorProto &t,
                                    llvm::StringRef what);
  /// The bytes of an external-data tensor, inside its (cached) file.
  llvm::ArrayRef<char> externalData(const onnx::TensorProto &t,
                                    llvm::StringRef what);
  mlir::ElementsAttr tensorToAttr(const onnx::TensorProto &t,
                                  llvm::StringRef what);
  /// Like tensorToAttr, but large raw data moves out of `t` into the blob.
  mlir::ElementsAttr initializerToAttr(onnx::TensorProto &t,
                                       llvm::StringRef what);
  mlir::Type elementType(int32_t onnxType, llvm::StringRef what);
  /// The type the model declares for value `name` (a graph output or a
  /// value_info entry) when it is a tensor with every dimension static;
  /// null otherwise.
  mlir::RankedTensorType declaredStaticType(const std::string &name);

  mlir::MLIRContext *ctx;
  mlir::OpBuilder b;
  const ImportOptions &options;
  std::string fileName, baseDir;
  int64_t opset;
  ImportErrors &errors;
  mlir::Location loc = mlir::UnknownLoc::get(ctx);
  llvm::StringMap<mlir::Value> values;
  llvm::StringMap<const onnx::ValueInfoProto *> declared;
  llvm::StringMap<onnx::TensorProto *> initializers;
  /// Sequence values (SequenceConstruct, SplitToSequence, ...) resolved at
  /// import: the tensors of each, in order. Positions must be known at
  /// compile time; a sequence never reaches the code generator.
  llvm::StringMap<llvm::SmallVector<mlir::Value>> sequences;
  /// The TensorProtos of ImportOptions::boundInputs (initializers points in).
  std::list<onnx::TensorProto> boundTensors;
  /// External data files by path, mapped once per model.
  /// Mapped external-data files; a blob that points into one holds a
  /// reference, so the mapping lives as long as the module needs it.
  llvm::StringMap<std::shared_ptr<llvm::MemoryBuffer>> externalFiles;
  /// The file the last externalData() call read from.
  std::shared_ptr<llvm::MemoryBuffer> lastExternalFile;
};

/// Attribute access on a node, with ONNX defaults; throws NodeError on a
/// wrong attribute type.
const onnx::AttributeProto *findAttr(const onnx::NodeProto &node,
                                     llvm::StringRef name);
int64_t attrInt(const onnx::NodeProto &node, llvm::StringRef name, int64_t def);
float attrFloat(const onnx::NodeProto &node, llvm::StringRef name, float def);
std::string attrString(const onnx::NodeProto &node, llvm::StringRef name,
                       llvm::StringRef def);
std::optional<llvm::SmallVector<int64_t>> attrInts(const onnx::NodeProto &node,
                                                   llvm::StringRef name);

} // namespace lopper::import

#endif
