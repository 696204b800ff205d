// Contract 2: sparsity annotations on weights, with the achieved density.
// The weight is viewed as [O, R]: O = output_axis (output channels), R = the
// other axes in order (the reduction axis). block[R, C]: R along O, C along
// the reduction; nm[N, M]: at most N nonzeros per M reduction elements.
// Density: nonzero elements (unstructured, nm) or nonzero blocks (block).
// RUN: lopper-opt %s --split-input-file | FileCheck %s
// RUN: lopper-opt %s --split-input-file | lopper-opt --split-input-file | FileCheck %s

// A conv weight [O=2, C=1, 2, 2] with 2:4 along C*kh*kw.
// CHECK-LABEL: func.func @nm_conv_weight
// CHECK: lop.constant {sparsity = #lop.sparsity<nm[2, 4], output_axis = 0, density = 5.000000e-01>}
func.func @nm_conv_weight() -> tensor<2x1x2x2xf32> {
  %w = lop.constant {sparsity = #lop.sparsity<nm[2, 4], output_axis = 0, density = 0.5>} dense<[[[[1.0, 0.0], [0.0, 2.0]]], [[[0.0, 3.0], [4.0, 0.0]]]]> : tensor<2x1x2x2xf32> -> tensor<2x1x2x2xf32>
  return %w : tensor<2x1x2x2xf32>
}

// -----

// A MatMul weight [K=4, N=2]: output axis 1; 4x1 blocks run along N... here
// block[1, 4] covers one output channel and four reduction elements.
// CHECK-LABEL: func.func @block_matmul_weight
// CHECK: #lop.sparsity<block[1, 4], output_axis = 1, density = 5.000000e-01>
func.func @block_matmul_weight() -> tensor<4x2xf32> {
  %w = lop.constant {sparsity = #lop.sparsity<block[1, 4], output_axis = 1, density = 0.5>} dense<[[0.0, 1.0], [0.0, 2.0], [0.0, 0.0], [0.0, 3.0]]> : tensor<4x2xf32> -> tensor<4x2xf32>
  return %w : tensor<4x2xf32>
}

// -----

// Unstructured (kernels may store it as CSR): density is nnz / size.
// CHECK-LABEL: func.func @unstructured
// CHECK: #lop.sparsity<unstructured, output_axis = 0, density = 2.500000e-01>
func.func @unstructured() -> tensor<2x4xf32> {
  %w = lop.constant {sparsity = #lop.sparsity<unstructured, output_axis = 0, density = 0.25>} dense<[[0.0, 0.0, 5.0, 0.0], [0.0, 0.0, 0.0, 7.0]]> : tensor<2x4xf32> -> tensor<2x4xf32>
  return %w : tensor<2x4xf32>
}

// -----

// A quantized, 2:4-sparse weight: the pattern is checked on the storage.
// CHECK-LABEL: func.func @nm_int8
// CHECK: #lop.sparsity<nm[2, 4], output_axis = 0, density = 5.000000e-01>
// CHECK-SAME: -> tensor<1x8x!quant.uniform<i8:f32, 1.000000e-01>>
func.func @nm_int8() -> tensor<1x8x!quant.uniform<i8:f32, 0.1>> {
  %w = lop.constant {sparsity = #lop.sparsity<nm[2, 4], output_axis = 0, density = 0.5>} dense<[[1, 0, 0, -3, 0, 5, 7, 0]]> : tensor<1x8xi8> -> tensor<1x8x!quant.uniform<i8:f32, 0.1>>
  return %w : tensor<1x8x!quant.uniform<i8:f32, 0.1>>
}
