//===- FuseEpilogue.cpp - the lop-fuse-epilogue pass ----------------------===//

#include "HeavyOp.h"
#include "lopper/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace lopper {
#define GEN_PASS_DEF_LOPFUSEEPILOGUE
#include "lopper/Passes/Passes.h.inc"
} // namespace lopper

using namespace mlir;
using namespace lopper;
using namespace lopper::fusion;

namespace {

/// The heavy op producing `v` if `v` is its only use's operand, f32, and
/// the op's result type is exactly `v`'s consumer's result type.
HeavyOp fusibleProducer(Value v, Type consumerType) {
  HeavyOp h = HeavyOp::get(v.getDefiningOp());
  if (!h || !h.result().hasOneUse() || !h.isF32() ||
      h.resultType() != consumerType)
    return HeavyOp::get(nullptr);
  return h;
}

/// If constant `c` broadcasts along `h`'s output channels only (every other
/// dimension 1 after numpy right-alignment), its values; else nullopt.
std::optional<std::vector<float>> channelVector(HeavyOp h, Value c) {
  auto values = lop::getConstantF32(c);
  if (!values)
    return std::nullopt;
  auto ct = cast<RankedTensorType>(c.getType());
  RankedTensorType rt = h.resultType();
  int64_t axis = h.channelAxis();
  int64_t channels = rt.getDimSize(axis);
  if (ShapedType::isDynamic(channels) || ct.getRank() > rt.getRank())
    return std::nullopt;
  int64_t offset = rt.getRank() - ct.getRank();
  for (int64_t i = 0; i < ct.getRank(); ++i) {
    int64_t d = ct.getDimSize(i);
    if (i + offset == axis ? (d != channels && d != 1) : d != 1)
      return std::nullopt;
  }
  if (values->size() == 1)
    values->assign(channels, (*values)[0]);
  if ((int64_t)values->size() != channels)
    return std::nullopt;
  return values;
}

/// add(h, c) with a per-channel constant -> bias; add(h, r) -> residual.
struct AddIntoEpilogue : OpRewritePattern<lop::AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(lop::AddOp add,
                                PatternRewriter &rw) const override {
    for (int side = 0; side < 2; ++side) {
      Value mine = side ? add.getRhs() : add.getLhs();
      Value other = side ? add.getLhs() : add.getRhs();
      HeavyOp h = fusibleProducer(mine, add.getType());
      if (!h || h.residual() || h.activation() != lop::ActivationKind::none)
        continue;
      if (auto vec = channelVector(h, other)) {
        if (Value old = h.bias()) {
          auto ov = lop::getConstantF32(old);
          auto ot = cast<RankedTensorType>(old.getType());
          if (!ov || ot.getRank() != 1 || ov->size() != vec->size())
            continue;
          for (size_t i = 0; i < vec->size(); ++i)
            (*vec)[i] += (*ov)[i];
        }
        rw.setInsertionPoint(h.getOperation());
        auto bc = lop::createF32Constant(
            rw, other.getLoc(), {(int64_t)vec->size()}, *vec, "fused_bias");
        rw.modifyOpInPlace(h.getOperation(), [&] {
          h.setBias(bc);
          h->setLoc(add.getLoc());
        });
        rw.replaceOp(add, h.result());
        return success();
      }
      if (other.getType() != add.getType() || other == h.result())
        continue;
      // The residual must dominate the heavy op: move the op down to the
      // add (its operands already dominate its old place).
      rw.moveOpBefore(h.getOperation(), add);
      rw.modifyOpInPlace(h.getOperation(), [&] {
        h.setResidual(other);
        h->setLoc(add.getLoc());
      });
      rw.replaceOp(add, h.result());
      return success();
    }
    return rw.notifyMatchFailure(add, "no fusible heavy operand");
  }
};

/// act(h) -> the epilogue activation.
template <typename OpT> struct ActivationIntoEpilogue : OpRewritePattern<OpT> {
  using OpRewritePattern<OpT>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpT op, PatternRewriter &rw) const override {
    HeavyOp h = fusibleProducer(op.getInput(), op.getType());
    if (!h || h.activation() != lop::ActivationKind::none)
      return failure();
    lop::ActivationKind kind;
    std::optional<float> alpha, beta;
    if constexpr (std::is_same_v<OpT, lop::ReluOp>) {
      kind = lop::ActivationKind::relu;
    } else if constexpr (std::is_same_v<OpT, lop::SigmoidOp>) {
      kind = lop::ActivationKind::sigmoid;
    } else if constexpr (std::is_same_v<OpT, lop::TanhOp>) {
      kind = lop::ActivationKind::tanh;
    } else if constexpr (std::is_same_v<OpT, lop::HardSwishOp>) {
      kind = lop::ActivationKind::hard_swish;
    } else if constexpr (std::is_same_v<OpT, lop::LeakyReluOp>) {
      kind = lop::ActivationKind::leaky_relu;
      alpha = op.getAlpha().convertToFloat();
    } else if constexpr (std::is_same_v<OpT, lop::GeluOp>) {
      kind = op.getApproximate() == "tanh" ? lop::ActivationKind::gelu_tanh
                                           : lop::ActivationKind::gelu;
    } else {
      static_assert(std::is_same_v<OpT, lop::ClipOp>);
      kind = lop::ActivationKind::clip;
      alpha = op.getMin() ? op.getMin()->convertToFloat()
                          : -std::numeric_limits<float>::infinity();
      beta = op.getMax() ? op.getMax()->convertToFloat()
                         : std::numeric_limits<float>::infinity();
    }
    rw.modifyOpInPlace(h.getOperation(), [&] {
      h.setActivation(kind, alpha, beta);
      h->setLoc(op.getLoc());
    });
    rw.replaceOp(op, h.result());
    return success();
  }
};

/// mul(h, sigmoid(h)) -> SiLU.
struct SiluIntoEpilogue : OpRewritePattern<lop::MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(lop::MulOp mul,
                                PatternRewriter &rw) const override {
    for (int side = 0; side < 2; ++side) {
      Value x = side ? mul.getRhs() : mul.getLhs();
      auto sig =
          (side ? mul.getLhs() : mul.getRhs()).getDefiningOp<lop::SigmoidOp>();
      if (!sig || sig.getInput() != x || !sig->hasOneUse())
        continue;
      HeavyOp h = HeavyOp::get(x.getDefiningOp());
      if (!h || !h.isF32() || h.activation() != lop::ActivationKind::none ||
          h.resultType() != mul.getType() ||
          std::distance(x.use_begin(), x.use_end()) != 2)
        continue;
      rw.modifyOpInPlace(h.getOperation(), [&] {
        h.setActivation(lop::ActivationKind::silu, std::nullopt, std::nullopt);
        h->setLoc(mul.getLoc());
      });
      rw.replaceOp(mul, h.result());
      rw.eraseOp(sig);
      return success();
    }
    return failure();
  }
};

struct LopFuseEpilogue : lopper::impl::LopFuseEpilogueBase<LopFuseEpilogue> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<AddIntoEpilogue, SiluIntoEpilogue,
                 ActivationIntoEpilogue<lop::ReluOp>,
                 ActivationIntoEpilogue<lop::SigmoidOp>,
                 ActivationIntoEpilogue<lop::TanhOp>,
                 ActivationIntoEpilogue<lop::HardSwishOp>,
                 ActivationIntoEpilogue<lop::LeakyReluOp>,
                 ActivationIntoEpilogue<lop::GeluOp>,
                 ActivationIntoEpilogue<lop::ClipOp>>(ctx);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
