//===- Passes.h - Lopper passes ---------------------------------*- C++ -*-===//

#ifndef LOPPER_PASSES_PASSES_H
#define LOPPER_PASSES_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace lopper {

#define GEN_PASS_DECL
#include "lopper/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lopper/Passes/Passes.h.inc"

} // namespace lopper

#endif
