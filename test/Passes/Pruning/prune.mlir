// The lop-prune pipeline: addPruningPasses (lopper compile --prune and
// --compression-config) for lopper-opt.
// RUN: lopper-opt %s --lop-prune="config=%S/Inputs/pipeline-config.json" 2>&1 | FileCheck %s --check-prefix=CONFIG
// RUN: lopper-opt %s --lop-prune="spec=channel:0.5 config=%S/Inputs/pipeline-nm.json" 2>&1 | FileCheck %s --check-prefix=BOTH
// RUN: not lopper-opt %s --lop-prune="spec=nm:2" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not lopper-opt %s --lop-prune 2>&1 | FileCheck %s --check-prefix=NONE

// BAD: bad pruning spec 'nm:2': expected nm:N:M (e.g. nm:2:4)
// NONE: no pruning spec and no compression config

// The config's default pattern (magnitude:0.5) prunes fc1, its rule for fc2
// gives nm:2:4, and fc3, the classifier, stays dense.
// CONFIG-LABEL: func.func @mlp
// CONFIG: lop.constant {sparsity = #lop.sparsity<unstructured, output_axis = 1, density = 5.000000e-01>} {{.*}} : tensor<4x8xf32>
// CONFIG: lop.constant {sparsity = #lop.sparsity<nm[2, 4], output_axis = 1, density = 5.000000e-01>} {{.*}} : tensor<8x4xf32>
// CONFIG: lop.constant dense<{{.*}} : tensor<4x2xf32>
// CONFIG-NOT: sparsity

// Channel pruning runs first: fc1 loses 4 of its 8 outputs (the columns of
// smallest L1 norm, 0..3) and fc2 the matching rows; fc2's own outputs stay
// as its rule gives it to nm:1:4, which then sees a reduction of 4. The
// classifier stays dense.
// BOTH-LABEL: func.func @mlp
// BOTH: lop.constant dense<{{\[}}[5.000000e+00, -6.000000e+00, 7.000000e+00, -8.000000e+00], {{.*}} : tensor<4x4xf32>
// BOTH: lop.matmul {{.*}} : tensor<?x4xf32>, tensor<4x4xf32> -> tensor<?x4xf32>
// BOTH: lop.constant {sparsity = #lop.sparsity<nm[1, 4], output_axis = 1, density = 2.500000e-01>} dense<{{\[}}[0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [9.000000e+00, 8.000000e+00, 7.000000e+00, 6.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00]]> : tensor<4x4xf32>
// BOTH: lop.matmul {{.*}} : tensor<?x4xf32>, tensor<4x4xf32> -> tensor<?x4xf32>
// BOTH: lop.constant dense<{{.*}} : tensor<4x2xf32>
// BOTH-NOT: sparsity
func.func @mlp(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w1 = lop.constant dense<[[1.0, -2.0, 3.0, -4.0, 5.0, -6.0, 7.0, -8.0], [0.5, 1.5, -2.5, 3.5, -4.5, 5.5, -6.5, 7.5], [8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0], [-1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0]]> : tensor<4x8xf32> -> tensor<4x8xf32>
  %h1 = lop.matmul %x, %w1 {activation = #lop.activation<relu>} : tensor<?x4xf32>, tensor<4x8xf32> -> tensor<?x8xf32> loc("fc1")
  %w2 = lop.constant dense<[[1.0, 2.0, 3.0, 4.0], [-1.0, -2.0, -3.0, -4.0], [0.5, 0.25, 0.125, 2.0], [4.0, 3.0, 2.0, 1.0], [1.5, -1.5, 2.5, -2.5], [0.1, 0.2, 0.3, 0.4], [9.0, 8.0, 7.0, 6.0], [-0.5, 0.5, -0.5, 0.5]]> : tensor<8x4xf32> -> tensor<8x4xf32>
  %h2 = lop.matmul %h1, %w2 {activation = #lop.activation<relu>} : tensor<?x8xf32>, tensor<8x4xf32> -> tensor<?x4xf32> loc("fc2")
  %w3 = lop.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32> -> tensor<4x2xf32>
  %y = lop.matmul %h2, %w3 : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32> loc("fc3")
  return %y : tensor<?x2xf32>
}
