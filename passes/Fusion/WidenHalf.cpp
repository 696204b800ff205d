//===- WidenHalf.cpp - the lop-widen-half pass ----------------------------===//
//
// fp16 and bf16 models compute in fp32, rounded to the model's type after
// every op (what ONNX Runtime's CPU kernels do for most fp16 ops). The
// elementwise ops, casts and data movement are lowered for half types
// directly (each computes in f32 and rounds its result); every other op
// with a half-precision operand or result is rewritten here to take f32
// operands (a cast in front, or a widened constant) and give an f32 result
// that is cast back to the model's type.
//
//===----------------------------------------------------------------------===//

#include "lopper/Dialect/Lop/LopOps.h"
#include "lopper/Passes/Passes.h"

#include "llvm/ADT/APFloat.h"

namespace lopper {
#define GEN_PASS_DEF_LOPWIDENHALF
#include "lopper/Passes/Passes.h.inc"
} // namespace lopper

using namespace mlir;
using namespace lopper;

namespace {

bool isHalf(Type t) {
  auto st = dyn_cast<ShapedType>(t);
  Type e = st ? st.getElementType() : t;
  return e.isF16() || e.isBF16();
}

Type widened(Type t) {
  auto rt = cast<RankedTensorType>(t);
  return RankedTensorType::get(rt.getShape(), Float32Type::get(t.getContext()));
}

/// Ops the code generator runs on half types itself.
bool native(Operation *op) {
  return isa<lop::AddOp, lop::SubOp, lop::MulOp, lop::DivOp, lop::PowOp,
             lop::EqualOp, lop::LessOp, lop::GreaterOp, lop::WhereOp,
             lop::SqrtOp, lop::ReciprocalOp, lop::ExpOp, lop::LogOp, lop::NegOp,
             lop::AbsOp, lop::ErfOp, lop::TanhOp, lop::SigmoidOp, lop::ReluOp,
             lop::HardSwishOp, lop::LeakyReluOp, lop::EluOp, lop::HardSigmoidOp,
             lop::GeluOp, lop::ClipOp, lop::CastOp, lop::ConstantOp,
             lop::ConstantOfShapeOp, lop::ReshapeOp, lop::FlattenOp,
             lop::SqueezeOp, lop::UnsqueezeOp, lop::TransposeOp, lop::ConcatOp,
             lop::SliceOp, lop::GatherOp, lop::ExpandOp, lop::ShapeOp>(op);
}

/// A half constant as an f32 constant (exact).
Value widenConstant(OpBuilder &b, lop::ConstantOp c) {
  auto t = cast<RankedTensorType>(c.getType());
  std::vector<uint8_t> bytes;
  if (!lop::getConstantBytes(c, bytes))
    return {};
  int64_t n = t.getNumElements();
  std::vector<float> out(n);
  const llvm::fltSemantics &sem = t.getElementType().isF16()
                                      ? llvm::APFloat::IEEEhalf()
                                      : llvm::APFloat::BFloat();
  for (int64_t i = 0; i < n; ++i) {
    uint16_t bits;
    memcpy(&bits, bytes.data() + 2 * i, 2);
    llvm::APFloat v(sem, llvm::APInt(16, bits));
    bool lost;
    v.convert(llvm::APFloat::IEEEsingle(), llvm::APFloat::rmNearestTiesToEven,
              &lost);
    out[i] = v.convertToFloat();
  }
  return lop::createF32Constant(b, c.getLoc(), t.getShape(), out, "widened")
      .getResult();
}

struct LopWidenHalf : lopper::impl::LopWidenHalfBase<LopWidenHalf> {
  void runOnOperation() override {
    SmallVector<Operation *> todo;
    getOperation().walk([&](Operation *op) {
      if (op->getParentOp() != getOperation() || native(op) ||
          op->hasTrait<OpTrait::IsTerminator>())
        return;
      bool half = llvm::any_of(op->getOperandTypes(), isHalf) ||
                  llvm::any_of(op->getResultTypes(), isHalf);
      if (half)
        todo.push_back(op);
    });
    OpBuilder b(&getContext());
    for (Operation *op : todo) {
      b.setInsertionPoint(op);
      for (OpOperand &use : op->getOpOperands()) {
        Value v = use.get();
        if (!isHalf(v.getType()))
          continue;
        Value w;
        if (auto c = v.getDefiningOp<lop::ConstantOp>())
          w = widenConstant(b, c);
        if (!w)
          w = lop::CastOp::create(b, op->getLoc(), widened(v.getType()), v,
                                  TypeAttr::get(b.getF32Type()));
        use.set(w);
      }
      b.setInsertionPointAfter(op);
      for (OpResult r : op->getResults()) {
        Type orig = r.getType();
        if (!isHalf(orig))
          continue;
        r.setType(widened(orig));
        auto back = lop::CastOp::create(
            b, op->getLoc(), orig, r,
            TypeAttr::get(cast<ShapedType>(orig).getElementType()));
        r.replaceAllUsesExcept(back.getResult(), back);
      }
    }
  }
};

} // namespace
