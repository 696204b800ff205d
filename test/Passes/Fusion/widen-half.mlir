// RUN: lopper-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lop-widen-half))' | FileCheck %s

// A conv in fp16: its input is cast to f32, its constant weight becomes an
// f32 constant, and its f32 result is cast back; the elementwise relu stays
// in fp16 (the code generator computes it in f32 per element).
// CHECK-LABEL: func.func @conv
// CHECK-DAG: %[[W:.*]] = lop.constant dense<{{.*}}> : tensor<2x1x1x1xf32>
// CHECK-DAG: %[[X:.*]] = lop.cast %arg0 {to = f32} : tensor<1x1x2x2xf16> -> tensor<1x1x2x2xf32>
// CHECK: %[[C:.*]] = lop.conv %[[X]], %[[W]] {{.*}} -> tensor<1x2x2x2xf32>
// CHECK: %[[B:.*]] = lop.cast %[[C]] {to = f16} : tensor<1x2x2x2xf32> -> tensor<1x2x2x2xf16>
// CHECK: %[[R:.*]] = lop.relu %[[B]] : tensor<1x2x2x2xf16> -> tensor<1x2x2x2xf16>
// CHECK: return %[[R]]
func.func @conv(%x: tensor<1x1x2x2xf16>) -> tensor<1x2x2x2xf16> {
  %w = lop.constant dense<[[[[1.5]]], [[[-0.25]]]]> : tensor<2x1x1x1xf16> -> tensor<2x1x1x1xf16>
  %y = lop.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<1x1x2x2xf16>, tensor<2x1x1x1xf16> -> tensor<1x2x2x2xf16>
  %r = lop.relu %y : tensor<1x2x2x2xf16> -> tensor<1x2x2x2xf16>
  return %r : tensor<1x2x2x2xf16>
}

// -----

// bf16 softmax computes in f32; an fp32 op is left alone.
// CHECK-LABEL: func.func @softmax
// CHECK: %[[X:.*]] = lop.cast %arg0 {to = f32} : tensor<2x3xbf16> -> tensor<2x3xf32>
// CHECK: %[[S:.*]] = lop.softmax %[[X]] {{.*}}-> tensor<2x3xf32>
// CHECK: lop.cast %[[S]] {to = bf16} : tensor<2x3xf32> -> tensor<2x3xbf16>
// CHECK: lop.softmax %arg1 {{.*}} : tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK-NOT: lop.cast
func.func @softmax(%x: tensor<2x3xbf16>, %z: tensor<2x3xf32>) -> (tensor<2x3xbf16>, tensor<2x3xf32>) {
  %s = lop.softmax %x {axis = 1 : i64} : tensor<2x3xbf16> -> tensor<2x3xbf16>
  %t = lop.softmax %z {axis = 1 : i64} : tensor<2x3xf32> -> tensor<2x3xf32>
  return %s, %t : tensor<2x3xbf16>, tensor<2x3xf32>
}
