//===- PruneNM.cpp - the lop-prune-nm pass --------------------------------===//

#include "PruningUtils.h"
#include "lopper/Passes/Passes.h"

#include <algorithm>
#include <numeric>

using namespace mlir;

namespace lopper {
#define GEN_PASS_DEF_LOPPRUNENM
#include "lopper/Passes/Passes.h.inc"

namespace {
using namespace pruning;

struct LopPruneNM : impl::LopPruneNMBase<LopPruneNM> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (n < 1 || m <= n) {
      module.emitError("lop-prune-nm: expected 0 < n < m, got n=")
          << n.getValue() << " m=" << m.getValue();
      return signalPassFailure();
    }
    PruneContext ctx;
    if (failed(ctx.init(module, config, activationNorms, configOnly)))
      return signalPassFailure();
    std::vector<Layer> layers = ctx.layers(module, keepFirstLast);
    WeightWriter writer;
    for (Layer &l : layers) {
      PruneSpec spec;
      spec.kind = PruneSpec::Kind::NM;
      spec.n = n;
      spec.m = m;
      if (!ctx.selects(l, PruneSpec::Kind::NM, spec))
        continue;
      int64_t gn = spec.n, gm = spec.m;
      if (l.cols % gm != 0) {
        l.op->emitRemark("lop-prune-nm: '")
            << l.name << "' left dense: reduction length " << l.cols
            << " is not a multiple of " << gm;
        continue;
      }
      SmallVector<double> imp;
      std::string error;
      if (failed(ctx.norms.importance(l, imp, error))) {
        l.op->emitError("lop-prune-nm: ") << error;
        return signalPassFailure();
      }
      // In each group keep the N most important (ties: the first).
      SmallVector<int64_t> idx(gm);
      for (int64_t r = 0; r < l.rows; ++r)
        for (int64_t g = 0; g < l.cols; g += gm) {
          std::iota(idx.begin(), idx.end(), g);
          std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) {
            return imp[l.index(r, a)] > imp[l.index(r, b)];
          });
          for (int64_t j = gn; j < gm; ++j)
            l.data[l.index(r, idx[j])] = 0.0;
        }
      int64_t pattern[] = {gn, gm};
      auto sp =
          lop::SparsityAttr::get(&getContext(), lop::SparsityKind::nm, pattern,
                                 l.outputAxis, APFloat(densityOf(l.data)));
      writer.add(l, l.data, sp);
    }
    writer.commit();
  }
};
} // namespace
} // namespace lopper
