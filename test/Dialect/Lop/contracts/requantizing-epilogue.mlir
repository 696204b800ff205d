// Contract 3: the requantizing epilogue. Quantized input and weight give an
// int32 accumulation, rescaled by input_scale * weight_scale[c]; the bias is
// int32 at that scale (or f32); act(acc + bias + residual) is requantized to
// the result's quantized type. A float result type means "dequantized out".
// RUN: lopper-opt %s --split-input-file | FileCheck %s
// RUN: lopper-opt %s --split-input-file | lopper-opt --split-input-file | FileCheck %s

!qx = !quant.uniform<u8:f32, 0.02:128>
!qw = !quant.uniform<i8:f32:0, {0.01, 0.03}>
!qy = !quant.uniform<u8:f32, 0.05:0>

// CHECK-LABEL: func.func @conv_requant
// CHECK: lop.conv %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<2xi32>) {activation = #lop.activation<relu>
// CHECK-SAME: -> tensor<?x2x8x8x!quant.uniform<u8:f32, 5.000000e-02>>
func.func @conv_requant(%x: tensor<?x3x8x8x!qx>) -> tensor<?x2x8x8x!qy> {
  %w = lop.constant dense<1> : tensor<2x3x1x1xi8> -> tensor<2x3x1x1x!qw>
  %b = lop.constant dense<[10, -4]> : tensor<2xi32> -> tensor<2xi32>
  %y = lop.conv %x, %w bias(%b : tensor<2xi32>) {activation = #lop.activation<relu>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<?x3x8x8x!qx>, tensor<2x3x1x1x!qw> -> tensor<?x2x8x8x!qy>
  return %y : tensor<?x2x8x8x!qy>
}

// -----

!qa = !quant.uniform<i8:f32, 0.02:-5>
!qb = !quant.uniform<i8:f32:1, {0.01, 0.03, 0.02}>

// A quantized MatMul whose result stays float (dequantizing epilogue).
// CHECK-LABEL: func.func @matmul_dequant
// CHECK: lop.matmul {{.*}} -> tensor<?x?x3xf32>
func.func @matmul_dequant(%a: tensor<?x?x4x!qa>, %r: tensor<?x?x3xf32>) -> tensor<?x?x3xf32> {
  %w = lop.constant dense<1> : tensor<4x3xi8> -> tensor<4x3x!qb>
  %y = lop.matmul %a, %w residual(%r : tensor<?x?x3xf32>) : tensor<?x?x4x!qa>, tensor<4x3x!qb> -> tensor<?x?x3xf32>
  return %y : tensor<?x?x3xf32>
}

// -----

!qd = !quant.uniform<i8:f32:1, {0.01, 0.03, 0.02}>

// Dynamic quantization: a float input with a quantized weight; the kernel
// quantizes the input at run time and the result is float.
// CHECK-LABEL: func.func @matmul_dynamic
// CHECK: lop.matmul %arg0, %{{.*}} bias(%{{.*}} : tensor<3xf32>) : tensor<?x?x4xf32>, tensor<4x3x!quant.uniform<i8:f32:1, {1.000000e-02,3.000000e-02,2.000000e-02}>> -> tensor<?x?x3xf32>
func.func @matmul_dynamic(%a: tensor<?x?x4xf32>) -> tensor<?x?x3xf32> {
  %w = lop.constant dense<1> : tensor<4x3xi8> -> tensor<4x3x!qd>
  %b = lop.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32> -> tensor<3xf32>
  %y = lop.matmul %a, %w bias(%b : tensor<3xf32>) : tensor<?x?x4xf32>, tensor<4x3x!qd> -> tensor<?x?x3xf32>
  return %y : tensor<?x?x3xf32>
}
