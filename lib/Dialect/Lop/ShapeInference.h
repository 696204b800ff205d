//===- ShapeInference.h - result types of lop ops ---------------*- C++ -*-===//
//
// Each lop op's inferReturnTypes forwards here. These functions are also the
// ops' verifiers: with a location they report why operands do not fit.
//
//===----------------------------------------------------------------------===//

#ifndef LOPPER_LIB_DIALECT_LOP_SHAPEINFERENCE_H
#define LOPPER_LIB_DIALECT_LOP_SHAPEINFERENCE_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Value.h"
#include "mlir/IR/ValueRange.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include <optional>

namespace lopper::lop::infer {

using mlir::LogicalResult;
using mlir::Type;
using mlir::Value;
using Loc = std::optional<mlir::Location>;
using Types = llvm::SmallVectorImpl<mlir::Type>;
using Dims = llvm::SmallVector<int64_t>;

/// The epilogue operands and attributes shared by the heavy ops.
struct Epilogue {
  Value bias, residual;
};

LogicalResult sameAsInput(Loc loc, Value input, Types &types);
LogicalResult broadcast(Loc loc, llvm::ArrayRef<Value> operands,
                        Type resultElement, bool sameElements, Types &types);
LogicalResult compare(Loc loc, Value lhs, Value rhs, Types &types);
LogicalResult logical(Loc loc, Value lhs, Value rhs, Types &types);
LogicalResult where(Loc loc, Value c, Value x, Value y, Types &types);
LogicalResult cast(Loc loc, Value input, Type to, Types &types);
LogicalResult dequantize(Loc loc, Value input, Types &types);
LogicalResult conv(Loc loc, Value input, Value weight, Epilogue ep,
                   llvm::ArrayRef<int64_t> strides,
                   llvm::ArrayRef<int64_t> pads,
                   llvm::ArrayRef<int64_t> dilations, int64_t group,
                   bool transposed, llvm::ArrayRef<int64_t> outputPadding,
                   Types &types);
LogicalResult gemm(Loc loc, Value a, Value b, Epilogue ep, bool transA,
                   bool transB, Types &types);
LogicalResult matmul(Loc loc, Value a, Value b, Epilogue ep, Types &types);
LogicalResult batchNorm(Loc loc, Value input, llvm::ArrayRef<Value> params,
                        Types &types);
LogicalResult layerNorm(Loc loc, Value input, Value scale, Value bias,
                        int64_t axis, Types &types);
LogicalResult pool(Loc loc, Value input, llvm::ArrayRef<int64_t> kernel,
                   llvm::ArrayRef<int64_t> strides,
                   llvm::ArrayRef<int64_t> pads,
                   llvm::ArrayRef<int64_t> dilations, bool ceilMode,
                   Types &types);
LogicalResult globalPool(Loc loc, Value input, Types &types);
LogicalResult reduce(Loc loc, Value input, llvm::ArrayRef<int64_t> axes,
                     bool keepdims, Types &types);
LogicalResult argMax(Loc loc, Value input, int64_t axis, bool keepdims,
                     Types &types);
LogicalResult topK(Loc loc, Value input, Value k, int64_t axis, Types &types);
LogicalResult reshape(Loc loc, Value input, Value shape, bool allowzero,
                      Types &types);
LogicalResult flatten(Loc loc, Value input, int64_t axis, Types &types);
LogicalResult transpose(Loc loc, Value input, llvm::ArrayRef<int64_t> perm,
                        Types &types);
LogicalResult squeeze(Loc loc, Value input, llvm::ArrayRef<int64_t> axes,
                      Types &types);
LogicalResult unsqueeze(Loc loc, Value input, llvm::ArrayRef<int64_t> axes,
                        Types &types);
LogicalResult concat(Loc loc, mlir::ValueRange inputs, int64_t axis,
                     Types &types);
LogicalResult split(Loc loc, Value input, int64_t axis,
                    llvm::ArrayRef<int64_t> sizes, Types &types);
LogicalResult slice(Loc loc, Value input, Value starts, Value ends, Value axes,
                    Value steps, Types &types);
LogicalResult gather(Loc loc, Value input, Value indices, int64_t axis,
                     Types &types);
LogicalResult shape(Loc loc, Value input, int64_t start, int64_t end,
                    Types &types);
LogicalResult constantOfShape(Loc loc, Value shape, mlir::TypedAttr value,
                              Types &types);
LogicalResult expand(Loc loc, Value input, Value shape, Types &types);
LogicalResult tile(Loc loc, Value input, Value repeats, Types &types);
LogicalResult range(Loc loc, Value start, Value limit, Value delta,
                    Types &types);
LogicalResult pad(Loc loc, Value input, llvm::ArrayRef<int64_t> pads,
                  llvm::StringRef mode, Types &types);
LogicalResult resize(Loc loc, Value input, Value scales, Value sizes,
                     llvm::StringRef mode, Types &types);

/// Normalizes a possibly negative axis against `rank`; std::nullopt when it
/// is out of range.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);

} // namespace lopper::lop::infer

#endif
