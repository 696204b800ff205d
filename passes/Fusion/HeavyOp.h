//===- HeavyOp.h - uniform access to conv/gemm/matmul epilogues -*- C++ -*-===//
//
// lop.conv, lop.gemm and lop.matmul carry the same epilogue (bias, residual,
// activation) but share no op interface; the fusion patterns read and write
// it through this small view.
//
//===----------------------------------------------------------------------===//

#ifndef LOPPER_PASSES_FUSION_HEAVYOP_H
#define LOPPER_PASSES_FUSION_HEAVYOP_H

#include "lopper/Dialect/Lop/LopOps.h"

#include "mlir/IR/PatternMatch.h"

namespace lopper::fusion {

class HeavyOp {
public:
  /// A view of `op` if it is a conv, gemm or matmul, else an invalid view.
  static HeavyOp get(mlir::Operation *op) {
    if (op && mlir::isa<lop::ConvOp, lop::GemmOp, lop::MatMulOp>(op))
      return HeavyOp(op);
    return HeavyOp(nullptr);
  }
  explicit operator bool() const { return op != nullptr; }
  mlir::Operation *operator->() const { return op; }
  mlir::Operation *getOperation() const { return op; }

  mlir::Value input() const { return op->getOperand(0); }
  mlir::Value weight() const { return op->getOperand(1); }
  mlir::Value result() const { return op->getResult(0); }
  mlir::RankedTensorType resultType() const {
    return mlir::cast<mlir::RankedTensorType>(result().getType());
  }
  mlir::Value bias() const;
  mlir::Value residual() const;
  lop::ActivationKind activation() const {
    return op->getAttrOfType<lop::ActivationKindAttr>("activation").getValue();
  }
  /// The result axis holding the output channels (1 for a conv, the last
  /// for a gemm or matmul).
  int64_t channelAxis() const {
    return mlir::isa<lop::ConvOp>(op) ? 1 : resultType().getRank() - 1;
  }
  /// True when every operand and the result are f32 tensors.
  bool isF32() const;

  /// In-place updates (call inside rewriter.modifyOpInPlace).
  void setBias(mlir::Value v) const;
  void setResidual(mlir::Value v) const;
  void setActivation(lop::ActivationKind k, std::optional<float> alpha,
                     std::optional<float> beta) const;

private:
  explicit HeavyOp(mlir::Operation *op) : op(op) {}
  mlir::Operation *op;
};

} // namespace lopper::fusion

#endif
