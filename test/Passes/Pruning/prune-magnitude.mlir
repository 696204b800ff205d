// RUN: lopper-opt %s --lop-prune-magnitude="sparsity=0.5 keep-first-last=false" --split-input-file | FileCheck %s
// RUN: lopper-opt %s --lop-prune-magnitude="config=%S/Inputs/keep-config.json" --split-input-file | FileCheck %s
// RUN: lopper-opt %s --lop-prune-magnitude="sparsity=0.5" --split-input-file | FileCheck %s --check-prefix=KEEP
// RUN: lopper-opt %s --lop-prune-magnitude="sparsity=0.25 global=true keep-first-last=false" --split-input-file | FileCheck %s --check-prefix=GLOBAL
// RUN: lopper-opt %s --lop-prune-magnitude="sparsity=0.5 keep-first-last=false activation-norms=%S/Inputs/norms.json" --split-input-file | FileCheck %s --check-prefix=NORMS
// RUN: lopper-opt %s --lop-prune-magnitude="sparsity=0.5 keep-first-last=false config=%S/Inputs/config.json" --split-input-file | FileCheck %s --check-prefix=CONFIG
// RUN: lopper-opt %s --lop-prune-magnitude="sparsity=0.5 keep-first-last=false config=%S/Inputs/config.yaml" --split-input-file | FileCheck %s --check-prefix=CONFIG
// RUN: not lopper-opt %s --lop-prune-magnitude="sparsity=1.5" --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not lopper-opt %s --lop-prune-magnitude="config=%S/Inputs/missing.json" --split-input-file 2>&1 | FileCheck %s --check-prefix=NOFILE
// RUN: not lopper-opt %s --lop-prune-magnitude="keep-first-last=false activation-norms=%S/Inputs/bad-norms.json" --split-input-file 2>&1 | FileCheck %s --check-prefix=BADNORMS
// RUN: not lopper-opt %s --lop-prune-magnitude="config=%S/Inputs/bad-config.json" --split-input-file 2>&1 | FileCheck %s --check-prefix=BADCONFIG

// BAD: error: lop-prune-magnitude: sparsity must be in [0, 1), got 1.5
// NOFILE: error: {{.*}}missing.json: No such file or directory
// BADNORMS: error: loc("fc1"): lop-prune-magnitude: activation norms for 'fc1' have 3 values, expected 4 (input channels)
// BADCONFIG: error: {{.*}}bad-config.json: layers[0]: bad pruning spec 'nm:4:2': N and M must be integers with 0 < N < M

// A matmul weight [K=4, N=2] (output axis 1) and a conv weight [2, 1, 2, 2]:
// half of each, the smallest |w| first.
// CHECK-LABEL: func.func @two_layers
// CHECK: %[[W:.*]] = lop.constant {sparsity = #lop.sparsity<unstructured, output_axis = 1, density = 5.000000e-01>} dense<{{\[}}[0.000000e+00, -8.000000e+00], [-3.000000e+00, 0.000000e+00], [5.000000e+00, 0.000000e+00], [0.000000e+00, 7.000000e+00]]>
// CHECK: lop.matmul %{{.*}}, %[[W]]
// CHECK: %[[C:.*]] = lop.constant {sparsity = #lop.sparsity<unstructured, output_axis = 0, density = 5.000000e-01>} dense<{{\[}}[{{\[}}[0.000000e+00, 4.000000e+00], [0.000000e+00, -3.000000e+00]]], [{{\[}}[0.000000e+00, 0.000000e+00], [6.000000e+00, 5.000000e+00]]]]>
// CHECK: lop.conv %{{.*}}, %[[C]]

// With keep-first-last the first conv stays dense (the matmul is not the
// last heavy op, so it is pruned).
// KEEP-LABEL: func.func @two_layers
// KEEP: lop.constant {sparsity = #lop.sparsity<unstructured, output_axis = 1, density = 5.000000e-01>}
// KEEP: lop.constant dense<{{\[}}[{{\[}}[1.000000e+00, 4.000000e+00]

// With norms [1, 1, 1, 100] for fc1's four input channels the last row
// (k = 3) is the most important: 0.5, 1, 2 and 3 go.
// NORMS-LABEL: func.func @two_layers
// NORMS: dense<{{\[}}[0.000000e+00, -8.000000e+00], [0.000000e+00, 0.000000e+00], [5.000000e+00, 0.000000e+00], [-2.500000e-01, 7.000000e+00]]>

// The config skips the conv and gives fc1 sparsity 0.75.
// CONFIG-LABEL: func.func @two_layers
// CONFIG: #lop.sparsity<unstructured, output_axis = 1, density = 2.500000e-01>} dense<{{\[}}[0.000000e+00, -8.000000e+00], [0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00], [0.000000e+00, 7.000000e+00]]>
// CONFIG: lop.constant dense<{{\[}}[{{\[}}[1.000000e+00

// Global: 4 of the 16 weights go, the smallest over both layers: 0.125,
// 0.25 and the two 0.5s.
// GLOBAL-LABEL: func.func @two_layers
// GLOBAL: #lop.sparsity<unstructured, output_axis = 1, density = 7.500000e-01>} dense<{{\[}}[1.000000e+00, -8.000000e+00], [-3.000000e+00, 2.000000e+00], [5.000000e+00, 0.000000e+00], [0.000000e+00, 7.000000e+00]]>
// GLOBAL: #lop.sparsity<unstructured, output_axis = 0, density = 7.500000e-01>} dense<{{\[}}[{{\[}}[1.000000e+00, 4.000000e+00], [0.000000e+00, -3.000000e+00]]], [{{\[}}[0.000000e+00, -2.000000e+00], [6.000000e+00, 5.000000e+00]]]]>
func.func @two_layers(%x: tensor<3x4xf32>, %img: tensor<1x1x4x4xf32>) -> (tensor<3x2xf32>, tensor<1x2x3x3xf32>) {
  %w = lop.constant dense<[[1.0, -8.0], [-3.0, 2.0], [5.0, 0.5], [-0.25, 7.0]]> : tensor<4x2xf32> -> tensor<4x2xf32>
  %y = lop.matmul %x, %w : tensor<3x4xf32>, tensor<4x2xf32> -> tensor<3x2xf32> loc("fc1")
  %c = lop.constant dense<[[[[1.0, 4.0], [-0.5, -3.0]]], [[[0.125, -2.0], [6.0, 5.0]]]]> : tensor<2x1x2x2xf32> -> tensor<2x1x2x2xf32>
  %z = lop.conv %img, %c {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x1x4x4xf32>, tensor<2x1x2x2xf32> -> tensor<1x2x3x3xf32> loc("conv")
  return %y, %z : tensor<3x2xf32>, tensor<1x2x3x3xf32>
}

// -----

// A weight shared by two matmuls that prune it the same way is rewritten in
// place; one also read by an add keeps its values there and the matmul gets
// a pruned copy.
// CHECK-LABEL: func.func @shared
// CHECK: %[[S:.*]] = lop.constant {sparsity = #lop.sparsity<unstructured, output_axis = 1, density = 5.000000e-01>} dense<{{\[}}[0.000000e+00, 4.000000e+00], [-3.000000e+00, 0.000000e+00]]>
// CHECK: %[[U:.*]] = lop.constant {sparsity = #lop.sparsity<unstructured, output_axis = 1, density = 5.000000e-01>} dense<{{\[}}[0.000000e+00, 2.000000e+00], [0.000000e+00, 9.000000e+00]]>
// CHECK: %[[T:.*]] = lop.constant dense<{{\[}}[1.000000e+00, 2.000000e+00], [-1.000000e+00, 9.000000e+00]]>
// CHECK: lop.matmul %{{.*}}, %[[S]]
// CHECK: lop.matmul %{{.*}}, %[[S]]
// CHECK: lop.matmul %{{.*}}, %[[U]]
// CHECK: lop.add %[[T]], %[[T]]

// keep-first-last: the last matmul is the classifier and stays dense.
// KEEP-LABEL: func.func @shared
// KEEP: lop.constant {sparsity = #lop.sparsity<unstructured, output_axis = 1, density = 5.000000e-01>} dense<{{\[}}[0.000000e+00, 4.000000e+00], [-3.000000e+00, 0.000000e+00]]>
// KEEP-NEXT: lop.constant dense<{{\[}}[1.000000e+00, 2.000000e+00], [-1.000000e+00, 9.000000e+00]]>
// KEEP-NOT: sparsity

// Global: a shared weight counts once per user; here the users disagree and
// each gets its own copy, and the third matmul's weight is left as it was.
// GLOBAL-LABEL: func.func @shared
// GLOBAL: %[[A:.*]] = lop.constant {sparsity = #lop.sparsity<unstructured, output_axis = 1, density = 5.000000e-01>} dense<{{\[}}[0.000000e+00, 4.000000e+00], [-3.000000e+00, 0.000000e+00]]>
// GLOBAL: %[[B:.*]] = lop.constant {sparsity = #lop.sparsity<unstructured, output_axis = 1, density = 7.500000e-01>} dense<{{\[}}[1.000000e+00, 4.000000e+00], [-3.000000e+00, 0.000000e+00]]>
// GLOBAL: %[[T:.*]] = lop.constant dense<{{\[}}[1.000000e+00, 2.000000e+00], [-1.000000e+00, 9.000000e+00]]>
// GLOBAL: lop.matmul %{{.*}}, %[[A]]
// GLOBAL: lop.matmul %{{.*}}, %[[B]]
// GLOBAL: lop.matmul %{{.*}}, %[[T]]
// GLOBAL: lop.add %[[T]], %[[T]]
func.func @shared(%x: tensor<2x2xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>) {
  %s = lop.constant dense<[[1.0, 4.0], [-3.0, 0.5]]> : tensor<2x2xf32> -> tensor<2x2xf32>
  %t = lop.constant dense<[[1.0, 2.0], [-1.0, 9.0]]> : tensor<2x2xf32> -> tensor<2x2xf32>
  %a = lop.matmul %x, %s : tensor<2x2xf32>, tensor<2x2xf32> -> tensor<2x2xf32>
  %b = lop.matmul %x, %s : tensor<2x2xf32>, tensor<2x2xf32> -> tensor<2x2xf32>
  %c = lop.matmul %x, %t : tensor<2x2xf32>, tensor<2x2xf32> -> tensor<2x2xf32>
  %d = lop.add %t, %t : tensor<2x2xf32>, tensor<2x2xf32> -> tensor<2x2xf32>
  return %a, %b, %c, %d : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>
}
