//===- FoldBatchNorm.cpp - the lop-fold-batchnorm pass --------------------===//

#include "HeavyOp.h"
#include "lopper/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace lopper {
#define GEN_PASS_DEF_LOPFOLDBATCHNORM
#include "lopper/Passes/Passes.h.inc"
} // namespace lopper

using namespace mlir;
using namespace lopper;
using namespace lopper::fusion;

namespace {

struct FoldBatchNorm : OpRewritePattern<lop::BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(lop::BatchNormOp bn,
                                PatternRewriter &rw) const override {
    HeavyOp h = HeavyOp::get(bn.getInput().getDefiningOp());
    if (!h || !h.result().hasOneUse() || !h.isF32() || h.residual() ||
        h.activation() != lop::ActivationKind::none)
      return rw.notifyMatchFailure(bn, "not a foldable producer");
    if (h.resultType() != bn.getType())
      return rw.notifyMatchFailure(bn, "result types differ");
    auto gamma = lop::getConstantF32(bn.getScale());
    auto beta = lop::getConstantF32(bn.getBias());
    auto mean = lop::getConstantF32(bn.getMean());
    auto var = lop::getConstantF32(bn.getVariance());
    auto w = lop::getConstantF32(h.weight());
    if (!gamma || !beta || !mean || !var || !w)
      return rw.notifyMatchFailure(bn, "non-constant parameters");
    int64_t channels = (int64_t)gamma->size();
    if ((int64_t)beta->size() != channels ||
        (int64_t)mean->size() != channels || (int64_t)var->size() != channels)
      return failure();

    // Where the output channels sit in the weight: rows of a conv weight
    // [M, ...], columns of a [K, N] matmul/gemm weight (rows when transB).
    auto wType = cast<RankedTensorType>(h.weight().getType());
    if (!wType.hasStaticShape())
      return failure();
    int64_t chanStride = 1, chanCount = 0;
    if (isa<lop::ConvOp>(h.getOperation())) {
      chanCount = wType.getDimSize(0);
      chanStride = wType.getNumElements() / std::max<int64_t>(chanCount, 1);
    } else {
      if (wType.getRank() != 2 || h.resultType().getRank() != 2)
        return rw.notifyMatchFailure(bn, "only 2-D gemm/matmul");
      auto g = dyn_cast<lop::GemmOp>(h.getOperation());
      if (g && g.getBeta().convertToDouble() != 1.0 && h.bias())
        return rw.notifyMatchFailure(bn, "gemm beta != 1");
      bool transB = g && g.getTransB();
      chanCount = wType.getDimSize(transB ? 0 : 1);
      chanStride = transB ? wType.getDimSize(1) : 1;
    }
    if (chanCount != channels)
      return failure();
    std::vector<float> b(channels, 0.0f);
    if (Value bias = h.bias()) {
      auto bv = lop::getConstantF32(bias);
      auto bt = cast<RankedTensorType>(bias.getType());
      if (!bv || bt.getRank() != 1 || (int64_t)bv->size() != channels)
        return rw.notifyMatchFailure(bn, "bias not a constant vector");
      b = *bv;
    }

    double eps = bn.getEpsilon().convertToDouble();
    std::vector<double> s(channels);
    for (int64_t c = 0; c < channels; ++c)
      s[c] = (double)(*gamma)[c] / std::sqrt((double)(*var)[c] + eps);
    std::vector<float> nw(*w), nb(channels);
    bool rowMajorChannels = isa<lop::ConvOp>(h.getOperation()) ||
                            (chanStride != 1 && wType.getRank() == 2);
    int64_t n = (int64_t)nw.size();
    if (rowMajorChannels) {
      for (int64_t i = 0; i < n; ++i)
        nw[i] = (float)((double)nw[i] * s[i / chanStride]);
    } else {
      for (int64_t i = 0; i < n; ++i)
        nw[i] = (float)((double)nw[i] * s[i % channels]);
    }
    for (int64_t c = 0; c < channels; ++c)
      nb[c] = (float)(((double)b[c] - (*mean)[c]) * s[c] + (*beta)[c]);

    rw.setInsertionPoint(h.getOperation());
    auto wc = lop::createF32Constant(rw, h.weight().getLoc(), wType.getShape(),
                                     nw, "bn_folded_weight");
    auto bc = lop::createF32Constant(rw, bn.getLoc(), {channels}, nb,
                                     "bn_folded_bias");
    rw.modifyOpInPlace(h.getOperation(), [&] {
      h->setOperand(1, wc.getResult());
      h.setBias(bc.getResult());
      h->setLoc(bn.getLoc());
    });
    rw.replaceOp(bn, h.result());
    return success();
  }
};

struct LopFoldBatchNorm : lopper::impl::LopFoldBatchNormBase<LopFoldBatchNorm> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldBatchNorm>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
