// RUN: lopper-opt %s --lop-print-model-stats -o /dev/null | FileCheck %s
// RUN: lopper-opt %s --lop-print-model-stats="json=true dynamic-dim-value=4" -o /dev/null | FileCheck %s --check-prefix=JSON
// RUN: not lopper-opt %s --lop-print-model-stats="dynamic-dim-value=0" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD

// Every constant counts: 8x3x3x3 + 8 + 8x10 + 10 + the 2-element shape = 316.
// CHECK: nodes:           4
// CHECK: parameters:      316
// CHECK: parameter bytes: 1272
// Conv: 1 * 8 * 16 * 16 * 27 = 55296; Gemm: 1 * 10 * 8 = 80.
// CHECK: MACs:            55376
// FLOPs per op kind: 2 per MAC for the heavy ops, one per output element
// for the others (8 channels pooled, 8 values reshaped).
// CHECK: op                        count            FLOPs             MACs
// CHECK-NEXT: Conv                          1           110592            55296
// CHECK-NEXT: Gemm                          1              160               80
// CHECK-NEXT: GlobalAveragePool             1                8
// CHECK-NEXT: Reshape                       1                8

// JSON: "flops_by_op": {
// JSON-NEXT: "Conv": 442368,
// JSON-NEXT: "Gemm": 640,
// JSON-NEXT: "GlobalAveragePool": 32,
// JSON-NEXT: "Reshape": 32
// JSON: "macs": 221504
// JSON: "macs_by_op": {
// JSON-NEXT: "Conv": 221184,
// JSON-NEXT: "Gemm": 320
// JSON: "nodes": 4,
// JSON: "parameters": 316

// BAD: dynamic-dim-value must be >= 1

func.func @main(%x: tensor<?x3x16x16xf32>) -> tensor<?x10xf32> {
  %w = lop.constant dense<0.5> : tensor<8x3x3x3xf32> -> tensor<8x3x3x3xf32>
  %b = lop.constant dense<0.1> : tensor<8xf32> -> tensor<8xf32>
  %c = lop.conv %x, %w bias(%b : tensor<8xf32>) {activation = #lop.activation<relu>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : tensor<?x3x16x16xf32>, tensor<8x3x3x3xf32> -> tensor<?x8x16x16xf32>
  %g = lop.global_average_pool %c : tensor<?x8x16x16xf32> -> tensor<?x8x1x1xf32>
  %s = lop.constant dense<[-1, 8]> : tensor<2xi64> -> tensor<2xi64>
  %f = lop.reshape %g, %s : (tensor<?x8x1x1xf32>, tensor<2xi64>) -> tensor<?x8xf32>
  %m = lop.constant dense<0.2> : tensor<8x10xf32> -> tensor<8x10xf32>
  %mb = lop.constant dense<0.0> : tensor<10xf32> -> tensor<10xf32>
  %y = lop.gemm %f, %m bias(%mb : tensor<10xf32>) : tensor<?x8xf32>, tensor<8x10xf32> -> tensor<?x10xf32>
  return %y : tensor<?x10xf32>
}
