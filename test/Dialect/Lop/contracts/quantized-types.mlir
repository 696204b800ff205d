// Contract 1: quantized values are `quant` types, per tensor or per axis,
// with zero points; lop.quantize / lop.dequantize convert.
// RUN: lopper-opt %s --split-input-file | FileCheck %s
// RUN: lopper-opt %s --split-input-file | lopper-opt --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @per_tensor_u8
// CHECK: lop.quantize %{{.*}} : tensor<?x3x224x224xf32> -> tensor<?x3x224x224x!quant.uniform<u8:f32, 1.865800e-02:114>>
// CHECK: lop.dequantize %{{.*}} : tensor<?x3x224x224x!quant.uniform<u8:f32, 1.865800e-02:114>> -> tensor<?x3x224x224xf32>
func.func @per_tensor_u8(%x: tensor<?x3x224x224xf32>) -> tensor<?x3x224x224xf32> {
  %q = lop.quantize %x : tensor<?x3x224x224xf32> -> tensor<?x3x224x224x!quant.uniform<u8:f32, 0.018658:114>>
  %d = lop.dequantize %q : tensor<?x3x224x224x!quant.uniform<u8:f32, 0.018658:114>> -> tensor<?x3x224x224xf32>
  return %d : tensor<?x3x224x224xf32>
}

// -----

// Weights: integer storage in the constant, the quantized type on its result;
// per output channel (axis 0 of a conv weight), symmetric (zero point 0).
// CHECK-LABEL: func.func @per_axis_weight
// CHECK: lop.constant dense<{{.*}}> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8:f32:0, {5.000000e-01,2.500000e-01}>>
func.func @per_axis_weight() -> tensor<2x1x1x2xf32> {
  %w = lop.constant dense<[[[[1, -2]]], [[[127, -127]]]]> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8:f32:0, {0.5, 0.25}>>
  %d = lop.dequantize %w : tensor<2x1x1x2x!quant.uniform<i8:f32:0, {0.5, 0.25}>> -> tensor<2x1x1x2xf32>
  return %d : tensor<2x1x1x2xf32>
}

// -----

// Signed activations with a non-zero zero point, and a per-axis type with
// zero points on axis 1 (a MatMul weight [K, N]).
// CHECK-LABEL: func.func @zero_points
// CHECK: !quant.uniform<i8:f32, 1.000000e-01:-3>
// CHECK: !quant.uniform<u8:f32:1, {1.000000e-01:128,2.000000e-01:120}>
func.func @zero_points(%x: tensor<4x2xf32>) -> (tensor<4x2x!quant.uniform<i8:f32, 0.1:-3>>, tensor<4x2x!quant.uniform<u8:f32:1, {0.1:128, 0.2:120}>>) {
  %a = lop.quantize %x : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<i8:f32, 0.1:-3>>
  %b = lop.quantize %x : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<u8:f32:1, {0.1:128, 0.2:120}>>
  return %a, %b : tensor<4x2x!quant.uniform<i8:f32, 0.1:-3>>, tensor<4x2x!quant.uniform<u8:f32:1, {0.1:128, 0.2:120}>>
}
