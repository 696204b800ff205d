//===- HeavyOp.cpp - uniform access to conv/gemm/matmul epilogues ---------===//

#include "HeavyOp.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace lopper;
using namespace lopper::fusion;

Value HeavyOp::bias() const {
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case<lop::ConvOp, lop::GemmOp, lop::MatMulOp>(
          [](auto o) { return o.getBias(); })
      .Default([](Operation *) { return Value(); });
}

Value HeavyOp::residual() const {
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case<lop::ConvOp, lop::GemmOp, lop::MatMulOp>(
          [](auto o) { return o.getResidual(); })
      .Default([](Operation *) { return Value(); });
}

bool HeavyOp::isF32() const {
  for (Value v : op->getOperands())
    if (!cast<RankedTensorType>(v.getType()).getElementType().isF32())
      return false;
  return resultType().getElementType().isF32();
}

void HeavyOp::setBias(Value v) const {
  llvm::TypeSwitch<Operation *>(op)
      .Case<lop::ConvOp, lop::GemmOp, lop::MatMulOp>(
          [&](auto o) { o.getBiasMutable().assign(v); });
}

void HeavyOp::setResidual(Value v) const {
  llvm::TypeSwitch<Operation *>(op)
      .Case<lop::ConvOp, lop::GemmOp, lop::MatMulOp>(
          [&](auto o) { o.getResidualMutable().assign(v); });
}

void HeavyOp::setActivation(lop::ActivationKind k, std::optional<float> alpha,
                            std::optional<float> beta) const {
  Builder b(op->getContext());
  op->setAttr("activation", lop::ActivationKindAttr::get(op->getContext(), k));
  if (alpha)
    op->setAttr("activation_alpha", b.getF32FloatAttr(*alpha));
  if (beta)
    op->setAttr("activation_beta", b.getF32FloatAttr(*beta));
}
