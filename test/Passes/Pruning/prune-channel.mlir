// RUN: lopper-opt %s --lop-prune-channel="sparsity=0.5 keep-first-last=false" --split-input-file | FileCheck %s
// RUN: lopper-opt %s --lop-prune-channel="sparsity=0.5" --split-input-file | FileCheck %s --check-prefix=KEEP
// RUN: lopper-opt %s --lop-prune-channel="sparsity=0.5 keep-first-last=false config=%S/Inputs/channel-config.json" --split-input-file | FileCheck %s --check-prefix=CONFIG
// RUN: not lopper-opt %s --lop-prune-channel="sparsity=-0.5" --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: lop-prune-channel: sparsity must be in [0, 1), got -5.000000e-01

// Filter L1 norms 1, 4, 0.5, 3: channels 2 and 0 go from the conv, its
// bias, the batch norm's four parameters and the next conv's inputs.
// CHECK-LABEL: func.func @conv_bn_conv
// CHECK: %[[W1:.*]] = lop.constant dense<{{\[}}[{{\[}}[-4.000000e+00]]], {{\[}}[{{\[}}3.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK: %[[B1:.*]] = lop.constant dense<[2.000000e-01, 4.000000e-01]> : tensor<2xf32>
// CHECK: %[[C1:.*]] = lop.conv %{{.*}}, %[[W1]] bias(%[[B1]] : tensor<2xf32>) {{.*}} -> tensor<1x2x2x2xf32>
// CHECK: %[[S:.*]] = lop.constant dense<[2.000000e+00, 4.000000e+00]>
// CHECK: %[[BB:.*]] = lop.constant dense<[6.000000e+00, 8.000000e+00]>
// CHECK: %[[M:.*]] = lop.constant dense<[5.000000e-01, 1.500000e+00]>
// CHECK: %[[V:.*]] = lop.constant dense<[1.500000e+00, 2.500000e+00]>
// CHECK: %[[BN:.*]] = lop.batch_norm %[[C1]], %[[S]], %[[BB]], %[[M]], %[[V]] : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
// CHECK: %[[R:.*]] = lop.relu %[[BN]] : tensor<1x2x2x2xf32> -> tensor<1x2x2x2xf32>
// CHECK: %[[W2:.*]] = lop.constant dense<{{\[}}[{{\[}}[2.000000e+00]], {{\[}}[4.000000e+00]]], {{\[}}[{{\[}}6.000000e+00]], {{\[}}[8.000000e+00]]]]> : tensor<2x2x1x1xf32>
// CHECK: lop.conv %[[R]], %[[W2]] {{.*}} : tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32> -> tensor<1x2x2x2xf32>
// The second conv's output is the graph output: its channels stay.
// With keep-first-last the first conv stays, and so does everything here.
// KEEP-LABEL: func.func @conv_bn_conv
// KEEP-NOT: tensor<2x1x1x1xf32>
// KEEP: return
// A config rule can skip a layer by name.
// CONFIG-LABEL: func.func @conv_bn_conv
// CONFIG-NOT: tensor<2x1x1x1xf32>
// CONFIG: return
func.func @conv_bn_conv(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w1 = lop.constant dense<[[[[1.0]]], [[[-4.0]]], [[[0.5]]], [[[3.0]]]]> : tensor<4x1x1x1xf32> -> tensor<4x1x1x1xf32>
  %b1 = lop.constant dense<[0.1, 0.2, 0.3, 0.4]> : tensor<4xf32> -> tensor<4xf32>
  %c1 = lop.conv %x, %w1 bias(%b1 : tensor<4xf32>) {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x1x2x2xf32>, tensor<4x1x1x1xf32> -> tensor<1x4x2x2xf32> loc("stem")
  %s = lop.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> -> tensor<4xf32>
  %bb = lop.constant dense<[5.0, 6.0, 7.0, 8.0]> : tensor<4xf32> -> tensor<4xf32>
  %m = lop.constant dense<[0.0, 0.5, 1.0, 1.5]> : tensor<4xf32> -> tensor<4xf32>
  %v = lop.constant dense<[1.0, 1.5, 2.0, 2.5]> : tensor<4xf32> -> tensor<4xf32>
  %bn = lop.batch_norm %c1, %s, %bb, %m, %v : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  %r = lop.relu %bn : tensor<1x4x2x2xf32> -> tensor<1x4x2x2xf32>
  %w2 = lop.constant dense<[[[[1.0]], [[2.0]], [[3.0]], [[4.0]]], [[[5.0]], [[6.0]], [[7.0]], [[8.0]]]]> : tensor<2x4x1x1xf32> -> tensor<2x4x1x1xf32>
  %c2 = lop.conv %r, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x4x2x2xf32>, tensor<2x4x1x1xf32> -> tensor<1x2x2x2xf32>
  return %c2 : tensor<1x2x2x2xf32>
}

// -----

// Channels joined by an add are decided together: summed norms 5, 2.5, 5,
// 4.25, so channels 1 and 3 go from both branches.
// CHECK-LABEL: func.func @residual
// CHECK: %[[WA:.*]] = lop.constant dense<{{\[}}[{{\[}}[1.000000e+00]]], {{\[}}[{{\[}}3.000000e+00]]]]>
// CHECK: %[[A:.*]] = lop.conv %{{.*}}, %[[WA]] {{.*}} -> tensor<1x2x2x2xf32>
// CHECK: %[[WB:.*]] = lop.constant dense<{{\[}}[{{\[}}[4.000000e+00]]], {{\[}}[{{\[}}2.000000e+00]]]]>
// CHECK: %[[B:.*]] = lop.conv %{{.*}}, %[[WB]] {{.*}} -> tensor<1x2x2x2xf32>
// CHECK: %[[SUM:.*]] = lop.add %[[A]], %[[B]] : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32> -> tensor<1x2x2x2xf32>
// CHECK: %[[WC:.*]] = lop.constant dense<{{\[}}[{{\[}}[1.000000e+00]], {{\[}}[3.000000e+00]]]]> : tensor<1x2x1x1xf32>
// CHECK: lop.conv %[[SUM]], %[[WC]]
func.func @residual(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %wa = lop.constant dense<[[[[1.0]]], [[[2.0]]], [[[3.0]]], [[[4.0]]]]> : tensor<4x1x1x1xf32> -> tensor<4x1x1x1xf32>
  %a = lop.conv %x, %wa {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x1x2x2xf32>, tensor<4x1x1x1xf32> -> tensor<1x4x2x2xf32>
  %wb = lop.constant dense<[[[[4.0]]], [[[-0.5]]], [[[2.0]]], [[[-0.25]]]]> : tensor<4x1x1x1xf32> -> tensor<4x1x1x1xf32>
  %b = lop.conv %x, %wb {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x1x2x2xf32>, tensor<4x1x1x1xf32> -> tensor<1x4x2x2xf32>
  %sum = lop.add %a, %b : tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32> -> tensor<1x4x2x2xf32>
  %wc = lop.constant dense<[[[[1.0]], [[2.0]], [[3.0]], [[4.0]]]]> : tensor<1x4x1x1xf32> -> tensor<1x4x1x1xf32>
  %c = lop.conv %sum, %wc {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x4x2x2xf32>, tensor<1x4x1x1xf32> -> tensor<1x1x2x2xf32>
  return %c : tensor<1x1x2x2xf32>
}

// -----

// A depthwise conv passes its channels through: its filters, bias and
// group count follow the first conv (norms 1, 2, 3, 0.5: 3 and 0 go).
// CHECK-LABEL: func.func @depthwise
// CHECK: lop.constant dense<{{\[}}[{{\[}}[2.000000e+00]]], {{\[}}[{{\[}}-3.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK: %[[WD:.*]] = lop.constant dense<{{\[}}[{{\[}}[2.000000e+00, 2.000000e+00, 2.000000e+00], [2.000000e+00, 2.000000e+00, 2.000000e+00], [2.000000e+00, 2.000000e+00, 2.000000e+00]]], {{\[}}[{{\[}}3.000000e+00, 3.000000e+00, 3.000000e+00], [3.000000e+00, 3.000000e+00, 3.000000e+00], [3.000000e+00, 3.000000e+00, 3.000000e+00]]]]> : tensor<2x1x3x3xf32>
// CHECK: %[[BD:.*]] = lop.constant dense<[2.000000e-01, 3.000000e-01]>
// CHECK: %[[DW:.*]] = lop.conv %{{.*}}, %[[WD]] bias(%[[BD]] : tensor<2xf32>) {{{.*}}group = 2 : i64{{.*}}} : tensor<1x2x3x3xf32>, tensor<2x1x3x3xf32> -> tensor<1x2x1x1xf32>
// CHECK: %[[W2:.*]] = lop.constant dense<{{\[}}[{{\[}}[2.000000e+00]], {{\[}}[3.000000e+00]]]]> : tensor<1x2x1x1xf32>
// CHECK: lop.conv %[[DW]], %[[W2]]
func.func @depthwise(%x: tensor<1x1x3x3xf32>) -> tensor<1x1x1x1xf32> {
  %w1 = lop.constant dense<[[[[1.0]]], [[[2.0]]], [[[-3.0]]], [[[0.5]]]]> : tensor<4x1x1x1xf32> -> tensor<4x1x1x1xf32>
  %c1 = lop.conv %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x1x3x3xf32>, tensor<4x1x1x1xf32> -> tensor<1x4x3x3xf32>
  %wd = lop.constant dense<[[[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]], [[[2.0, 2.0, 2.0], [2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]], [[[3.0, 3.0, 3.0], [3.0, 3.0, 3.0], [3.0, 3.0, 3.0]]], [[[4.0, 4.0, 4.0], [4.0, 4.0, 4.0], [4.0, 4.0, 4.0]]]]> : tensor<4x1x3x3xf32> -> tensor<4x1x3x3xf32>
  %bd = lop.constant dense<[0.1, 0.2, 0.3, 0.4]> : tensor<4xf32> -> tensor<4xf32>
  %dw = lop.conv %c1, %wd bias(%bd : tensor<4xf32>) {group = 4 : i64, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x4x3x3xf32>, tensor<4x1x3x3xf32> -> tensor<1x4x1x1xf32>
  %w2 = lop.constant dense<[[[[1.0]], [[2.0]], [[3.0]], [[4.0]]]]> : tensor<1x4x1x1xf32> -> tensor<1x4x1x1xf32>
  %c2 = lop.conv %dw, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x4x1x1xf32>, tensor<1x4x1x1xf32> -> tensor<1x1x1x1xf32>
  return %c2 : tensor<1x1x1x1xf32>
}

// -----

// Concat offsets the second input's channels: of a0, a1, b0, b1 (norms 1,
// 5, 2, 0.5) b1 and a0 go; the consumer keeps inputs 1 and 2.
// CHECK-LABEL: func.func @concat
// CHECK: lop.constant dense<5.000000e+00> : tensor<1x1x1x1xf32>
// CHECK: lop.constant dense<2.000000e+00> : tensor<1x1x1x1xf32>
// CHECK: lop.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32>
// CHECK: lop.constant dense<{{\[}}[{{\[}}[2.000000e+00]], {{\[}}[3.000000e+00]]]]> : tensor<1x2x1x1xf32>
func.func @concat(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %wa = lop.constant dense<[[[[1.0]]], [[[5.0]]]]> : tensor<2x1x1x1xf32> -> tensor<2x1x1x1xf32>
  %a = lop.conv %x, %wa {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
  %wb = lop.constant dense<[[[[2.0]]], [[[0.5]]]]> : tensor<2x1x1x1xf32> -> tensor<2x1x1x1xf32>
  %b = lop.conv %x, %wb {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
  %cat = lop.concat %a, %b {axis = 1 : i64} : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x4x2x2xf32>
  %wc = lop.constant dense<[[[[1.0]], [[2.0]], [[3.0]], [[4.0]]]]> : tensor<1x4x1x1xf32> -> tensor<1x4x1x1xf32>
  %c = lop.conv %cat, %wc {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x4x2x2xf32>, tensor<1x4x1x1xf32> -> tensor<1x1x2x2xf32>
  return %c : tensor<1x1x2x2xf32>
}

// -----

// Through pooling and flatten (two features per channel, channel-major) to a
// gemm, and through a reshape to [N, C*H*W] to a matmul: channels 1 and 3
// stay, i.e. features 2, 3, 6 and 7; the reshape's target follows.
// CHECK-LABEL: func.func @flatten_gemm
// CHECK: lop.constant dense<{{\[}}[{{\[}}[-2.000000e+00]]], {{\[}}[{{\[}}3.000000e+00]]]]>
// CHECK: %[[P:.*]] = lop.max_pool %{{.*}} : tensor<?x2x2x2xf32> -> tensor<?x2x1x2xf32>
// CHECK: %[[F:.*]] = lop.flatten %[[P]] {axis = 1 : i64} : tensor<?x2x1x2xf32> -> tensor<?x4xf32>
// CHECK: %[[WG:.*]] = lop.constant dense<{{\[}}[3.000000e+00, 4.000000e+00, 7.000000e+00, 8.000000e+00], [1.100000e+01, 1.200000e+01, 1.500000e+01, 1.600000e+01]]> : tensor<2x4xf32>
// CHECK: lop.gemm %[[F]], %[[WG]] {transB = true} : tensor<?x4xf32>, tensor<2x4xf32> -> tensor<?x2xf32>
// CHECK: %[[SH:.*]] = lop.constant dense<[0, 4]> : tensor<2xi64>
// CHECK: %[[RS:.*]] = lop.reshape %[[P]], %[[SH]] : (tensor<?x2x1x2xf32>, tensor<2xi64>) -> tensor<?x4xf32>
// CHECK: %[[WM:.*]] = lop.constant dense<{{\[}}[5.000000e+00, 6.000000e+00], [7.000000e+00, 8.000000e+00], [1.300000e+01, 1.400000e+01], [1.500000e+01, 1.600000e+01]]> : tensor<4x2xf32>
// CHECK: lop.matmul %[[RS]], %[[WM]] : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32>
func.func @flatten_gemm(%x: tensor<?x1x2x2xf32>) -> (tensor<?x2xf32>, tensor<?x2xf32>) {
  %w1 = lop.constant dense<[[[[1.0]]], [[[-2.0]]], [[[0.5]]], [[[3.0]]]]> : tensor<4x1x1x1xf32> -> tensor<4x1x1x1xf32>
  %c1 = lop.conv %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<?x1x2x2xf32>, tensor<4x1x1x1xf32> -> tensor<?x4x2x2xf32>
  %p = lop.max_pool %c1 {kernel_shape = array<i64: 2, 1>, strides = array<i64: 2, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<?x4x2x2xf32> -> tensor<?x4x1x2xf32>
  %f = lop.flatten %p {axis = 1 : i64} : tensor<?x4x1x2xf32> -> tensor<?x8xf32>
  %wg = lop.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0]]> : tensor<2x8xf32> -> tensor<2x8xf32>
  %g = lop.gemm %f, %wg {transB = true} : tensor<?x8xf32>, tensor<2x8xf32> -> tensor<?x2xf32>
  %shape = lop.constant dense<[0, 8]> : tensor<2xi64> -> tensor<2xi64>
  %rs = lop.reshape %p, %shape : (tensor<?x4x1x2xf32>, tensor<2xi64>) -> tensor<?x8xf32>
  %wm = lop.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0], [9.0, 10.0], [11.0, 12.0], [13.0, 14.0], [15.0, 16.0]]> : tensor<8x2xf32> -> tensor<8x2xf32>
  %m = lop.matmul %rs, %wm : tensor<?x8xf32>, tensor<8x2xf32> -> tensor<?x2xf32>
  return %g, %m : tensor<?x2xf32>, tensor<?x2xf32>
}

// -----

// Matmul output features (weight columns; norms 2, 1, 6, 0.5) through the
// bias, a scalar mul, erf and a GELU-style product to the next matmul's rows.
// CHECK-LABEL: func.func @matmul_chain
// CHECK: %[[W1:.*]] = lop.constant dense<{{\[}}[1.000000e+00, 3.000000e+00], [1.000000e+00, -3.000000e+00]]> : tensor<2x2xf32>
// CHECK: %[[B1:.*]] = lop.constant dense<[1.000000e-01, 3.000000e-01]> : tensor<2xf32>
// CHECK: lop.matmul %{{.*}}, %[[W1]] bias(%[[B1]] : tensor<2xf32>) : tensor<?x3x2xf32>, tensor<2x2xf32> -> tensor<?x3x2xf32>
// CHECK: lop.erf %{{.*}} : tensor<?x3x2xf32> -> tensor<?x3x2xf32>
// CHECK: %[[W2:.*]] = lop.constant dense<{{\[}}[1.000000e+00], [3.000000e+00]]> : tensor<2x1xf32>
// CHECK: lop.matmul %{{.*}}, %[[W2]] : tensor<?x3x2xf32>, tensor<2x1xf32> -> tensor<?x3x1xf32>
func.func @matmul_chain(%x: tensor<?x3x2xf32>) -> tensor<?x3x1xf32> {
  %w1 = lop.constant dense<[[1.0, -0.5, 3.0, 0.25], [1.0, 0.5, -3.0, 0.25]]> : tensor<2x4xf32> -> tensor<2x4xf32>
  %b1 = lop.constant dense<[0.1, 0.2, 0.3, 0.4]> : tensor<4xf32> -> tensor<4xf32>
  %h = lop.matmul %x, %w1 bias(%b1 : tensor<4xf32>) : tensor<?x3x2xf32>, tensor<2x4xf32> -> tensor<?x3x4xf32>
  %half = lop.constant dense<0.5> : tensor<f32> -> tensor<f32>
  %sc = lop.mul %h, %half : tensor<?x3x4xf32>, tensor<f32> -> tensor<?x3x4xf32>
  %e = lop.erf %sc : tensor<?x3x4xf32> -> tensor<?x3x4xf32>
  %g = lop.mul %h, %e : tensor<?x3x4xf32>, tensor<?x3x4xf32> -> tensor<?x3x4xf32>
  %w2 = lop.constant dense<[[1.0], [2.0], [3.0], [4.0]]> : tensor<4x1xf32> -> tensor<4x1xf32>
  %y = lop.matmul %g, %w2 : tensor<?x3x4xf32>, tensor<4x1xf32> -> tensor<?x3x1xf32>
  return %y : tensor<?x3x1xf32>
}

// -----

// A value that reaches a graph output, or an op the pass cannot follow
// (transpose), keeps its channels.
// CHECK-LABEL: func.func @blocked
// CHECK-NOT: tensor<2x1x1x1xf32>
// CHECK: return
func.func @blocked(%x: tensor<1x1x2x2xf32>) -> (tensor<1x4x2x2xf32>, tensor<1x2x2x4xf32>) {
  %w1 = lop.constant dense<[[[[1.0]]], [[[-4.0]]], [[[0.5]]], [[[3.0]]]]> : tensor<4x1x1x1xf32> -> tensor<4x1x1x1xf32>
  %c1 = lop.conv %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x1x2x2xf32>, tensor<4x1x1x1xf32> -> tensor<1x4x2x2xf32>
  %r = lop.relu %c1 : tensor<1x4x2x2xf32> -> tensor<1x4x2x2xf32>
  %w2 = lop.constant dense<[[[[1.0]]], [[[-4.0]]], [[[0.5]]], [[[3.0]]]]> : tensor<4x1x1x1xf32> -> tensor<4x1x1x1xf32>
  %c2 = lop.conv %x, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x1x2x2xf32>, tensor<4x1x1x1xf32> -> tensor<1x4x2x2xf32>
  %t = lop.transpose %c2 {perm = array<i64: 0, 3, 2, 1>} : tensor<1x4x2x2xf32> -> tensor<1x2x2x4xf32>
  return %r, %t : tensor<1x4x2x2xf32>, tensor<1x2x2x4xf32>
}

// -----

// An epilogue residual joins like an add: summed norms 1.5, 6, 5, and one
// of three channels goes (floor(0.5 * 3)).
// CHECK-LABEL: func.func @epilogue_residual
// CHECK: lop.constant dense<{{\[}}[{{\[}}[2.000000e+00]]], {{\[}}[{{\[}}3.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK: %[[A:.*]] = lop.conv
// CHECK: lop.constant dense<{{\[}}[{{\[}}[-4.000000e+00]]], {{\[}}[{{\[}}2.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK: lop.conv %{{.*}}, %{{.*}} residual(%[[A]] : tensor<1x2x2x2xf32>) {{.*}} -> tensor<1x2x2x2xf32>
// CHECK: lop.constant dense<{{\[}}[{{\[}}[2.000000e+00]], {{\[}}[3.000000e+00]]]]> : tensor<1x2x1x1xf32>
func.func @epilogue_residual(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %wa = lop.constant dense<[[[[1.0]]], [[[2.0]]], [[[3.0]]]]> : tensor<3x1x1x1xf32> -> tensor<3x1x1x1xf32>
  %a = lop.conv %x, %wa {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x1x2x2xf32>, tensor<3x1x1x1xf32> -> tensor<1x3x2x2xf32>
  %wb = lop.constant dense<[[[[0.5]]], [[[-4.0]]], [[[2.0]]]]> : tensor<3x1x1x1xf32> -> tensor<3x1x1x1xf32>
  %b = lop.conv %x, %wb residual(%a : tensor<1x3x2x2xf32>) {activation = #lop.activation<relu>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x1x2x2xf32>, tensor<3x1x1x1xf32> -> tensor<1x3x2x2xf32>
  %wc = lop.constant dense<[[[[1.0]], [[2.0]], [[3.0]]]]> : tensor<1x3x1x1xf32> -> tensor<1x3x1x1xf32>
  %c = lop.conv %b, %wc {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x2x2xf32>, tensor<1x3x1x1xf32> -> tensor<1x1x2x2xf32>
  return %c : tensor<1x1x2x2xf32>
}
