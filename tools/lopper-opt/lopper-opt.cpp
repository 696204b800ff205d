//===- lopper-opt.cpp - MlirOptMain with every Lopper dialect and pass ----===//

#include "lopper/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  lopper::registerAllDialects(registry);
  lopper::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Lopper optimizer driver\n", registry));
}
