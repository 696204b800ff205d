// RUN: lopper-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lop-recompose))' | FileCheck %s

// PyTorch's nn.GELU export: ((x * (erf(x / sqrt2) + 1)) * 0.5); x is itself an
// add (a bias add), which must not be mistaken for the (1 + erf) factor.
// CHECK-LABEL: func.func @gelu_torch
// CHECK: %[[X:.*]] = lop.add %arg0, %arg0
// CHECK-NEXT: %[[G:.*]] = lop.gelu %[[X]] :
// CHECK-NEXT: return %[[G]]
func.func @gelu_torch(%a: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %c2 = lop.constant dense<1.41421354> : tensor<f32> -> tensor<f32>
  %c1 = lop.constant dense<1.0> : tensor<f32> -> tensor<f32>
  %ch = lop.constant dense<0.5> : tensor<f32> -> tensor<f32>
  %x = lop.add %a, %a : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  %0 = lop.div %x, %c2 : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %1 = lop.erf %0 : tensor<2x8xf32> -> tensor<2x8xf32>
  %2 = lop.add %1, %c1 : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %3 = lop.mul %x, %2 : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  %4 = lop.mul %3, %ch : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  return %4 : tensor<2x8xf32>
}

// -----

// Hugging Face's form: (x * 0.5) * (1 + erf(x * 0.70710678)).
// CHECK-LABEL: func.func @gelu_hf
// CHECK-NEXT: %[[G:.*]] = lop.gelu %arg0 :
// CHECK-NEXT: return %[[G]]
func.func @gelu_hf(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %cs = lop.constant dense<0.707106769> : tensor<f32> -> tensor<f32>
  %c1 = lop.constant dense<1.0> : tensor<f32> -> tensor<f32>
  %ch = lop.constant dense<0.5> : tensor<f32> -> tensor<f32>
  %0 = lop.mul %x, %ch : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  %1 = lop.mul %x, %cs : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  %2 = lop.erf %1 : tensor<?x8xf32> -> tensor<?x8xf32>
  %3 = lop.add %c1, %2 : tensor<f32>, tensor<?x8xf32> -> tensor<?x8xf32>
  %4 = lop.mul %0, %3 : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return %4 : tensor<?x8xf32>
}

// -----

// Not GELU: the constant is 0.6, not 0.5.
// CHECK-LABEL: func.func @not_gelu
// CHECK-NOT: lop.gelu
func.func @not_gelu(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %c2 = lop.constant dense<1.41421354> : tensor<f32> -> tensor<f32>
  %c1 = lop.constant dense<1.0> : tensor<f32> -> tensor<f32>
  %ch = lop.constant dense<0.6> : tensor<f32> -> tensor<f32>
  %0 = lop.div %x, %c2 : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %1 = lop.erf %0 : tensor<2x8xf32> -> tensor<2x8xf32>
  %2 = lop.add %1, %c1 : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %3 = lop.mul %x, %2 : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  %4 = lop.mul %3, %ch : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  return %4 : tensor<2x8xf32>
}

// -----

// LayerNormalization as exported before opset 17 (pow form) with gamma and
// beta, and the mul form without the affine tail (gamma = ones is made).
// CHECK-LABEL: func.func @layer_norm
// CHECK-DAG: %[[ONES:.*]] = lop.constant dense<1.000000e+00> : tensor<4xf32>
// CHECK-DAG: %[[G:.*]] = lop.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]>
// CHECK-DAG: %[[B:.*]] = lop.constant dense<5.000000e-01>
// The default epsilon (1e-5) is not printed.
// CHECK: %[[Y:.*]] = lop.layer_norm %arg0, %[[G]] bias(%[[B]] : tensor<4xf32>) {axis = 2 : i64} :
// CHECK: %[[Z:.*]] = lop.layer_norm %[[Y]], %[[ONES]] {axis = 2 : i64, epsilon = 1.000000e-03 : f32}
// CHECK: return %[[Z]]
func.func @layer_norm(%x: tensor<?x?x4xf32>) -> tensor<?x?x4xf32> {
  %two = lop.constant dense<2.0> : tensor<f32> -> tensor<f32>
  %eps = lop.constant dense<1.0e-5> : tensor<f32> -> tensor<f32>
  %eps2 = lop.constant dense<1.0e-3> : tensor<f32> -> tensor<f32>
  %g = lop.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> -> tensor<4xf32>
  %b = lop.constant dense<0.5> : tensor<4xf32> -> tensor<4xf32>
  %m = lop.reduce_mean %x {axes = array<i64: 2>} : tensor<?x?x4xf32> -> tensor<?x?x1xf32>
  %d = lop.sub %x, %m : tensor<?x?x4xf32>, tensor<?x?x1xf32> -> tensor<?x?x4xf32>
  %p = lop.pow %d, %two : tensor<?x?x4xf32>, tensor<f32> -> tensor<?x?x4xf32>
  %v = lop.reduce_mean %p {axes = array<i64: 2>} : tensor<?x?x4xf32> -> tensor<?x?x1xf32>
  %a = lop.add %v, %eps : tensor<?x?x1xf32>, tensor<f32> -> tensor<?x?x1xf32>
  %s = lop.sqrt %a : tensor<?x?x1xf32> -> tensor<?x?x1xf32>
  %n = lop.div %d, %s : tensor<?x?x4xf32>, tensor<?x?x1xf32> -> tensor<?x?x4xf32>
  %y0 = lop.mul %n, %g : tensor<?x?x4xf32>, tensor<4xf32> -> tensor<?x?x4xf32>
  %y = lop.add %y0, %b : tensor<?x?x4xf32>, tensor<4xf32> -> tensor<?x?x4xf32>
  %m2 = lop.reduce_mean %y {axes = array<i64: 2>} : tensor<?x?x4xf32> -> tensor<?x?x1xf32>
  %d2 = lop.sub %y, %m2 : tensor<?x?x4xf32>, tensor<?x?x1xf32> -> tensor<?x?x4xf32>
  %q2 = lop.mul %d2, %d2 : tensor<?x?x4xf32>, tensor<?x?x4xf32> -> tensor<?x?x4xf32>
  %v2 = lop.reduce_mean %q2 {axes = array<i64: 2>} : tensor<?x?x4xf32> -> tensor<?x?x1xf32>
  %a2 = lop.add %v2, %eps2 : tensor<?x?x1xf32>, tensor<f32> -> tensor<?x?x1xf32>
  %s2 = lop.sqrt %a2 : tensor<?x?x1xf32> -> tensor<?x?x1xf32>
  %z = lop.div %d2, %s2 : tensor<?x?x4xf32>, tensor<?x?x1xf32> -> tensor<?x?x4xf32>
  return %z : tensor<?x?x4xf32>
}
