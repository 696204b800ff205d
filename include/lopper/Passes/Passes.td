//===- Passes.td - Lopper passes ---------------------------*- tablegen -*-===//

#ifndef LOPPER_PASSES_TD
#define LOPPER_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Analysis
//===----------------------------------------------------------------------===//

def LopPrintModelStats : Pass<"lop-print-model-stats", "::mlir::ModuleOp"> {
  let summary = "print op histogram, parameter count and bytes, and FLOPs and MACs per op kind";
  let description = [{
    Counts every `lop` op by kind, the elements and bytes of every
    `lop.constant` (the model's parameters), and the multiply-accumulates of
    Conv, ConvTranspose, Gemm and MatMul from their static shapes. Dynamic
    dimensions count as `dynamic-dim-value` (default 1). The same analysis
    backs `lopper inspect`. The report goes to stdout, as text or JSON.
  }];
  let options = [
    Option<"json", "json", "bool", "false", "print JSON instead of text">,
    Option<"dynamicDimValue", "dynamic-dim-value", "int64_t", "1",
           "size assumed for a dynamic dimension">
  ];
}

#endif
