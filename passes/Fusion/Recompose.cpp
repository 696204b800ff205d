//===- Recompose.cpp - the lop-recompose pass -----------------------------===//

#include "lopper/Dialect/Lop/LopOps.h"
#include "lopper/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace lopper {
#define GEN_PASS_DEF_LOPRECOMPOSE
#include "lopper/Passes/Passes.h.inc"
} // namespace lopper

using namespace mlir;
using namespace lopper;

namespace {

/// The value of a constant that holds one distinct value (a scalar or a
/// splat), if any.
std::optional<double> scalarConstant(Value v) {
  auto c = v.getDefiningOp<lop::ConstantOp>();
  if (!c || c.getValue().getNumElements() > 16)
    return std::nullopt;
  auto vals = lop::readElementsAsDouble(c.getValue());
  if (!vals || vals->empty())
    return std::nullopt;
  for (double x : *vals)
    if (x != (*vals)[0])
      return std::nullopt;
  return (*vals)[0];
}

bool near(std::optional<double> v, double want) {
  return v && std::fabs(*v - want) <= 1e-4 * std::fabs(want);
}

/// The leaves of a tree of single-use multiplications rooted at `v`.
void mulLeaves(Value v, bool root, SmallVectorImpl<Value> &leaves) {
  auto mul = v.getDefiningOp<lop::MulOp>();
  if (mul && (root || mul->hasOneUse()) && leaves.size() < 4) {
    mulLeaves(mul.getLhs(), false, leaves);
    mulLeaves(mul.getRhs(), false, leaves);
    return;
  }
  leaves.push_back(v);
}

/// add(erf(.), c) or add(c, erf(.)).
bool isOnePlusErf(Value v) {
  auto add = v.getDefiningOp<lop::AddOp>();
  return add && (add.getLhs().getDefiningOp<lop::ErfOp>() ||
                 add.getRhs().getDefiningOp<lop::ErfOp>());
}

/// x * 0.5 * (1 + erf(x / sqrt 2)) -> gelu(x).
struct RecomposeGelu : OpRewritePattern<lop::MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(lop::MulOp mul,
                                PatternRewriter &rw) const override {
    SmallVector<Value, 4> leaves;
    mulLeaves(mul.getResult(), true, leaves);
    if (leaves.size() != 3)
      return failure();
    Value half, onePlusErf, x;
    for (Value l : leaves) {
      if (!half && near(scalarConstant(l), 0.5))
        half = l;
      else if (!onePlusErf && isOnePlusErf(l))
        onePlusErf = l;
      else
        x = l;
    }
    if (!half || !onePlusErf || !x)
      return failure();
    auto add = onePlusErf.getDefiningOp<lop::AddOp>();
    if (!add->hasOneUse())
      return failure();
    lop::ErfOp erf = add.getLhs().getDefiningOp<lop::ErfOp>();
    Value one = add.getRhs();
    if (!erf) {
      erf = add.getRhs().getDefiningOp<lop::ErfOp>();
      one = add.getLhs();
    }
    if (!erf || !erf->hasOneUse() || !near(scalarConstant(one), 1.0))
      return failure();
    Operation *scaled = erf.getInput().getDefiningOp();
    if (!scaled || !scaled->hasOneUse() || scaled->getOperand(0) != x)
      return failure();
    bool ok = (isa<lop::DivOp>(scaled) &&
               near(scalarConstant(scaled->getOperand(1)), std::sqrt(2.0))) ||
              (isa<lop::MulOp>(scaled) &&
               near(scalarConstant(scaled->getOperand(1)), std::sqrt(0.5)));
    if (!ok || x.getType() != mul.getType())
      return failure();
    rw.replaceOpWithNewOp<lop::GeluOp>(mul, mul.getType(), x, "none");
    return success();
  }
};

/// The single reduction axis of a keepdims reduce_mean over the last axis.
bool isLastAxisMean(lop::ReduceMeanOp r) {
  auto t = cast<RankedTensorType>(r.getInput().getType());
  return r.getKeepdims() && r.getAxes().size() == 1 &&
         r.getAxes()[0] == t.getRank() - 1;
}

/// (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) * gamma + beta.
struct RecomposeLayerNorm : OpRewritePattern<lop::DivOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(lop::DivOp div,
                                PatternRewriter &rw) const override {
    auto sub = div.getLhs().getDefiningOp<lop::SubOp>();
    auto sqrt = div.getRhs().getDefiningOp<lop::SqrtOp>();
    if (!sub || !sqrt || !sqrt->hasOneUse())
      return failure();
    auto mean = sub.getRhs().getDefiningOp<lop::ReduceMeanOp>();
    Value x = sub.getLhs();
    if (!mean || mean.getInput() != x || !isLastAxisMean(mean))
      return failure();
    auto addEps = sqrt.getInput().getDefiningOp<lop::AddOp>();
    if (!addEps || !addEps->hasOneUse())
      return failure();
    auto eps = scalarConstant(addEps.getRhs());
    auto varMean = addEps.getLhs().getDefiningOp<lop::ReduceMeanOp>();
    if (!eps || !varMean || !isLastAxisMean(varMean))
      return failure();
    Operation *sq = varMean.getInput().getDefiningOp();
    bool square = false;
    if (auto pow = dyn_cast_or_null<lop::PowOp>(sq))
      square = pow.getLhs() == sub && near(scalarConstant(pow.getRhs()), 2.0);
    else if (auto m = dyn_cast_or_null<lop::MulOp>(sq))
      square = m.getLhs() == sub && m.getRhs() == sub;
    if (!square || x.getType() != div.getType())
      return failure();
    // Every use of the centred value is the square or this division.
    for (Operation *u : sub->getUsers())
      if (u != sq && u != div)
        return failure();

    // Optional affine tail: mul by gamma, then add beta.
    auto xt = cast<RankedTensorType>(x.getType());
    int64_t width = xt.getDimSize(xt.getRank() - 1);
    if (ShapedType::isDynamic(width))
      return failure();
    Operation *last = div;
    Value gamma, beta;
    auto vectorOf = [&](Value v) -> bool {
      auto t = dyn_cast<RankedTensorType>(v.getType());
      auto c = v.getDefiningOp<lop::ConstantOp>();
      return c && t && t.getRank() == 1 && t.getDimSize(0) == width &&
             t.getElementType().isF32();
    };
    if (div->hasOneUse())
      if (auto m = dyn_cast<lop::MulOp>(*div->getUsers().begin()))
        if (m.getLhs() == div.getResult() && vectorOf(m.getRhs()) &&
            m.getType() == div.getType()) {
          gamma = m.getRhs();
          last = m;
          if (m->hasOneUse())
            if (auto a = dyn_cast<lop::AddOp>(*m->getUsers().begin()))
              if (a.getLhs() == m.getResult() && vectorOf(a.getRhs()) &&
                  a.getType() == div.getType()) {
                beta = a.getRhs();
                last = a;
              }
        }
    rw.setInsertionPoint(last);
    if (!gamma) {
      std::vector<float> ones(width, 1.0f);
      gamma = lop::createF32Constant(rw, div.getLoc(), {width}, ones,
                                     "layer_norm_scale");
    }
    auto ln = lop::LayerNormOp::create(rw, last->getLoc(), x, gamma, beta,
                                       rw.getI64IntegerAttr(xt.getRank() - 1),
                                       rw.getF32FloatAttr((float)*eps));
    rw.replaceOp(last, ln.getResult());
    return success();
  }
};

struct LopRecompose : lopper::impl::LopRecomposeBase<LopRecompose> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RecomposeGelu, RecomposeLayerNorm>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
