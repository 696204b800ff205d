//===- InitAll.cpp - every dialect and pass Lopper tools register ---------===//

#include "lopper/InitAll.h"
#include "lopper/Dialect/Lop/LopOps.h"
#include "lopper/Passes/Passes.h"
#include "lopper/Passes/Pruning.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Transforms/Passes.h"

void lopper::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<lop::LopDialect, mlir::func::FuncDialect,
                  mlir::quant::QuantDialect>();
}

void lopper::registerAllPasses() {
  registerLopperPasses();
  registerFusionPipeline();
  registerPruningPipeline();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
}
