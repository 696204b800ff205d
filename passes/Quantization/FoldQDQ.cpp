//===- FoldQDQ.cpp - the lop-fold-qdq pass --------------------------------===//
//
// Imported QDQ graphs (and QOperator ops, which the importer writes in QDQ
// form) compute every heavy op in float between a dequantize and a quantize.
// This pass gives the ops the int8 kernels run the quantized operands back,
// and folds the dequantize of every other constant into f32 data.
//
//===----------------------------------------------------------------------===//

#include "lopper/Dialect/Lop/LopOps.h"
#include "lopper/Passes/Passes.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

namespace lopper {
#define GEN_PASS_DEF_LOPFOLDQDQ
#include "lopper/Passes/Passes.h.inc"
} // namespace lopper

using namespace mlir;
using namespace lopper;

namespace {

Type elemOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType();
}

/// A per-tensor 8-bit quantized type (the kernels' activations).
bool isPerTensor8(Type t) {
  auto q = dyn_cast<quant::UniformQuantizedType>(t);
  return q && q.getStorageTypeIntegralWidth() == 8;
}

/// The output-channel axis of a heavy op's weight, or -1 when the int8
/// kernels do not run the op (docs/ir-contracts.md, section 5).
int64_t kernelWeightAxis(Operation *op, RankedTensorType wt) {
  if (isa<lop::ConvOp>(op))
    return wt.getRank() == 4 ? 0 : -1;
  if (auto g = dyn_cast<lop::GemmOp>(op))
    return g.getTransA() || wt.getRank() != 2 ? -1 : (g.getTransB() ? 0 : 1);
  return wt.getRank() == 2 ? 1 : -1;
}

/// A signed 8-bit weight, symmetric (zero points 0), per tensor or per
/// output channel: the form the int8 kernels take.
bool kernelWeight(Type t, int64_t axis) {
  auto q = dyn_cast<quant::QuantizedType>(t);
  if (!q || !q.isSigned() || q.getStorageTypeIntegralWidth() != 8)
    return false;
  if (auto pt = dyn_cast<quant::UniformQuantizedType>(q))
    return pt.getZeroPoint() == 0;
  auto pa = dyn_cast<quant::UniformQuantizedPerAxisType>(q);
  return pa && pa.getQuantizedDimension() == axis &&
         llvm::all_of(pa.getZeroPoints(), [](int64_t z) { return z == 0; });
}

/// Verifies `op` without reporting: a failure only means "do not fuse".
bool verifies(Operation *op) {
  ScopedDiagnosticHandler quiet(op->getContext(),
                                [](Diagnostic &) { return success(); });
  return succeeded(verify(op));
}

void epilogueOperands(Operation *op, Value &bias, Value &residual) {
  if (auto c = dyn_cast<lop::ConvOp>(op)) {
    bias = c.getBias();
    residual = c.getResidual();
  } else if (auto g = dyn_cast<lop::GemmOp>(op)) {
    bias = g.getBias();
    residual = g.getResidual();
  } else {
    auto m = cast<lop::MatMulOp>(op);
    bias = m.getBias();
    residual = m.getResidual();
  }
}

/// `dequantize(x) -> op -> quantize` with a dequantized constant weight
/// becomes `op(x, w_q)` writing the quantized type (or f32 where the result
/// has other users). Returns true if `op` changed.
bool fuseHeavyOp(Operation *op) {
  if (!elemOf(op->getResult(0)).isF32())
    return false;
  auto dqx = op->getOperand(0).getDefiningOp<lop::DequantizeOp>();
  auto dqw = op->getOperand(1).getDefiningOp<lop::DequantizeOp>();
  if (!dqx || !dqw || !isPerTensor8(elemOf(dqx.getInput())))
    return false;
  auto wc = dqw.getInput().getDefiningOp<lop::ConstantOp>();
  auto wt = cast<RankedTensorType>(dqw.getInput().getType());
  if (!wc || !wt.hasStaticShape())
    return false;
  int64_t axis = kernelWeightAxis(op, wt);
  if (axis < 0 || !kernelWeight(wt.getElementType(), axis))
    return false;
  if (isa<lop::ConvOp>(op) &&
      cast<RankedTensorType>(op->getOperand(0).getType()).getRank() != 4)
    return false;
  // The kernels take a constant bias with one value per output channel and
  // a residual of the result's shape.
  Value bias, residual;
  epilogueOperands(op, bias, residual);
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  if (bias) {
    auto bt = cast<RankedTensorType>(bias.getType());
    if (!bias.getDefiningOp<lop::ConstantOp>() || !bt.hasStaticShape() ||
        bt.getNumElements() != wt.getDimSize(axis) ||
        !(bt.getElementType().isF32() || bt.getElementType().isInteger(32)))
      return false;
  }
  if (residual &&
      (!elemOf(residual).isF32() || residual.getType() != resultType))
    return false;
  Value oldX = op->getOperand(0), oldW = op->getOperand(1);
  op->setOperand(0, dqx.getInput());
  op->setOperand(1, dqw.getInput());
  if (!verifies(op)) {
    op->setOperand(0, oldX);
    op->setOperand(1, oldW);
    return false;
  }
  // The requantizing epilogue: the only user quantizes per tensor.
  Value y = op->getResult(0);
  if (y.hasOneUse())
    if (auto q = dyn_cast<lop::QuantizeOp>(*y.getUsers().begin()))
      if (isPerTensor8(elemOf(q.getResult()))) {
        y.setType(q.getType());
        if (verifies(op)) {
          q.getResult().replaceAllUsesWith(y);
          q->erase();
        } else {
          y.setType(resultType);
        }
      }
  return true;
}

/// The f32 values a dequantize of constant `c` gives.
FailureOr<std::vector<float>> dequantizedData(lop::ConstantOp c) {
  auto t = cast<RankedTensorType>(c.getType());
  auto q = dyn_cast<quant::QuantizedType>(t.getElementType());
  std::vector<uint8_t> bytes;
  if (!q || !t.hasStaticShape() || !lop::getConstantBytes(c, bytes))
    return failure();
  unsigned w = q.getStorageTypeIntegralWidth();
  if (w != 8 && w != 16 && w != 32)
    return failure();
  int64_t n = t.getNumElements();
  if ((int64_t)bytes.size() != n * (w / 8))
    return failure();
  auto stored = [&](int64_t i) -> int64_t {
    const uint8_t *p = bytes.data() + i * (w / 8);
    if (w == 8)
      return q.isSigned() ? (int64_t)(int8_t)p[0] : (int64_t)p[0];
    if (w == 16) {
      uint16_t v;
      memcpy(&v, p, 2);
      return q.isSigned() ? (int64_t)(int16_t)v : (int64_t)v;
    }
    uint32_t v;
    memcpy(&v, p, 4);
    return q.isSigned() ? (int64_t)(int32_t)v : (int64_t)v;
  };
  std::vector<float> out(n);
  if (auto pt = dyn_cast<quant::UniformQuantizedType>(q)) {
    for (int64_t i = 0; i < n; ++i)
      out[i] = (float)((stored(i) - pt.getZeroPoint()) * pt.getScale());
    return out;
  }
  auto pa = dyn_cast<quant::UniformQuantizedPerAxisType>(q);
  if (!pa)
    return failure();
  int64_t axis = pa.getQuantizedDimension();
  int64_t channels = t.getDimSize(axis), inner = 1;
  for (int64_t d = axis + 1; d < t.getRank(); ++d)
    inner *= t.getDimSize(d);
  for (int64_t i = 0; i < n; ++i) {
    int64_t c = (i / inner) % channels;
    out[i] = (float)((stored(i) - pa.getZeroPoints()[c]) * pa.getScales()[c]);
  }
  return out;
}

struct LopFoldQDQ : lopper::impl::LopFoldQDQBase<LopFoldQDQ> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    // Collected first: fusing erases the quantize after each op.
    SmallVector<Operation *> heavy;
    fn.walk([&](Operation *op) {
      if (isa<lop::ConvOp, lop::GemmOp, lop::MatMulOp>(op))
        heavy.push_back(op);
    });
    if (fuseHeavy)
      for (Operation *op : heavy)
        fuseHeavyOp(op);
    // No kernel reads a quantized constant through a dequantize: fold it.
    SmallVector<lop::DequantizeOp> folds;
    fn.walk([&](lop::DequantizeOp dq) {
      if (dq.getInput().getDefiningOp<lop::ConstantOp>())
        folds.push_back(dq);
    });
    for (lop::DequantizeOp dq : folds) {
      auto c = dq.getInput().getDefiningOp<lop::ConstantOp>();
      auto data = dequantizedData(c);
      if (failed(data)) {
        dq.emitOpError("cannot read the quantized constant it dequantizes");
        return signalPassFailure();
      }
      OpBuilder b(dq);
      auto rt = cast<RankedTensorType>(dq.getType());
      Value f = lop::createF32Constant(b, dq.getLoc(), rt.getShape(), *data,
                                       "dequantized");
      dq.getResult().replaceAllUsesWith(f);
      dq->erase();
      if (c->use_empty())
        c->erase();
    }
    // Dequantizes and constants the fusion left without users.
    SmallVector<Operation *> dead;
    fn.walk([&](Operation *op) {
      if (isa<lop::DequantizeOp, lop::ConstantOp>(op) && op->use_empty())
        dead.push_back(op);
    });
    for (Operation *op : llvm::reverse(dead))
      op->erase();
  }
};

} // namespace
