// RUN: lopper-opt %s --lop-prune-block="rows=2 cols=2 sparsity=0.5 keep-first-last=false" --split-input-file | FileCheck %s
// RUN: lopper-opt %s --lop-prune-block="rows=2 cols=2 sparsity=0.5 keep-first-last=false config=%S/Inputs/block-config.json" --split-input-file | FileCheck %s --check-prefix=CONFIG
// RUN: not lopper-opt %s --lop-prune-block="rows=0 cols=2" --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: lop-prune-block: expected rows >= 1, cols >= 1 and sparsity in [0, 1), got rows=0 cols=2 sparsity=5.000000e-01

// A matmul weight [K=4, N=4]: the [O, R] view is its transpose, so a 2x2
// tile spans two columns (outputs) and two rows (K) of the weight. The two
// tiles of smallest L2 norm (0.1..0.4 and 0.5..0.8) go.
// CHECK-LABEL: func.func @matmul
// CHECK: %[[W:.*]] = lop.constant {sparsity = #lop.sparsity<block[2, 2], output_axis = 1, density = 5.000000e-01>}
// CHECK-SAME: dense<{{\[}}[1.000000e+00, 2.000000e+00, 0.000000e+00, 0.000000e+00], [3.000000e+00, 4.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 5.000000e+00, 6.000000e+00], [0.000000e+00, 0.000000e+00, 7.000000e+00, 8.000000e+00]]>
// CHECK: lop.matmul %{{.*}}, %[[W]]
// The config gives this layer 1x4 tiles (whole rows of the view, columns of
// the weight) at 0.25: the column of smallest norm (1, 3, 0.5, 0.7) goes.
// CONFIG-LABEL: func.func @matmul
// CONFIG: #lop.sparsity<block[1, 4], output_axis = 1, density = 7.500000e-01>
// CONFIG-SAME: dense<{{\[}}[0.000000e+00, 2.000000e+00, 1.000000e-01, 2.000000e-01], [0.000000e+00, 4.000000e+00, 3.000000e-01, 4.000000e-01], [0.000000e+00, 6.000000e-01, 5.000000e+00, 6.000000e+00], [0.000000e+00, 8.000000e-01, 7.000000e+00, 8.000000e+00]]>
func.func @matmul(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %w = lop.constant dense<[[1.0, 2.0, 0.1, 0.2], [3.0, 4.0, 0.3, 0.4], [0.5, 0.6, 5.0, 6.0], [0.7, 0.8, 7.0, 8.0]]> : tensor<4x4xf32> -> tensor<4x4xf32>
  %y = lop.matmul %x, %w : tensor<3x4xf32>, tensor<4x4xf32> -> tensor<3x4xf32> loc("fc")
  return %y : tensor<3x4xf32>
}

// -----

// A Gemm with transB: the weight [N=3, K=3] is its own [O, R] view. The
// edge tiles are partial (2x1, 1x2, 1x1); the 1x2 tile (norm 0.71) and the
// top-left 2x2 one (norm 2) go.
// CHECK-LABEL: func.func @gemm_edges
// CHECK: %[[G:.*]] = lop.constant {sparsity = #lop.sparsity<block[2, 2], output_axis = 0, density = 5.000000e-01>}
// CHECK-SAME: dense<{{\[}}[0.000000e+00, 0.000000e+00, 9.000000e+00], [0.000000e+00, 0.000000e+00, 9.000000e+00], [0.000000e+00, 0.000000e+00, 3.000000e+00]]>
// CHECK: lop.gemm %{{.*}}, %[[G]]
func.func @gemm_edges(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %w = lop.constant dense<[[1.0, 1.0, 9.0], [1.0, 1.0, 9.0], [0.5, 0.5, 3.0]]> : tensor<3x3xf32> -> tensor<3x3xf32>
  %y = lop.gemm %x, %w {transB = true} : tensor<2x3xf32>, tensor<3x3xf32> -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
