//===- LopOps.h - the lop dialect -------------------------------*- C++ -*-===//

#ifndef LOPPER_DIALECT_LOP_LOPOPS_H
#define LOPPER_DIALECT_LOP_LOPOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <optional>
#include <vector>

#include "lopper/Dialect/Lop/LopDialect.h.inc"
#include "lopper/Dialect/Lop/LopEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "lopper/Dialect/Lop/LopAttrs.h.inc"

namespace lopper::lop {
/// True when each declared type `r` refines the inferred type `l`: same
/// rank and element type (or a quantized type expressing it), and every
/// static size of `l` equal in `r`.
bool areCompatibleReturnTypes(mlir::TypeRange l, mlir::TypeRange r);
} // namespace lopper::lop

#define GET_OP_CLASSES
#include "lopper/Dialect/Lop/LopOps.h.inc"

namespace lopper::lop {

/// The values of a 0-D or 1-D integer tensor as far as they are known at
/// compile time (mlir::ShapedType::kDynamic where not), looking through
/// constants, lop.shape, concat, gather, slice, (un)squeeze, cast and integer
/// arithmetic. std::nullopt when even the number of values is unknown.
std::optional<llvm::SmallVector<int64_t>> getKnownIntValues(mlir::Value v);

/// The ONNX operator type a lop op stands for ("Conv", "MatMul", ...).
std::string getOnnxOpType(mlir::Operation *op);

/// The ONNX node name an op came from (its NameLoc, which fused ops take
/// from the last node they absorb), else the op's name.
std::string getNodeName(mlir::Operation *op);

/// Bytes one element occupies in raw tensor data and blobs: a quantized
/// type's storage, one byte for i1, otherwise the bit width rounded up.
int64_t getStorageBytes(mlir::Type elem);

/// The values of a constant integer tensor, if all are known.
std::optional<llvm::SmallVector<int64_t>> getConstantIntValues(mlir::Value v);

/// The values of a constant floating-point tensor, if it is one.
std::optional<llvm::SmallVector<double>> getConstantFloatValues(mlir::Value v);

/// Reads every element of an integer or float ElementsAttr (dense or
/// dense_resource) as double; std::nullopt for other element types or
/// resources whose blob is not loaded.
std::optional<llvm::SmallVector<double>>
readElementsAsDouble(mlir::ElementsAttr attr);

/// Checks that `data` (a weight of shape `type`) has the zeros that `sp`
/// claims and the density it states.
/// The raw little-endian bytes of a constant's value in row-major order
/// (one byte per i1; the storage bytes of a quantized constant), whether it
/// is held inline or in a `dense_resource` blob. False if unreadable.
bool getConstantBytes(ConstantOp c, std::vector<uint8_t> &out);

/// The values of an f32 constant (nullopt if `v` is not one).
std::optional<std::vector<float>> getConstantF32(mlir::Value v);

/// A constant of `type` holding `bytes` (its storage bytes, row-major):
/// inline `dense<>` up to 16 elements, otherwise a 64-byte aligned blob named
/// after `blobName` (made unique by the blob manager). Never builds a dense
/// attribute in bulk.
ConstantOp createConstant(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::RankedTensorType type,
                          llvm::ArrayRef<char> bytes, llvm::StringRef blobName);
ConstantOp createF32Constant(mlir::OpBuilder &b, mlir::Location loc,
                             llvm::ArrayRef<int64_t> shape,
                             llvm::ArrayRef<float> data,
                             llvm::StringRef blobName);

mlir::LogicalResult verifySparsity(std::optional<mlir::Location> loc,
                                   mlir::ShapedType type, SparsityAttr sp,
                                   const llvm::SmallVectorImpl<double> *data);

} // namespace lopper::lop

#endif // LOPPER_DIALECT_LOP_LOPOPS_H
