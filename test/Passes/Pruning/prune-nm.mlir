// RUN: lopper-opt %s --lop-prune-nm="n=2 m=4 keep-first-last=false" --split-input-file 2>/dev/null | FileCheck %s
// RUN: lopper-opt %s --lop-prune-nm="n=2 m=4 keep-first-last=false" --split-input-file -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: lopper-opt %s --lop-prune-nm="n=2 m=4 keep-first-last=false config=%S/Inputs/nm-config.json" --split-input-file 2>&1 | FileCheck %s --check-prefix=CONFIG
// RUN: lopper-opt %s --lop-prune-nm="keep-first-last=false config=%S/Inputs/nm-config.json config-only=true" --split-input-file 2>&1 | FileCheck %s --check-prefix=ONLY
// RUN: not lopper-opt %s --lop-prune-nm="n=4 m=2" --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: lop-prune-nm: expected 0 < n < m, got n=4 m=2

// A matmul weight [K=8, N=2]: the output axis is 1, so each column of the
// weight is a row of the [O, R] view, in groups of four consecutive K.
// Ties keep the first (the two 1.0s in column 0's second group).
// CHECK-LABEL: func.func @matmul
// CHECK: %[[W:.*]] = lop.constant {sparsity = #lop.sparsity<nm[2, 4], output_axis = 1, density = 5.000000e-01>}
// CHECK-SAME: dense<{{\[}}[0.000000e+00, 8.000000e+00], [-4.000000e+00, 0.000000e+00], [3.000000e+00, 0.000000e+00], [0.000000e+00, -7.000000e+00], [1.000000e+00, 0.000000e+00], [1.000000e+00, 0.000000e+00], [0.000000e+00, 6.000000e+00], [0.000000e+00, 5.000000e+00]]>
// CHECK: lop.matmul %{{.*}}, %[[W]]
// The config gives fc2 the pattern nm:1:4 (one per group).
// CONFIG-LABEL: func.func @matmul
// CONFIG: #lop.sparsity<nm[1, 4], output_axis = 1, density = 2.500000e-01>
// CONFIG-SAME: dense<{{\[}}[0.000000e+00, 8.000000e+00], [-4.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00], [1.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00], [0.000000e+00, 6.000000e+00], [0.000000e+00, 0.000000e+00]]>
// ONLY-LABEL: func.func @matmul
// ONLY: #lop.sparsity<nm[1, 4], output_axis = 1, density = 2.500000e-01>
func.func @matmul(%x: tensor<3x8xf32>) -> tensor<3x2xf32> {
  %w = lop.constant dense<[[0.5, 8.0], [-4.0, 0.1], [3.0, -0.2], [2.0, -7.0], [1.0, 0.3], [1.0, 0.0], [-0.5, 6.0], [0.25, 5.0]]> : tensor<8x2xf32> -> tensor<8x2xf32>
  %y = lop.matmul %x, %w : tensor<3x8xf32>, tensor<8x2xf32> -> tensor<3x2xf32> loc("fc2")
  return %y : tensor<3x2xf32>
}

// -----

// A conv weight [2, 2, 1, 2] (R = 4) is pruned along C*kh*kw; one whose
// reduction length (3) is not a multiple of 4 is left dense with a remark.
// REMARK: remark: loc("odd"): lop-prune-nm: 'odd' left dense: reduction length 3 is not a multiple of 4
// CHECK-LABEL: func.func @conv
// CHECK: %[[C:.*]] = lop.constant {sparsity = #lop.sparsity<nm[2, 4], output_axis = 0, density = 5.000000e-01>}
// CHECK-SAME: dense<{{\[}}[{{\[}}[0.000000e+00, 4.000000e+00]], {{\[}}[-3.000000e+00, 0.000000e+00]]], [{{\[}}[0.000000e+00, 0.000000e+00]], {{\[}}[6.000000e+00, 5.000000e+00]]]]>
// CHECK: lop.conv %{{.*}}, %[[C]]
// CHECK: %[[O:.*]] = lop.constant dense<{{\[}}[{{\[}}[1.000000e+00], [2.000000e+00], [3.000000e+00]]], {{\[}}[{{\[}}4.000000e+00], [5.000000e+00], [6.000000e+00]]]]>
// CHECK: lop.conv %{{.*}}, %[[O]]
// Config-only prunes nothing here (no rule names these layers).
// ONLY-LABEL: func.func @conv
// ONLY-NOT: sparsity
func.func @conv(%img: tensor<1x2x4x4xf32>, %img1: tensor<1x1x4x4xf32>) -> (tensor<1x2x4x3xf32>, tensor<1x2x2x4xf32>) {
  %c = lop.constant dense<[[[[1.0, 4.0]], [[-3.0, 0.5]]], [[[0.125, -2.0]], [[6.0, 5.0]]]]> : tensor<2x2x1x2xf32> -> tensor<2x2x1x2xf32>
  %y = lop.conv %img, %c {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x2x4x4xf32>, tensor<2x2x1x2xf32> -> tensor<1x2x4x3xf32> loc("conv")
  %o = lop.constant dense<[[[[1.0], [2.0], [3.0]]], [[[4.0], [5.0], [6.0]]]]> : tensor<2x1x3x1xf32> -> tensor<2x1x3x1xf32>
  %z = lop.conv %img1, %o {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x1x4x4xf32>, tensor<2x1x3x1xf32> -> tensor<1x2x2x4xf32> loc("odd")
  return %y, %z : tensor<1x2x4x3xf32>, tensor<1x2x2x4xf32>
}
