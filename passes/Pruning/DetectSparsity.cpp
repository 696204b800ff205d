//===- DetectSparsity.cpp - the lop-detect-sparsity pass ------------------===//

#include "PruningUtils.h"
#include "lopper/Passes/Passes.h"

using namespace mlir;

namespace lopper {
#define GEN_PASS_DEF_LOPDETECTSPARSITY
#include "lopper/Passes/Passes.h.inc"

namespace {
using namespace pruning;

/// Fraction of the br x bc tiles of `l`'s [O, R] view holding a nonzero.
static double tileDensity(const Layer &l, int64_t br, int64_t bc) {
  int64_t kept = 0, tiles = 0;
  for (int64_t r0 = 0; r0 < l.rows; r0 += br)
    for (int64_t c0 = 0; c0 < l.cols; c0 += bc, ++tiles) {
      bool any = false;
      for (int64_t r = r0; r < std::min(l.rows, r0 + br) && !any; ++r)
        for (int64_t c = c0; c < std::min(l.cols, c0 + bc) && !any; ++c)
          any = l.data[l.index(r, c)] != 0.0;
      kept += any;
    }
  return tiles ? (double)kept / tiles : 1.0;
}

/// Whether every group of m reduction elements holds at most n nonzeros.
static bool satisfiesNM(const Layer &l, int64_t n, int64_t m) {
  if (l.cols % m != 0)
    return false;
  for (int64_t r = 0; r < l.rows; ++r)
    for (int64_t g = 0; g < l.cols; g += m) {
      int64_t count = 0;
      for (int64_t c = g; c < g + m; ++c)
        count += l.data[l.index(r, c)] != 0.0;
      if (count > n)
        return false;
    }
  return true;
}

struct LopDetectSparsity : impl::LopDetectSparsityBase<LopDetectSparsity> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!(threshold > 0.0 && threshold <= 1.0)) {
      module.emitError("lop-detect-sparsity: threshold must be in (0, 1], "
                       "got ")
          << threshold.getValue();
      return signalPassFailure();
    }
    MLIRContext *ctx = &getContext();
    module.walk([&](Operation *op) {
      if (!isa<lop::ConvOp, lop::GemmOp, lop::MatMulOp>(op))
        return;
      std::optional<Layer> l = getLayer(op, /*requireFloat=*/false);
      if (!l || l->weight.getSparsityAttr())
        return;
      // A weight shared with a user that views it differently stays as is.
      for (Operation *user : l->weight->getUsers())
        if (getWeightOutputAxis(user) != l->outputAxis)
          return;
      double density = densityOf(l->data);
      lop::SparsityAttr sp;
      auto block = [&](int64_t br, int64_t bc) {
        if (sp || l->rows < br || l->cols < bc)
          return;
        double d = tileDensity(*l, br, bc);
        int64_t pattern[] = {br, bc};
        if (d <= threshold)
          sp = lop::SparsityAttr::get(ctx, lop::SparsityKind::block, pattern,
                                      l->outputAxis, APFloat(d));
      };
      if (density <= 0.5 && satisfiesNM(*l, 2, 4)) {
        int64_t pattern[] = {2, 4};
        sp = lop::SparsityAttr::get(ctx, lop::SparsityKind::nm, pattern,
                                    l->outputAxis, APFloat(density));
      }
      block(4, 1);
      block(1, 16);
      if (!sp && density <= threshold)
        sp = lop::SparsityAttr::get(ctx, lop::SparsityKind::unstructured, {},
                                    l->outputAxis, APFloat(density));
      if (sp)
        l->weight.setSparsityAttr(sp);
    });
  }
};
} // namespace
} // namespace lopper
