//===- PruneMagnitude.cpp - the lop-prune-magnitude pass ------------------===//

#include "PruningUtils.h"
#include "lopper/Passes/Passes.h"

#include <algorithm>
#include <cmath>
#include <map>

using namespace mlir;

namespace lopper {
#define GEN_PASS_DEF_LOPPRUNEMAGNITUDE
#include "lopper/Passes/Passes.h.inc"

namespace {
using namespace pruning;

struct LopPruneMagnitude : impl::LopPruneMagnitudeBase<LopPruneMagnitude> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!isValidSparsity(sparsity)) {
      module.emitError("lop-prune-magnitude: sparsity must be in [0, 1), got ")
          << sparsity.getValue();
      return signalPassFailure();
    }
    PruneContext ctx;
    if (failed(ctx.init(module, config, activationNorms, configOnly)))
      return signalPassFailure();
    std::vector<Layer> layers = ctx.layers(module, keepFirstLast);

    // Layers pruned on their own, and pools sharing one global threshold
    // (one pool per sparsity).
    struct Item {
      Layer *layer;
      SmallVector<double> importance;
    };
    std::vector<Item> items;
    std::map<double, std::vector<size_t>> pools;
    std::vector<std::pair<size_t, double>> local;
    for (Layer &l : layers) {
      PruneSpec spec;
      spec.kind = PruneSpec::Kind::Magnitude;
      spec.sparsity = sparsity;
      spec.global = global;
      bool hasOwn = ctx.config.ruleFor(l.name).sparsity.has_value();
      if (!ctx.selects(l, PruneSpec::Kind::Magnitude, spec))
        continue;
      Item it{&l, {}};
      std::string error;
      if (failed(ctx.norms.importance(l, it.importance, error))) {
        l.op->emitError("lop-prune-magnitude: ") << error;
        return signalPassFailure();
      }
      items.push_back(std::move(it));
      if (spec.global && !hasOwn)
        pools[spec.sparsity].push_back(items.size() - 1);
      else
        local.push_back({items.size() - 1, spec.sparsity});
    }

    // Zero the k least important elements of a set of layers; ties go by
    // layer, then position. Only the threshold is found by selection, so no
    // index is stored per element.
    auto prune = [&](ArrayRef<size_t> which, double s) {
      int64_t total = 0;
      for (size_t i : which)
        total += items[i].importance.size();
      int64_t k = (int64_t)std::floor(s * total);
      if (k <= 0)
        return;
      std::vector<double> all;
      all.reserve(total);
      for (size_t i : which)
        all.insert(all.end(), items[i].importance.begin(),
                   items[i].importance.end());
      std::nth_element(all.begin(), all.begin() + (k - 1), all.end());
      double threshold = all[k - 1];
      std::vector<double>().swap(all);
      int64_t below = 0;
      for (size_t i : which)
        for (double v : items[i].importance)
          below += v < threshold;
      int64_t ties = k - below;
      for (size_t i : which) {
        SmallVector<double> &data = items[i].layer->data;
        const SmallVector<double> &imp = items[i].importance;
        for (size_t e = 0; e < imp.size(); ++e)
          if (imp[e] < threshold || (imp[e] == threshold && ties-- > 0))
            data[e] = 0.0;
      }
    };
    for (auto &[s, which] : pools)
      prune(which, s);
    for (auto &[i, s] : local)
      prune({i}, s);

    WeightWriter writer;
    for (Item &it : items) {
      Layer &l = *it.layer;
      auto sp =
          lop::SparsityAttr::get(&getContext(), lop::SparsityKind::unstructured,
                                 {}, l.outputAxis, APFloat(densityOf(l.data)));
      writer.add(l, l.data, sp);
    }
    writer.commit();
  }
};
} // namespace
} // namespace lopper
