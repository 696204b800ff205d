// RUN: lopper-opt %s --lop-fold-qdq --split-input-file | FileCheck %s

!qx = !quant.uniform<u8:f32, 0.02:128>
!qw = !quant.uniform<i8:f32:0, {0.01, 0.03}>
!qy = !quant.uniform<u8:f32, 0.05:3>

// dequantize -> conv -> quantize with a symmetric per-channel int8 weight:
// one quantized conv writing the quantize's type; the dequantizes go.
// CHECK-LABEL: func.func @conv_requant
// CHECK-NOT: lop.dequantize
// CHECK: %[[W:.*]] = lop.constant dense<1> : tensor<2x3x1x1xi8> -> tensor<2x3x1x1x!quant.uniform<i8:f32:0, {1.000000e-02,3.000000e-02}>>
// CHECK: %[[Y:.*]] = lop.conv %arg0, %[[W]] bias(%{{.*}} : tensor<2xf32>) {{.*}} : tensor<1x3x4x4x!quant.uniform<u8:f32, 2.000000e-02:128>>, tensor<2x3x1x1x!quant.uniform<i8:f32:0, {1.000000e-02,3.000000e-02}>> -> tensor<1x2x4x4x!quant.uniform<u8:f32, 5.000000e-02:3>>
// CHECK-NOT: lop.quantize
// CHECK: return %[[Y]]
func.func @conv_requant(%x: tensor<1x3x4x4x!qx>) -> tensor<1x2x4x4x!qy> {
  %xf = lop.dequantize %x : tensor<1x3x4x4x!qx> -> tensor<1x3x4x4xf32>
  %wq = lop.constant dense<1> : tensor<2x3x1x1xi8> -> tensor<2x3x1x1x!qw>
  %w = lop.dequantize %wq : tensor<2x3x1x1x!qw> -> tensor<2x3x1x1xf32>
  %b = lop.constant dense<[0.5, -0.25]> : tensor<2xf32> -> tensor<2xf32>
  %y = lop.conv %xf, %w bias(%b : tensor<2xf32>) {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x4x4xf32>, tensor<2x3x1x1xf32> -> tensor<1x2x4x4xf32>
  %q = lop.quantize %y : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!qy>
  return %q : tensor<1x2x4x4x!qy>
}

// -----

!qa = !quant.uniform<i8:f32, 0.02:-5>
!qb = !quant.uniform<i8:f32:1, {0.01, 0.03, 0.02}>

// A matmul whose result has a float user keeps the f32 result (the
// dequantizing epilogue); its input is signed with a zero point.
// CHECK-LABEL: func.func @matmul_dequant
// CHECK: %[[Y:.*]] = lop.matmul %arg0, %{{.*}} : tensor<2x4x!quant.uniform<i8:f32, 2.000000e-02:-5>>, tensor<4x3x!quant.uniform<i8:f32:1, {1.000000e-02,3.000000e-02,2.000000e-02}>> -> tensor<2x3xf32>
// CHECK: lop.relu %[[Y]]
func.func @matmul_dequant(%a: tensor<2x4x!qa>) -> tensor<2x3xf32> {
  %af = lop.dequantize %a : tensor<2x4x!qa> -> tensor<2x4xf32>
  %wq = lop.constant dense<1> : tensor<4x3xi8> -> tensor<4x3x!qb>
  %w = lop.dequantize %wq : tensor<4x3x!qb> -> tensor<4x3xf32>
  %y = lop.matmul %af, %w : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
  %r = lop.relu %y : tensor<2x3xf32> -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

!qa = !quant.uniform<u8:f32, 0.02:128>
!qu = !quant.uniform<u8:f32, 0.5:7>
!qy = !quant.uniform<u8:f32, 0.05:3>

// An unsigned weight with a zero point does not fit the int8 kernels: the
// matmul stays float on the f32 values (q - 7) * 0.5 and the quantize stays.
// CHECK-LABEL: func.func @unsigned_weight
// CHECK: %[[X:.*]] = lop.dequantize %arg0
// CHECK: %[[W:.*]] = lop.constant dense<{{\[\[}}-3.500000e+00, -3.000000e+00], [0.000000e+00, 6.400000e+01]]> : tensor<2x2xf32>
// CHECK: %[[Y:.*]] = lop.matmul %[[X]], %[[W]] : tensor<1x2xf32>, tensor<2x2xf32> -> tensor<1x2xf32>
// CHECK: lop.quantize %[[Y]]
func.func @unsigned_weight(%a: tensor<1x2x!qa>) -> tensor<1x2x!qy> {
  %af = lop.dequantize %a : tensor<1x2x!qa> -> tensor<1x2xf32>
  %wq = lop.constant dense<[[0, 1], [7, 135]]> : tensor<2x2xui8> -> tensor<2x2x!qu>
  %w = lop.dequantize %wq : tensor<2x2x!qu> -> tensor<2x2xf32>
  %y = lop.matmul %af, %w : tensor<1x2xf32>, tensor<2x2xf32> -> tensor<1x2xf32>
  %q = lop.quantize %y : tensor<1x2xf32> -> tensor<1x2x!qy>
  return %q : tensor<1x2x!qy>
}

// -----

!qb = !quant.uniform<i8:f32:1, {0.01, 0.03}>

// A float input (no dequantize) is computed in float as the model says, not
// quantized at run time: the weight is folded to f32 and nothing is fused.
// CHECK-LABEL: func.func @float_input
// CHECK: %[[W:.*]] = lop.constant dense<{{\[\[}}0.00999999977, -6.000000e-02]]> : tensor<1x2xf32>
// CHECK: lop.matmul %arg0, %[[W]] : tensor<3x1xf32>, tensor<1x2xf32> -> tensor<3x2xf32>
func.func @float_input(%a: tensor<3x1xf32>) -> tensor<3x2xf32> {
  %wq = lop.constant dense<[[1, -2]]> : tensor<1x2xi8> -> tensor<1x2x!qb>
  %w = lop.dequantize %wq : tensor<1x2x!qb> -> tensor<1x2xf32>
  %y = lop.matmul %a, %w : tensor<3x1xf32>, tensor<1x2xf32> -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
