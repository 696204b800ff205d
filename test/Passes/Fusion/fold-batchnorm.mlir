// RUN: lopper-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lop-fold-batchnorm))' | FileCheck %s

// Conv with bias: W' = W * s, b' = (b - mean) * s + beta, s = g / sqrt(v + eps).
// With eps 0: s = [4 / 2, 9 / 3] = [2, 3], so W' = [2, -6], b' = [3, 7].
// CHECK-LABEL: func.func @conv
// CHECK-DAG: %[[W:.*]] = lop.constant dense<{{\[}}{{\[}}{{\[}}[2.000000e+00]]], {{\[}}{{\[}}[-6.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK-DAG: %[[B:.*]] = lop.constant dense<[3.000000e+00, 7.000000e+00]> : tensor<2xf32>
// CHECK: %[[C:.*]] = lop.conv %arg0, %[[W]] bias(%[[B]] : tensor<2xf32>)
// CHECK-NOT: lop.batch_norm
// CHECK: return %[[C]]
func.func @conv(%x: tensor<?x1x4x4xf32>) -> tensor<?x2x4x4xf32> {
  %w = lop.constant dense<[[[[1.0]]], [[[-2.0]]]]> : tensor<2x1x1x1xf32> -> tensor<2x1x1x1xf32>
  %b = lop.constant dense<[1.0, 2.0]> : tensor<2xf32> -> tensor<2xf32>
  %g = lop.constant dense<[4.0, 9.0]> : tensor<2xf32> -> tensor<2xf32>
  %be = lop.constant dense<[1.0, 1.0]> : tensor<2xf32> -> tensor<2xf32>
  %m = lop.constant dense<[0.0, 0.0]> : tensor<2xf32> -> tensor<2xf32>
  %v = lop.constant dense<[4.0, 9.0]> : tensor<2xf32> -> tensor<2xf32>
  %0 = lop.conv %x, %w bias(%b : tensor<2xf32>) {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<?x1x4x4xf32>, tensor<2x1x1x1xf32> -> tensor<?x2x4x4xf32>
  %1 = lop.batch_norm %0, %g, %be, %m, %v {epsilon = 0.0 : f32} : (tensor<?x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2x4x4xf32>
  return %1 : tensor<?x2x4x4xf32>
}

// -----

// A 2-D matmul: the channels are the weight's columns. s = [2, 0.5],
// no bias: b' = -mean * s + beta = [-2 + 0, -1 + 1].
// CHECK-LABEL: func.func @matmul
// CHECK-DAG: lop.constant dense<{{\[}}[2.000000e+00, 5.000000e-01], [4.000000e+00, 1.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: lop.constant dense<[-2.000000e+00, 0.000000e+00]> : tensor<2xf32>
// CHECK-NOT: lop.batch_norm
func.func @matmul(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %w = lop.constant dense<[[1.0, 1.0], [2.0, 2.0]]> : tensor<2x2xf32> -> tensor<2x2xf32>
  %g = lop.constant dense<[2.0, 0.5]> : tensor<2xf32> -> tensor<2xf32>
  %be = lop.constant dense<[0.0, 1.0]> : tensor<2xf32> -> tensor<2xf32>
  %m = lop.constant dense<[1.0, 2.0]> : tensor<2xf32> -> tensor<2xf32>
  %v = lop.constant dense<[1.0, 1.0]> : tensor<2xf32> -> tensor<2xf32>
  %0 = lop.matmul %x, %w : tensor<?x2xf32>, tensor<2x2xf32> -> tensor<?x2xf32>
  %1 = lop.batch_norm %0, %g, %be, %m, %v {epsilon = 0.0 : f32} : (tensor<?x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %1 : tensor<?x2xf32>
}

// -----

// Not folded: the conv already has an activation, and a conv whose result
// has a second user.
// CHECK-LABEL: func.func @kept
// CHECK-COUNT-2: lop.batch_norm
func.func @kept(%x: tensor<?x1x4x4xf32>) -> (tensor<?x1x4x4xf32>, tensor<?x1x4x4xf32>, tensor<?x1x4x4xf32>) {
  %w = lop.constant dense<[[[[1.0]]]]> : tensor<1x1x1x1xf32> -> tensor<1x1x1x1xf32>
  %p = lop.constant dense<[1.0]> : tensor<1xf32> -> tensor<1xf32>
  %0 = lop.conv %x, %w {activation = #lop.activation<relu>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<?x1x4x4xf32>, tensor<1x1x1x1xf32> -> tensor<?x1x4x4xf32>
  %1 = lop.batch_norm %0, %p, %p, %p, %p : (tensor<?x1x4x4xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<?x1x4x4xf32>
  %2 = lop.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<?x1x4x4xf32>, tensor<1x1x1x1xf32> -> tensor<?x1x4x4xf32>
  %3 = lop.batch_norm %2, %p, %p, %p, %p : (tensor<?x1x4x4xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<?x1x4x4xf32>
  return %1, %2, %3 : tensor<?x1x4x4xf32>, tensor<?x1x4x4xf32>, tensor<?x1x4x4xf32>
}
