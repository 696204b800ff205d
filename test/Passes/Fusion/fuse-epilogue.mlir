// RUN: lopper-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lop-fuse-epilogue))' | FileCheck %s

// ResNet's block tail: relu(conv + per-channel constant + x) becomes one conv
// with a bias, a residual and a relu; the conv moves below %r's definition.
// CHECK-LABEL: func.func @resnet_tail
// CHECK: %[[B:.*]] = lop.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[R:.*]] = lop.neg
// CHECK: %[[C:.*]] = lop.conv %arg0, %{{.*}} bias(%[[B]] : tensor<2xf32>) residual(%[[R]] : tensor<1x2x4x4xf32>) {activation = #lop.activation<relu>
// CHECK-NEXT: return %[[C]]
func.func @resnet_tail(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = lop.constant dense<1.0> : tensor<2x2x1x1xf32> -> tensor<2x2x1x1xf32>
  %b = lop.constant dense<[[[1.0]], [[2.0]]]> : tensor<2x1x1xf32> -> tensor<2x1x1xf32>
  %0 = lop.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32> -> tensor<1x2x4x4xf32>
  %1 = lop.add %0, %b : tensor<1x2x4x4xf32>, tensor<2x1x1xf32> -> tensor<1x2x4x4xf32>
  %r = lop.neg %x : tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %2 = lop.add %r, %1 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %3 = lop.relu %2 : tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  return %3 : tensor<1x2x4x4xf32>
}

// -----

// A transformer projection: matmul + bias vector, then GELU; a second bias
// add is summed into the first.
// CHECK-LABEL: func.func @projection
// CHECK: %[[B:.*]] = lop.constant dense<[1.500000e+00, 2.500000e+00, 3.500000e+00]> : tensor<3xf32>
// CHECK: lop.matmul %arg0, %{{.*}} bias(%[[B]] : tensor<3xf32>) {activation = #lop.activation<gelu_tanh>}
// CHECK-NOT: lop.add
func.func @projection(%x: tensor<?x?x2xf32>) -> tensor<?x?x3xf32> {
  %w = lop.constant dense<1.0> : tensor<2x3xf32> -> tensor<2x3xf32>
  %b = lop.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32> -> tensor<3xf32>
  %h = lop.constant dense<0.5> : tensor<1x1x1xf32> -> tensor<1x1x1xf32>
  %0 = lop.matmul %x, %w : tensor<?x?x2xf32>, tensor<2x3xf32> -> tensor<?x?x3xf32>
  %1 = lop.add %b, %0 : tensor<3xf32>, tensor<?x?x3xf32> -> tensor<?x?x3xf32>
  %2 = lop.add %1, %h : tensor<?x?x3xf32>, tensor<1x1x1xf32> -> tensor<?x?x3xf32>
  %3 = lop.gelu %2 {approximate = "tanh"} : tensor<?x?x3xf32> -> tensor<?x?x3xf32>
  return %3 : tensor<?x?x3xf32>
}

// -----

// SiLU (x * sigmoid(x)) and clip with one bound.
// CHECK-LABEL: func.func @silu_clip
// CHECK: lop.conv {{.*}}activation = #lop.activation<silu>
// CHECK: lop.gemm {{.*}}activation = #lop.activation<clip>, activation_alpha = 0.000000e+00 : f32, activation_beta = 0x7F800000 : f32
// CHECK-NOT: lop.sigmoid
// CHECK-NOT: lop.clip
func.func @silu_clip(%x: tensor<1x2x4x4xf32>, %y: tensor<3x2xf32>) -> (tensor<1x2x4x4xf32>, tensor<3x2xf32>) {
  %w = lop.constant dense<1.0> : tensor<2x2x1x1xf32> -> tensor<2x2x1x1xf32>
  %0 = lop.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32> -> tensor<1x2x4x4xf32>
  %1 = lop.sigmoid %0 : tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %2 = lop.mul %0, %1 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %g = lop.constant dense<1.0> : tensor<2x2xf32> -> tensor<2x2xf32>
  %3 = lop.gemm %y, %g : tensor<3x2xf32>, tensor<2x2xf32> -> tensor<3x2xf32>
  %4 = lop.clip %3 {min = 0.0 : f32} : tensor<3x2xf32> -> tensor<3x2xf32>
  return %2, %4 : tensor<1x2x4x4xf32>, tensor<3x2xf32>
}

// -----

// Not fused: an add that broadcasts the heavy result (attention mask), a
// heavy op whose result has two users, and an activation after a residual
// that already carries one.
// CHECK-LABEL: func.func @kept
// CHECK: lop.matmul %arg0, %arg1 :
// CHECK: lop.add
// CHECK: lop.conv %arg3, %{{[^ ]*}} {dilations
// CHECK: lop.relu
// CHECK: lop.conv %arg3, %{{[^ ]*}} {activation = #lop.activation<relu>
// CHECK: lop.sigmoid
func.func @kept(%q: tensor<2x4x4xf32>, %k: tensor<2x4x4xf32>, %m: tensor<1x1x4xf32>, %x: tensor<1x2x4x4xf32>) -> (tensor<2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %0 = lop.matmul %q, %k : tensor<2x4x4xf32>, tensor<2x4x4xf32> -> tensor<2x4x4xf32>
  %1 = lop.add %0, %m : tensor<2x4x4xf32>, tensor<1x1x4xf32> -> tensor<2x4x4xf32>
  %w = lop.constant dense<1.0> : tensor<2x2x1x1xf32> -> tensor<2x2x1x1xf32>
  %2 = lop.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32> -> tensor<1x2x4x4xf32>
  %3 = lop.relu %2 : tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %4 = lop.conv %x, %w {activation = #lop.activation<relu>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32> -> tensor<1x2x4x4xf32>
  %5 = lop.sigmoid %4 : tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  return %1, %2, %3, %5 : tensor<2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}
