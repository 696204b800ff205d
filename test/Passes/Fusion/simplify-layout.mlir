// RUN: lopper-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lop-simplify-layout))' | FileCheck %s

// Two transposes that cancel, and two that compose: [0,2,1,3] after
// [0,2,1,3] is the identity; [1,0,2] after [0,2,1] is [2,0,1].
// CHECK-LABEL: func.func @transposes
// CHECK: %[[T:.*]] = lop.transpose %arg1 {perm = array<i64: 2, 0, 1>} : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
// CHECK: return %arg0, %[[T]]
func.func @transposes(%x: tensor<?x2x3x4xf32>, %y: tensor<2x3x4xf32>) -> (tensor<?x2x3x4xf32>, tensor<4x2x3xf32>) {
  %0 = lop.transpose %x {perm = array<i64: 0, 2, 1, 3>} : tensor<?x2x3x4xf32> -> tensor<?x3x2x4xf32>
  %1 = lop.transpose %0 {perm = array<i64: 0, 2, 1, 3>} : tensor<?x3x2x4xf32> -> tensor<?x2x3x4xf32>
  %2 = lop.transpose %y {perm = array<i64: 0, 2, 1>} : tensor<2x3x4xf32> -> tensor<2x4x3xf32>
  %3 = lop.transpose %2 {perm = array<i64: 1, 0, 2>} : tensor<2x4x3xf32> -> tensor<4x2x3xf32>
  return %1, %3 : tensor<?x2x3x4xf32>, tensor<4x2x3xf32>
}

// -----

// reshape(reshape(x)) is one reshape; a reshape to its own static type and
// squeeze(unsqueeze(x)) disappear.
// CHECK-LABEL: func.func @reshapes
// CHECK: %[[S:.*]] = lop.constant dense<[6, 4]>
// CHECK: %[[R:.*]] = lop.reshape %arg0, %[[S]]
// CHECK: return %[[R]], %arg0, %arg0
func.func @reshapes(%x: tensor<2x3x4xf32>) -> (tensor<6x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
  %s1 = lop.constant dense<[24]> : tensor<1xi64> -> tensor<1xi64>
  %s2 = lop.constant dense<[6, 4]> : tensor<2xi64> -> tensor<2xi64>
  %s3 = lop.constant dense<[2, 3, 4]> : tensor<3xi64> -> tensor<3xi64>
  %0 = lop.reshape %x, %s1 : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<24xf32>
  %1 = lop.reshape %0, %s2 : (tensor<24xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  %2 = lop.reshape %x, %s3 : (tensor<2x3x4xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
  %3 = lop.unsqueeze %x {axes = array<i64: 1>} : tensor<2x3x4xf32> -> tensor<2x1x3x4xf32>
  %4 = lop.squeeze %3 {axes = array<i64: 1>} : tensor<2x1x3x4xf32> -> tensor<2x3x4xf32>
  return %1, %2, %4 : tensor<6x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>
}
