//===- InitAll.h - every dialect and pass Lopper tools register -*- C++ -*-===//

#ifndef LOPPER_INITALL_H
#define LOPPER_INITALL_H

#include "mlir/IR/DialectRegistry.h"

namespace lopper {
void registerAllDialects(mlir::DialectRegistry &registry);
void registerAllPasses();
} // namespace lopper

#endif
