// RUN: lopper-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lop-fold-constants))' | FileCheck %s
// RUN: lopper-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lop-fold-constants{max-elements=4}))' | FileCheck %s --check-prefix=SMALL

// A transposed weight (as some exporters write MatMul(x, Transpose(W))).
// CHECK-LABEL: func.func @transpose
// CHECK: %[[W:.*]] = lop.constant dense<{{\[}}[1, 4], [2, 5], [3, 6]]> : tensor<3x2xi64>
// CHECK-NEXT: return %[[W]]
// SMALL-LABEL: func.func @transpose
// SMALL: lop.transpose
func.func @transpose() -> tensor<3x2xi64> {
  %w = lop.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64> -> tensor<2x3xi64>
  %0 = lop.transpose %w {perm = array<i64: 1, 0>} : tensor<2x3xi64> -> tensor<3x2xi64>
  return %0 : tensor<3x2xi64>
}

// -----

// Arithmetic with broadcasting, a chain (sqrt of a reciprocal of a sum), and
// an unsqueeze that only changes the type.
// CHECK-LABEL: func.func @arith
// CHECK-DAG: lop.constant dense<{{\[}}[1.100000e+01, 2.200000e+01], [1.300000e+01, 2.400000e+01]]> : tensor<2x2xf32>
// CHECK-DAG: lop.constant dense<5.000000e-01> : tensor<1x1xf32>
// CHECK-NOT: lop.add
// CHECK-NOT: lop.sqrt
func.func @arith() -> (tensor<2x2xf32>, tensor<1x1xf32>) {
  %a = lop.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32> -> tensor<2x2xf32>
  %b = lop.constant dense<[10.0, 20.0]> : tensor<2xf32> -> tensor<2xf32>
  %0 = lop.add %a, %b : tensor<2x2xf32>, tensor<2xf32> -> tensor<2x2xf32>
  %c = lop.constant dense<1.0> : tensor<1xf32> -> tensor<1xf32>
  %d = lop.constant dense<3.0> : tensor<1xf32> -> tensor<1xf32>
  %1 = lop.add %c, %d : tensor<1xf32>, tensor<1xf32> -> tensor<1xf32>
  %2 = lop.reciprocal %1 : tensor<1xf32> -> tensor<1xf32>
  %3 = lop.sqrt %2 : tensor<1xf32> -> tensor<1xf32>
  %4 = lop.unsqueeze %3 {axes = array<i64: 0>} : tensor<1xf32> -> tensor<1x1xf32>
  return %0, %4 : tensor<2x2xf32>, tensor<1x1xf32>
}

// -----

// Not folded: an operand that is not constant.
// CHECK-LABEL: func.func @dynamic
// CHECK: lop.mul
func.func @dynamic(%x: tensor<2xf32>) -> tensor<2xf32> {
  %c = lop.constant dense<2.0> : tensor<2xf32> -> tensor<2xf32>
  %0 = lop.mul %x, %c : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// ConstantOfShape with a static result becomes a splat constant. A large fill
// folds only where a heavy op reads it as a weight (the onnx light models
// build every weight this way); a large fill used as data stays a fill.
// CHECK-LABEL: func.func @constant_of_shape
// CHECK-DAG: %[[W:.*]] = lop.constant dense<2.000000e-02> : tensor<4x3x1x1xf32>
// CHECK-DAG: %[[F:.*]] = lop.constant dense<1.000000e+00> : tensor<1x4x2x2xf32>
// CHECK: lop.conv %arg0, %[[W]]
// CHECK-NOT: lop.constant_of_shape
// SMALL-LABEL: func.func @constant_of_shape
// SMALL: %[[W:.*]] = lop.constant dense<2.000000e-02> : tensor<4x3x1x1xf32>
// SMALL: lop.conv %arg0, %[[W]]
// SMALL: lop.constant_of_shape
func.func @constant_of_shape(%x: tensor<1x3x2x2xf32>) -> (tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>) {
  %s = lop.constant dense<[4, 3, 1, 1]> : tensor<4xi64> -> tensor<4xi64>
  %w = lop.constant_of_shape %s {value = 2.000000e-02 : f32} : tensor<4xi64> -> tensor<4x3x1x1xf32>
  %y = lop.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<1x3x2x2xf32>, tensor<4x3x1x1xf32> -> tensor<1x4x2x2xf32>
  %t = lop.constant dense<[1, 4, 2, 2]> : tensor<4xi64> -> tensor<4xi64>
  %f = lop.constant_of_shape %t {value = 1.000000e+00 : f32} : tensor<4xi64> -> tensor<1x4x2x2xf32>
  return %y, %f : tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>
}
