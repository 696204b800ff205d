//===- FoldConstants.cpp - the lop-fold-constants pass --------------------===//

#include "lopper/Dialect/Lop/LopOps.h"
#include "lopper/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>
#include <cstring>

namespace lopper {
#define GEN_PASS_DEF_LOPFOLDCONSTANTS
#include "lopper/Passes/Passes.h.inc"
} // namespace lopper

using namespace mlir;
using namespace lopper;

namespace {

RankedTensorType staticType(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.hasStaticShape() ? t : RankedTensorType();
}

/// Shape ops of a constant: the same bytes under the result type.
template <typename OpT> struct FoldViewOfConstant : OpRewritePattern<OpT> {
  FoldViewOfConstant(MLIRContext *ctx, int64_t maxElements)
      : OpRewritePattern<OpT>(ctx), maxElements(maxElements) {}

  LogicalResult matchAndRewrite(OpT op, PatternRewriter &rw) const override {
    auto c = op->getOperand(0).template getDefiningOp<lop::ConstantOp>();
    RankedTensorType rt = staticType(op->getResult(0));
    if (!c || !rt || rt.getNumElements() > maxElements)
      return failure();
    std::vector<uint8_t> bytes;
    if (!lop::getConstantBytes(c, bytes))
      return failure();
    rw.replaceOp(op,
                 lop::createConstant(
                     rw, op.getLoc(), rt,
                     ArrayRef<char>((const char *)bytes.data(), bytes.size()),
                     "folded")
                     .getResult());
    return success();
  }
  int64_t maxElements;
};

struct FoldTransposeOfConstant : OpRewritePattern<lop::TransposeOp> {
  FoldTransposeOfConstant(MLIRContext *ctx, int64_t maxElements)
      : OpRewritePattern(ctx), maxElements(maxElements) {}

  LogicalResult matchAndRewrite(lop::TransposeOp op,
                                PatternRewriter &rw) const override {
    auto c = op.getInput().getDefiningOp<lop::ConstantOp>();
    RankedTensorType it = staticType(op.getInput());
    RankedTensorType rt = staticType(op.getResult());
    if (!c || !it || !rt || rt.getNumElements() > maxElements)
      return failure();
    std::vector<uint8_t> bytes;
    if (!lop::getConstantBytes(c, bytes))
      return failure();
    int64_t rank = it.getRank();
    int64_t eb = lop::getStorageBytes(it.getElementType());
    SmallVector<int64_t> inStride(rank, 1);
    for (int64_t i = rank - 2; i >= 0; --i)
      inStride[i] = inStride[i + 1] * it.getDimSize(i + 1);
    ArrayRef<int64_t> perm = op.getPerm();
    std::vector<uint8_t> out(bytes.size());
    SmallVector<int64_t> idx(rank, 0);
    int64_t n = rt.getNumElements();
    for (int64_t o = 0; o < n; ++o) {
      int64_t src = 0;
      for (int64_t d = 0; d < rank; ++d)
        src += idx[d] * inStride[perm[d]];
      memcpy(out.data() + o * eb, bytes.data() + src * eb, eb);
      for (int64_t d = rank - 1; d >= 0; --d) {
        if (++idx[d] < rt.getDimSize(d))
          break;
        idx[d] = 0;
      }
    }
    rw.replaceOp(op, lop::createConstant(
                         rw, op.getLoc(), rt,
                         ArrayRef<char>((const char *)out.data(), out.size()),
                         "folded")
                         .getResult());
    return success();
  }
  int64_t maxElements;
};

/// Element `o` of a broadcast operand of type `t` for result type `rt`.
int64_t broadcastIndex(RankedTensorType t, RankedTensorType rt,
                       ArrayRef<int64_t> ridx) {
  int64_t offset = rt.getRank() - t.getRank(), flat = 0;
  for (int64_t d = 0; d < t.getRank(); ++d) {
    int64_t size = t.getDimSize(d);
    flat = flat * size + (size == 1 ? 0 : ridx[d + offset]);
  }
  return flat;
}

template <typename OpT> struct FoldBinaryOfConstants : OpRewritePattern<OpT> {
  FoldBinaryOfConstants(MLIRContext *ctx, int64_t maxElements)
      : OpRewritePattern<OpT>(ctx), maxElements(maxElements) {}

  LogicalResult matchAndRewrite(OpT op, PatternRewriter &rw) const override {
    auto a = lop::getConstantF32(op.getLhs());
    auto b = lop::getConstantF32(op.getRhs());
    RankedTensorType at = staticType(op.getLhs()), bt = staticType(op.getRhs()),
                     rt = staticType(op.getResult());
    if (!a || !b || !at || !bt || !rt || !rt.getElementType().isF32() ||
        rt.getNumElements() > maxElements)
      return failure();
    int64_t n = rt.getNumElements(), rank = rt.getRank();
    std::vector<float> out(n);
    SmallVector<int64_t> idx(rank, 0);
    for (int64_t o = 0; o < n; ++o) {
      float x = (*a)[broadcastIndex(at, rt, idx)];
      float y = (*b)[broadcastIndex(bt, rt, idx)];
      if constexpr (std::is_same_v<OpT, lop::AddOp>)
        out[o] = x + y;
      else if constexpr (std::is_same_v<OpT, lop::SubOp>)
        out[o] = x - y;
      else if constexpr (std::is_same_v<OpT, lop::MulOp>)
        out[o] = x * y;
      else
        out[o] = x / y;
      for (int64_t d = rank - 1; d >= 0; --d) {
        if (++idx[d] < rt.getDimSize(d))
          break;
        idx[d] = 0;
      }
    }
    rw.replaceOp(op, lop::createF32Constant(rw, op.getLoc(), rt.getShape(), out,
                                            "folded")
                         .getResult());
    return success();
  }
  int64_t maxElements;
};

template <typename OpT> struct FoldUnaryOfConstant : OpRewritePattern<OpT> {
  FoldUnaryOfConstant(MLIRContext *ctx, int64_t maxElements)
      : OpRewritePattern<OpT>(ctx), maxElements(maxElements) {}

  LogicalResult matchAndRewrite(OpT op, PatternRewriter &rw) const override {
    auto a = lop::getConstantF32(op.getInput());
    RankedTensorType rt = staticType(op.getResult());
    if (!a || !rt || rt.getNumElements() > maxElements)
      return failure();
    for (float &x : *a) {
      if constexpr (std::is_same_v<OpT, lop::NegOp>)
        x = -x;
      else if constexpr (std::is_same_v<OpT, lop::SqrtOp>)
        x = std::sqrt(x);
      else
        x = 1.0f / x;
    }
    rw.replaceOp(
        op, lop::createF32Constant(rw, op.getLoc(), rt.getShape(), *a, "folded")
                .getResult());
    return success();
  }
  int64_t maxElements;
};

/// ConstantOfShape with a static result: a splat constant (O(1) in the IR).
/// Small fills always fold; large ones only where a heavy op or a batch norm
/// reads them as a parameter, which needs a constant to pre-pack (the
/// onnx wheel's light models build every weight this way).
struct FoldConstantOfShape : OpRewritePattern<lop::ConstantOfShapeOp> {
  FoldConstantOfShape(MLIRContext *ctx, int64_t maxElements)
      : OpRewritePattern(ctx), maxElements(maxElements) {}

  static bool readAsParameter(Value v) {
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (isa<lop::ConvOp, lop::GemmOp, lop::MatMulOp>(user) &&
          use.getOperandNumber() > 0)
        return true;
      if (isa<lop::BatchNormOp>(user) && use.getOperandNumber() > 0)
        return true;
    }
    return false;
  }

  LogicalResult matchAndRewrite(lop::ConstantOfShapeOp op,
                                PatternRewriter &rw) const override {
    RankedTensorType rt = staticType(op.getResult());
    auto value = dyn_cast<TypedAttr>(op.getValue());
    if (!rt || !value || value.getType() != rt.getElementType())
      return failure();
    if (rt.getNumElements() > maxElements && !readAsParameter(op.getResult()))
      return failure();
    auto attr = DenseElementsAttr::get(rt, value);
    rw.replaceOpWithNewOp<lop::ConstantOp>(op, rt, attr, lop::SparsityAttr());
    return success();
  }
  int64_t maxElements;
};

struct LopFoldConstants : lopper::impl::LopFoldConstantsBase<LopFoldConstants> {
  using Base::Base;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<
        FoldViewOfConstant<lop::ReshapeOp>, FoldViewOfConstant<lop::FlattenOp>,
        FoldViewOfConstant<lop::SqueezeOp>,
        FoldViewOfConstant<lop::UnsqueezeOp>, FoldTransposeOfConstant,
        FoldBinaryOfConstants<lop::AddOp>, FoldBinaryOfConstants<lop::SubOp>,
        FoldBinaryOfConstants<lop::MulOp>, FoldBinaryOfConstants<lop::DivOp>,
        FoldUnaryOfConstant<lop::NegOp>, FoldUnaryOfConstant<lop::SqrtOp>,
        FoldUnaryOfConstant<lop::ReciprocalOp>, FoldConstantOfShape>(
        ctx, maxElements);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
