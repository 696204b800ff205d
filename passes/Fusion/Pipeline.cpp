//===- Pipeline.cpp - the lop-fuse pipeline -------------------------------===//

#include "lopper/Passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void lopper::buildFusionPipeline(OpPassManager &pm) {
  OpPassManager &fn = pm.nest<func::FuncOp>();
  fn.addPass(createLopFoldConstants());
  fn.addPass(createLopFoldBatchNorm());
  fn.addPass(createLopRecompose());
  fn.addPass(createLopFuseEpilogue());
  fn.addPass(createLopFoldQDQ());
  fn.addPass(createLopSimplifyLayout());
  fn.addPass(createCanonicalizerPass());
  fn.addPass(createCSEPass());
}

void lopper::registerFusionPipeline() {
  PassPipelineRegistration<>(
      "lop-fuse",
      "the default fusion pipeline: fold-constants, fold-batchnorm, "
      "recompose, fuse-epilogue, fold-qdq, simplify-layout, canonicalize, cse",
      [](OpPassManager &pm) { buildFusionPipeline(pm); });
}
