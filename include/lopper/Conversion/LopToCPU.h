//===- LopToCPU.h - lop to loops, kernel calls and a planned arena -*- C++
//-*-===//
//
// Lowers an imported `lop` module (func @main on tensors) to one function on
// byte buffers, `@lopper_model`, in the memref, linalg, scf, arith and math
// dialects plus calls to runtime micro-kernels (lopper/artifact_abi.h):
//
//   func.func @lopper_model(%rt, %syms, %offsets, %arena, %weights,
//                           %in0..., %out0...)   (all memref<?xi8>/<?xi64>)
//
// Every dynamic dimension is a polynomial over symbols bound from the input
// shapes at run time (SymbolicShapes); every intermediate tensor is a typed
// view of one arena buffer whose offset the runtime plans from the buffers'
// sizes and op lifetimes recorded in the metadata; weights are views of one
// blob built here (heavy-op weights pre-packed by the runtime's packing code).
//
//===----------------------------------------------------------------------===//
#ifndef LOPPER_CONVERSION_LOPTOCPU_H
#define LOPPER_CONVERSION_LOPTOCPU_H

#include "lopper/Conversion/CostModel.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lopper {

struct LoweredModel {
  mlir::OwningOpRef<mlir::ModuleOp> module; ///< func @lopper_model
  std::string metadata;         ///< artifact metadata text (artifact_abi.h)
  std::vector<uint8_t> weights; ///< the weight blob, 64-byte aligned parts
  unsigned numInputs = 0, numOutputs = 0;
  unsigned numSymbols = 0;
  unsigned numBuffers = 0;
  unsigned numOps = 0;
  /// Arena bytes summed without reuse and the planned figure are reported
  /// by the driver from the metadata; these are the polynomials' texts.
  std::vector<std::string> symbolNames;
  /// The kernel of every conv/gemm/matmul, in emission order.
  std::vector<KernelChoice> kernels;
};

/// Lowers `lopModule` (as produced by the importer). On failure returns
/// nullopt-like empty module and sets `error` to a message naming the node.
bool lowerLopToCPU(mlir::ModuleOp lopModule, const std::string &modelName,
                   LoweredModel &out, std::string &error,
                   const KernelConfig *config = nullptr);

} // namespace lopper

#endif
