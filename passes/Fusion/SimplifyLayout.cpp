//===- SimplifyLayout.cpp - the lop-simplify-layout pass ------------------===//

#include "lopper/Dialect/Lop/LopOps.h"
#include "lopper/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace lopper {
#define GEN_PASS_DEF_LOPSIMPLIFYLAYOUT
#include "lopper/Passes/Passes.h.inc"
} // namespace lopper

using namespace mlir;
using namespace lopper;

namespace {

bool isIdentity(ArrayRef<int64_t> perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != (int64_t)i)
      return false;
  return true;
}

struct ComposeTransposes : OpRewritePattern<lop::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(lop::TransposeOp op,
                                PatternRewriter &rw) const override {
    if (isIdentity(op.getPerm()) && op.getInput().getType() == op.getType()) {
      rw.replaceOp(op, op.getInput());
      return success();
    }
    auto inner = op.getInput().getDefiningOp<lop::TransposeOp>();
    if (!inner)
      return failure();
    // out[i] = in[p2[i]] = x[p1[p2[i]]]
    ArrayRef<int64_t> p1 = inner.getPerm(), p2 = op.getPerm();
    SmallVector<int64_t> perm;
    for (int64_t i : p2)
      perm.push_back(p1[i]);
    Value x = inner.getInput();
    if (isIdentity(perm) && x.getType() == op.getType()) {
      rw.replaceOp(op, x);
      return success();
    }
    rw.replaceOpWithNewOp<lop::TransposeOp>(op, op.getType(), x,
                                            rw.getDenseI64ArrayAttr(perm));
    return success();
  }
};

struct SimplifyReshape : OpRewritePattern<lop::ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(lop::ReshapeOp op,
                                PatternRewriter &rw) const override {
    auto it = cast<RankedTensorType>(op.getInput().getType());
    if (it == op.getType() && it.hasStaticShape()) {
      rw.replaceOp(op, op.getInput());
      return success();
    }
    auto inner = op.getInput().getDefiningOp<lop::ReshapeOp>();
    auto shape = lop::getConstantIntValues(op.getShape());
    if (!inner || !shape || op.getAllowzero() || llvm::is_contained(*shape, 0))
      return failure();
    rw.replaceOpWithNewOp<lop::ReshapeOp>(op, op.getType(), inner.getInput(),
                                          op.getShape(), false);
    return success();
  }
};

struct SqueezeOfUnsqueeze : OpRewritePattern<lop::SqueezeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(lop::SqueezeOp op,
                                PatternRewriter &rw) const override {
    auto inner = op.getInput().getDefiningOp<lop::UnsqueezeOp>();
    if (!inner || inner.getAxes() != op.getAxes() ||
        inner.getInput().getType() != op.getType())
      return failure();
    rw.replaceOp(op, inner.getInput());
    return success();
  }
};

struct LopSimplifyLayout
    : lopper::impl::LopSimplifyLayoutBase<LopSimplifyLayout> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ComposeTransposes, SimplifyReshape, SqueezeOfUnsqueeze>(
        &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
