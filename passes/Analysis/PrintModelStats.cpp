//===- PrintModelStats.cpp - the lop-print-model-stats pass ---------------===//

#include "lopper/Analysis/ModelStats.h"
#include "lopper/Passes/Passes.h"

#include "llvm/Support/raw_ostream.h"

namespace lopper {
#define GEN_PASS_DEF_LOPPRINTMODELSTATS
#include "lopper/Passes/Passes.h.inc"

namespace {
struct LopPrintModelStats : impl::LopPrintModelStatsBase<LopPrintModelStats> {
  using Base::Base;
  void runOnOperation() override {
    if (dynamicDimValue < 1) {
      getOperation().emitError("dynamic-dim-value must be >= 1");
      return signalPassFailure();
    }
    printModelStats(computeModelStats(getOperation(), dynamicDimValue),
                    llvm::outs(), json);
    markAllAnalysesPreserved();
  }
};
} // namespace
} // namespace lopper
