// RUN: lopper-opt %s --lop-detect-sparsity | FileCheck %s
// RUN: lopper-opt %s --lop-detect-sparsity="threshold=0.4" | FileCheck %s --check-prefix=LOW
// RUN: not lopper-opt %s --lop-detect-sparsity="threshold=0" 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: lop-detect-sparsity: threshold must be in (0, 1], got 0.000000e+00

// CHECK-LABEL: func.func @weights
// 2:4 along K of a matmul weight [K=8, N=1].
// CHECK: %[[NM:.*]] = lop.constant {sparsity = #lop.sparsity<nm[2, 4], output_axis = 1, density = 5.000000e-01>}
// 4x1 blocks: whole groups of four output channels are zero in a column.
// CHECK: %[[B41:.*]] = lop.constant {sparsity = #lop.sparsity<block[4, 1], output_axis = 0, density = 5.000000e-01>}
// 1x16 blocks along the reduction of a transB gemm weight [N=1, K=32].
// CHECK: %[[B116:.*]] = lop.constant {sparsity = #lop.sparsity<block[1, 16], output_axis = 0, density = 5.000000e-01>}
// Zeros without a pattern: unstructured when density <= threshold.
// CHECK: %[[U:.*]] = lop.constant {sparsity = #lop.sparsity<unstructured, output_axis = 1, density = 5.000000e-01>}
// A dense weight stays unannotated.
// CHECK: %[[D:.*]] = lop.constant dense<
// CHECK: lop.matmul %{{.*}}, %[[NM]]
// CHECK: lop.conv %{{.*}}, %[[B41]]
// CHECK: lop.gemm %{{.*}}, %[[B116]]
// CHECK: lop.matmul %{{.*}}, %[[U]]
// CHECK: lop.matmul %{{.*}}, %[[D]]
// With threshold 0.4 the half-dense weights are not worth a sparse format.
// LOW-LABEL: func.func @weights
// LOW: lop.constant {sparsity = #lop.sparsity<nm[2, 4]
// LOW-NOT: sparsity
func.func @weights(%x: tensor<2x8xf32>, %img: tensor<1x1x3x3xf32>, %g: tensor<2x32xf32>, %u: tensor<2x4xf32>) -> (tensor<2x1xf32>, tensor<1x8x3x2xf32>, tensor<2x1xf32>, tensor<2x2xf32>, tensor<2x2xf32>) {
  %nm = lop.constant dense<[[1.0], [0.0], [0.0], [2.0], [0.0], [3.0], [4.0], [0.0]]> : tensor<8x1xf32> -> tensor<8x1xf32>
  %b41 = lop.constant dense<[[[[0.0, 1.0]]], [[[0.0, 2.0]]], [[[0.0, 3.0]]], [[[0.0, 4.0]]], [[[5.0, 0.0]]], [[[6.0, 0.0]]], [[[7.0, 0.0]]], [[[8.0, 0.0]]]]> : tensor<8x1x1x2xf32> -> tensor<8x1x1x2xf32>
  %b116 = lop.constant dense<[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]]> : tensor<1x32xf32> -> tensor<1x32xf32>
  %un = lop.constant dense<[[1.0, 0.0], [2.0, 3.0], [4.0, 0.0], [0.0, 0.0]]> : tensor<4x2xf32> -> tensor<4x2xf32>
  %d = lop.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32> -> tensor<4x2xf32>
  %0 = lop.matmul %x, %nm : tensor<2x8xf32>, tensor<8x1xf32> -> tensor<2x1xf32>
  %1 = lop.conv %img, %b41 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x1x3x3xf32>, tensor<8x1x1x2xf32> -> tensor<1x8x3x2xf32>
  %2 = lop.gemm %g, %b116 {transB = true} : tensor<2x32xf32>, tensor<1x32xf32> -> tensor<2x1xf32>
  %3 = lop.matmul %u, %un : tensor<2x4xf32>, tensor<4x2xf32> -> tensor<2x2xf32>
  %4 = lop.matmul %u, %d : tensor<2x4xf32>, tensor<4x2xf32> -> tensor<2x2xf32>
  return %0, %1, %2, %3, %4 : tensor<2x1xf32>, tensor<1x8x3x2xf32>, tensor<2x1xf32>, tensor<2x2xf32>, tensor<2x2xf32>
}

// Quantized weights are read through their integer storage.
// CHECK-LABEL: func.func @quantized
// LOW-LABEL: func.func @quantized
// LOW: #lop.sparsity<nm[2, 4]
// CHECK: lop.constant {sparsity = #lop.sparsity<nm[2, 4], output_axis = 1, density = 5.000000e-01>} dense<{{\[}}[1], [0], [0], [-2], [0], [3], [4], [0]]> : tensor<8x1xi8> -> tensor<8x1x!quant.uniform<i8:f32, 5.000000e-01>>
func.func @quantized(%x: tensor<2x8x!quant.uniform<u8:f32, 0.1:128>>) -> tensor<2x1xf32> {
  %w = lop.constant dense<[[1], [0], [0], [-2], [0], [3], [4], [0]]> : tensor<8x1xi8> -> tensor<8x1x!quant.uniform<i8:f32, 5.000000e-01>>
  %y = lop.matmul %x, %w : tensor<2x8x!quant.uniform<u8:f32, 0.1:128>>, tensor<8x1x!quant.uniform<i8:f32, 5.000000e-01>> -> tensor<2x1xf32>
  return %y : tensor<2x1xf32>
}
