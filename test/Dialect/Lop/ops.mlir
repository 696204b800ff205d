// RUN: lopper-opt %s --split-input-file | FileCheck %s
// Round trip: print, parse again, and compare.
// RUN: lopper-opt %s --split-input-file | lopper-opt --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @heavy
func.func @heavy(%x: tensor<?x3x32x32xf32>, %w: tensor<8x3x3x3xf32>, %b: tensor<8xf32>,
                 %r: tensor<?x8x32x32xf32>, %a: tensor<?x128xf32>, %m: tensor<128x64xf32>,
                 %c: tensor<64xf32>) -> (tensor<?x8x32x32xf32>, tensor<?x64xf32>, tensor<?x64xf32>) {
  // CHECK: lop.conv %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<8xf32>) residual(%{{.*}} : tensor<?x8x32x32xf32>) {activation = #lop.activation<relu>
  %0 = lop.conv %x, %w bias(%b : tensor<8xf32>) residual(%r : tensor<?x8x32x32xf32>) {activation = #lop.activation<relu>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : tensor<?x3x32x32xf32>, tensor<8x3x3x3xf32> -> tensor<?x8x32x32xf32>
  // CHECK: lop.gemm %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<64xf32>) {activation = #lop.activation<clip>, activation_alpha = 0.000000e+00 : f32, activation_beta = 6.000000e+00 : f32}
  %1 = lop.gemm %a, %m bias(%c : tensor<64xf32>) {activation = #lop.activation<clip>, activation_alpha = 0.0 : f32, activation_beta = 6.0 : f32} : tensor<?x128xf32>, tensor<128x64xf32> -> tensor<?x64xf32>
  // CHECK: lop.matmul %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<64xf32>) {activation = #lop.activation<gelu>}
  %2 = lop.matmul %a, %m bias(%c : tensor<64xf32>) {activation = #lop.activation<gelu>} : tensor<?x128xf32>, tensor<128x64xf32> -> tensor<?x64xf32>
  return %0, %1, %2 : tensor<?x8x32x32xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// CHECK-LABEL: func.func @shapes
func.func @shapes(%x: tensor<?x4x6xf32>) -> (tensor<?x24xf32>, tensor<6x4x?xf32>, tensor<?x1x4x6xf32>) {
  %s = lop.shape %x {start = 0 : i64, end = 1 : i64} : tensor<?x4x6xf32> -> tensor<1xi64>
  %c = lop.constant dense<24> : tensor<1xi64> -> tensor<1xi64>
  %t = lop.concat %s, %c {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  // CHECK: lop.reshape {{.*}} -> tensor<?x24xf32>
  %0 = lop.reshape %x, %t : (tensor<?x4x6xf32>, tensor<2xi64>) -> tensor<?x24xf32>
  // CHECK: lop.transpose {{.*}} {perm = array<i64: 2, 1, 0>}
  %1 = lop.transpose %x {perm = array<i64: 2, 1, 0>} : tensor<?x4x6xf32> -> tensor<6x4x?xf32>
  // CHECK: lop.unsqueeze
  %2 = lop.unsqueeze %x {axes = array<i64: 1>} : tensor<?x4x6xf32> -> tensor<?x1x4x6xf32>
  return %0, %1, %2 : tensor<?x24xf32>, tensor<6x4x?xf32>, tensor<?x1x4x6xf32>
}

// -----

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%x: tensor<?x8xf32>, %y: tensor<8xf32>) -> (tensor<?x8xi1>, tensor<?x8xf32>) {
  // CHECK: lop.add {{.*}} : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  %0 = lop.add %x, %y : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  // CHECK: lop.less {{.*}} -> tensor<?x8xi1>
  %1 = lop.less %0, %y : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xi1>
  // CHECK: lop.where
  %2 = lop.where %1, %x, %y : (tensor<?x8xi1>, tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  // CHECK: lop.gelu {{.*}} {approximate = "tanh"}
  %3 = lop.gelu %2 {approximate = "tanh"} : tensor<?x8xf32> -> tensor<?x8xf32>
  // CHECK: lop.clip {{.*}} {max = 6.000000e+00 : f32, min = 0.000000e+00 : f32}
  %4 = lop.clip %3 {min = 0.0 : f32, max = 6.0 : f32} : tensor<?x8xf32> -> tensor<?x8xf32>
  return %1, %4 : tensor<?x8xi1>, tensor<?x8xf32>
}

// -----

// CHECK-LABEL: func.func @pooling
func.func @pooling(%x: tensor<1x16x16x16xf32>) -> (tensor<1x16x8x8xf32>, tensor<1x16x1x1xf32>, tensor<1x16x16x1xf32>) {
  // ceil_mode rounds the output up: ceil((16 - 3) / 2) + 1 = 8, not 7.
  // CHECK: lop.max_pool {{.*}} -> tensor<1x16x8x8xf32>
  %0 = lop.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = true} : tensor<1x16x16x16xf32> -> tensor<1x16x8x8xf32>
  // CHECK: lop.global_average_pool
  %1 = lop.global_average_pool %x : tensor<1x16x16x16xf32> -> tensor<1x16x1x1xf32>
  // CHECK: lop.reduce_mean {{.*}} {axes = array<i64: 3>}
  %2 = lop.reduce_mean %x {axes = array<i64: 3>} : tensor<1x16x16x16xf32> -> tensor<1x16x16x1xf32>
  return %0, %1, %2 : tensor<1x16x8x8xf32>, tensor<1x16x1x1xf32>, tensor<1x16x16x1xf32>
}

// -----

// CHECK-LABEL: func.func @split_topk
func.func @split_topk(%x: tensor<4x10xf32>) -> (tensor<4x3xf32>, tensor<4x7xf32>, tensor<4x2xf32>, tensor<4x2xi64>) {
  // CHECK: lop.split {{.*}} -> tensor<4x3xf32>, tensor<4x7xf32>
  %0:2 = lop.split %x {axis = 1 : i64, split = array<i64: 3, 7>} : tensor<4x10xf32> -> tensor<4x3xf32>, tensor<4x7xf32>
  %k = lop.constant dense<2> : tensor<1xi64> -> tensor<1xi64>
  // CHECK: lop.topk {{.*}} -> (tensor<4x2xf32>, tensor<4x2xi64>)
  %1:2 = lop.topk %x, %k {axis = 1 : i64} : (tensor<4x10xf32>, tensor<1xi64>) -> (tensor<4x2xf32>, tensor<4x2xi64>)
  return %0#0, %0#1, %1#0, %1#1 : tensor<4x3xf32>, tensor<4x7xf32>, tensor<4x2xf32>, tensor<4x2xi64>
}

// -----

// CHECK-LABEL: func.func @coverage
func.func @coverage(%x: tensor<2x3xf32>, %i: tensor<2x3xi32>, %u: tensor<2x3xui8>, %b: tensor<2x3xi1>, %k: tensor<i64>, %g: tensor<2x2xi64>) -> (tensor<2x3xf32>, tensor<2x3xi32>, tensor<2x3xui8>, tensor<2x3xi1>, tensor<3xi32>, tensor<2xi64>, tensor<2x3xf32>, tensor<2x2xf32>) {
  // CHECK: lop.floor
  %0 = lop.floor %x : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: lop.atanh
  %1 = lop.atanh %0 : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: lop.mod {{.*}} {fmod = 1 : i64}
  %2 = lop.mod %i, %i {fmod = 1 : i64} : tensor<2x3xi32>, tensor<2x3xi32> -> tensor<2x3xi32>
  // CHECK: lop.bitwise_not
  %3 = lop.bitwise_not %2 : tensor<2x3xi32> -> tensor<2x3xi32>
  // CHECK: lop.bit_shift {{.*}} {direction = "RIGHT"}
  %4 = lop.bit_shift %u, %u {direction = "RIGHT"} : tensor<2x3xui8>, tensor<2x3xui8> -> tensor<2x3xui8>
  // CHECK: lop.xor
  %5 = lop.xor %b, %b : tensor<2x3xi1>, tensor<2x3xi1> -> tensor<2x3xi1>
  // CHECK: lop.reduce_prod {{.*}} -> tensor<3xi32>
  %6 = lop.reduce_prod %3 {axes = array<i64: 0>, keepdims = false} : tensor<2x3xi32> -> tensor<3xi32>
  // CHECK: lop.argmin {{.*}} -> tensor<2xi64>
  %7 = lop.argmin %x {axis = 1 : i64, keepdims = false} : tensor<2x3xf32> -> tensor<2xi64>
  // CHECK: lop.trilu {{.*}} k({{.*}} : tensor<i64>) {upper = false}
  %8 = lop.trilu %1 k(%k : tensor<i64>) {upper = false} : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: lop.gather_elements {{.*}} -> tensor<2x2xf32>
  %9 = lop.gather_elements %x, %g {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x2xi64>) -> tensor<2x2xf32>
  return %8, %3, %4, %5, %6, %7, %1, %9 : tensor<2x3xf32>, tensor<2x3xi32>, tensor<2x3xui8>, tensor<2x3xi1>, tensor<3xi32>, tensor<2xi64>, tensor<2x3xf32>, tensor<2x2xf32>
}

// -----

// CHECK-LABEL: func.func @reduce_runtime_axes
func.func @reduce_runtime_axes(%x: tensor<3x2x2xf32>, %a: tensor<1xi64>) -> tensor<3x2xf32> {
  // CHECK: lop.reduce_runtime_axes {{.*}} {keepdims = false, kind = "max"} : (tensor<3x2x2xf32>, tensor<1xi64>) -> tensor<3x2xf32>
  %0 = lop.reduce_runtime_axes %x, %a {kind = "max", keepdims = false} : (tensor<3x2x2xf32>, tensor<1xi64>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// CHECK-LABEL: func.func @cumulative
func.func @cumulative(%x: tensor<2x3xf32>, %a: tensor<i64>) -> tensor<2x3xf32> {
  // CHECK: lop.cum_sum {{.*}} {exclusive = 1 : i64}
  %0 = lop.cum_sum %x, %a {exclusive = 1 : i64} : (tensor<2x3xf32>, tensor<i64>) -> tensor<2x3xf32>
  // CHECK: lop.cum_prod {{.*}} {reverse = 1 : i64}
  %1 = lop.cum_prod %0, %a {reverse = 1 : i64} : (tensor<2x3xf32>, tensor<i64>) -> tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @scatter
func.func @scatter(%x: tensor<3x5xf32>, %i: tensor<3x2xi64>, %u: tensor<3x2xf32>, %ni: tensor<2x1xi64>, %nu: tensor<2x5xf32>) -> tensor<3x5xf32> {
  // CHECK: lop.scatter_elements {{.*}} {axis = 1 : i64, reduction = "min"}
  %0 = lop.scatter_elements %x, %i, %u {axis = 1 : i64, reduction = "min"} : (tensor<3x5xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x5xf32>
  // CHECK: lop.scatter_nd
  %1 = lop.scatter_nd %0, %ni, %nu : (tensor<3x5xf32>, tensor<2x1xi64>, tensor<2x5xf32>) -> tensor<3x5xf32>
  return %1 : tensor<3x5xf32>
}
