//===- Passes.h - Lopper passes ---------------------------------*- C++ -*-===//

#ifndef LOPPER_PASSES_PASSES_H
#define LOPPER_PASSES_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace lopper {

#define GEN_PASS_DECL
#include "lopper/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lopper/Passes/Passes.h.inc"

/// The default fusion pipeline (`lop-fuse`): fold-constants, fold-batchnorm,
/// recompose, fuse-epilogue, fold-qdq, simplify-layout, canonicalize, cse,
/// nested on every func.func of the module.
void buildFusionPipeline(mlir::OpPassManager &pm);

/// Registers the `lop-fuse` pipeline with the pass registry.
void registerFusionPipeline();

} // namespace lopper

#endif
