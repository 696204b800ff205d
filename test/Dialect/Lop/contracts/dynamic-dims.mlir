// Contract 4: a dynamic leading batch dimension and a dynamic sequence
// dimension are `?` and stay so through every op; static sizes are inferred
// wherever the operands determine them.
// RUN: lopper-opt %s | FileCheck %s
// RUN: lopper-opt %s | lopper-opt | FileCheck %s

// CHECK-LABEL: func.func @encoder_block
// CHECK-SAME: (%{{.*}}: tensor<?x?x64xf32>
func.func @encoder_block(%x: tensor<?x?x64xf32>, %wq: tensor<64x64xf32>, %s: tensor<64xf32>) -> tensor<?x?x64xf32> {
  // CHECK: lop.matmul {{.*}} -> tensor<?x?x64xf32>
  %q = lop.matmul %x, %wq : tensor<?x?x64xf32>, tensor<64x64xf32> -> tensor<?x?x64xf32>
  %shape = lop.constant dense<[0, 0, 4, 16]> : tensor<4xi64> -> tensor<4xi64>
  // 0 copies the batch and sequence sizes, dynamic as they are.
  // CHECK: lop.reshape {{.*}} -> tensor<?x?x4x16xf32>
  %h = lop.reshape %q, %shape : (tensor<?x?x64xf32>, tensor<4xi64>) -> tensor<?x?x4x16xf32>
  // CHECK: lop.transpose {{.*}} -> tensor<?x4x?x16xf32>
  %t = lop.transpose %h {perm = array<i64: 0, 2, 1, 3>} : tensor<?x?x4x16xf32> -> tensor<?x4x?x16xf32>
  %k = lop.transpose %h {perm = array<i64: 0, 2, 3, 1>} : tensor<?x?x4x16xf32> -> tensor<?x4x16x?xf32>
  // CHECK: lop.matmul {{.*}} -> tensor<?x4x?x?xf32>
  %a = lop.matmul %t, %k : tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32> -> tensor<?x4x?x?xf32>
  // CHECK: lop.softmax {{.*}} -> tensor<?x4x?x?xf32>
  %p = lop.softmax %a {axis = 3 : i64} : tensor<?x4x?x?xf32> -> tensor<?x4x?x?xf32>
  %o = lop.matmul %p, %t : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32> -> tensor<?x4x?x16xf32>
  %b = lop.transpose %o {perm = array<i64: 0, 2, 1, 3>} : tensor<?x4x?x16xf32> -> tensor<?x?x4x16xf32>
  %back = lop.constant dense<[0, 0, 64]> : tensor<3xi64> -> tensor<3xi64>
  %m = lop.reshape %b, %back : (tensor<?x?x4x16xf32>, tensor<3xi64>) -> tensor<?x?x64xf32>
  // CHECK: lop.layer_norm {{.*}} -> tensor<?x?x64xf32>
  %y = lop.layer_norm %m, %s {axis = 2 : i64} : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// A declared static size may refine an inferred dynamic one (after
// --input-shape pins a dimension, say), never contradict a static one.
// CHECK-LABEL: func.func @refine
// CHECK: lop.relu {{.*}} : tensor<?x8xf32> -> tensor<4x8xf32>
func.func @refine(%x: tensor<?x8xf32>) -> tensor<4x8xf32> {
  %0 = lop.relu %x : tensor<?x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// A declared `?` may also stay where inference knows the size: folding an
// operand into a constant makes inference more precise than the type the op
// carries (an expanded Attention's Range after constant folding).
// CHECK-LABEL: func.func @less_refined
// CHECK: lop.relu {{.*}} : tensor<4x8xf32> -> tensor<?x8xf32>
func.func @less_refined(%x: tensor<4x8xf32>) -> tensor<?x8xf32> {
  %0 = lop.relu %x : tensor<4x8xf32> -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}
