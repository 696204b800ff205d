//===- PruneBlock.cpp - the lop-prune-block pass --------------------------===//

#include "PruningUtils.h"
#include "lopper/Passes/Passes.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace mlir;

namespace lopper {
#define GEN_PASS_DEF_LOPPRUNEBLOCK
#include "lopper/Passes/Passes.h.inc"

namespace {
using namespace pruning;

struct LopPruneBlock : impl::LopPruneBlockBase<LopPruneBlock> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (rows < 1 || cols < 1 || !isValidSparsity(sparsity)) {
      module.emitError("lop-prune-block: expected rows >= 1, cols >= 1 and "
                       "sparsity in [0, 1), got rows=")
          << rows.getValue() << " cols=" << cols.getValue()
          << " sparsity=" << sparsity.getValue();
      return signalPassFailure();
    }
    PruneContext ctx;
    if (failed(ctx.init(module, config, activationNorms, configOnly)))
      return signalPassFailure();
    std::vector<Layer> layers = ctx.layers(module, keepFirstLast);
    WeightWriter writer;
    for (Layer &l : layers) {
      PruneSpec spec;
      spec.kind = PruneSpec::Kind::Block;
      spec.rows = rows;
      spec.cols = cols;
      spec.sparsity = sparsity;
      if (!ctx.selects(l, PruneSpec::Kind::Block, spec))
        continue;
      SmallVector<double> imp;
      std::string error;
      if (failed(ctx.norms.importance(l, imp, error))) {
        l.op->emitError("lop-prune-block: ") << error;
        return signalPassFailure();
      }
      int64_t br = spec.rows, bc = spec.cols;
      int64_t tilesR = (l.rows + br - 1) / br, tilesC = (l.cols + bc - 1) / bc;
      int64_t numTiles = tilesR * tilesC;
      auto forTile = [&](int64_t t, auto fn) {
        int64_t r0 = (t / tilesC) * br, c0 = (t % tilesC) * bc;
        for (int64_t r = r0; r < std::min(l.rows, r0 + br); ++r)
          for (int64_t c = c0; c < std::min(l.cols, c0 + bc); ++c)
            fn(l.index(r, c));
      };
      SmallVector<double> score(numTiles, 0.0);
      for (int64_t t = 0; t < numTiles; ++t) {
        forTile(t, [&](int64_t i) { score[t] += imp[i] * imp[i]; });
        score[t] = std::sqrt(score[t]);
      }
      SmallVector<int64_t> order(numTiles);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return score[a] < score[b];
      });
      int64_t k = (int64_t)std::floor(spec.sparsity * numTiles);
      for (int64_t j = 0; j < k; ++j)
        forTile(order[j], [&](int64_t i) { l.data[i] = 0.0; });
      int64_t kept = 0;
      for (int64_t t = 0; t < numTiles; ++t) {
        bool any = false;
        forTile(t, [&](int64_t i) { any |= l.data[i] != 0.0; });
        kept += any;
      }
      int64_t pattern[] = {br, bc};
      auto sp = lop::SparsityAttr::get(&getContext(), lop::SparsityKind::block,
                                       pattern, l.outputAxis,
                                       APFloat((double)kept / numTiles));
      writer.add(l, l.data, sp);
    }
    writer.commit();
  }
};
} // namespace
} // namespace lopper
