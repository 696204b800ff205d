// RUN: lopper-opt %s --pass-pipeline="builtin.module(func.func(lop-fold-batchnorm))" | FileCheck %s
// RUN: lopper-opt %s --canonicalize | FileCheck %s
// Quantized constants fold to their storage data, so the greedy driver's
// constant deduplication (keyed on data and result type) keeps weights with
// the same type but other data apart, and merges only identical ones.

!q = !quant.uniform<i8:f32, 0.5>
// CHECK-LABEL: func.func @main
// CHECK-DAG: %[[A:.*]] = lop.constant dense_resource<wa> : tensor<2x2xi8> -> tensor<2x2x!quant.uniform<i8:f32, 5.000000e-01>>
// CHECK-DAG: %[[B:.*]] = lop.constant dense_resource<wb> : tensor<2x2xi8> -> tensor<2x2x!quant.uniform<i8:f32, 5.000000e-01>>
// CHECK-NOT: lop.constant
// CHECK-DAG: lop.dequantize %[[A]]
// CHECK-DAG: lop.dequantize %[[B]]
func.func @main() -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>) {
  %a = lop.constant dense_resource<wa> : tensor<2x2xi8> -> tensor<2x2x!q>
  %b = lop.constant dense_resource<wb> : tensor<2x2xi8> -> tensor<2x2x!q>
  %a2 = lop.constant dense_resource<wa> : tensor<2x2xi8> -> tensor<2x2x!q>
  %da = lop.dequantize %a : tensor<2x2x!q> -> tensor<2x2xf32>
  %db = lop.dequantize %b : tensor<2x2x!q> -> tensor<2x2xf32>
  %da2 = lop.dequantize %a2 : tensor<2x2x!q> -> tensor<2x2xf32>
  return %da, %db, %da2 : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      wa: "0x0100000001020304",
      wb: "0x0100000005060708"
    }
  }
#-}
