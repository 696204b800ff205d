// RUN: lopper-opt %s --lop-quantize="table=%S/Inputs/quantize-table.json" 2>&1 | FileCheck %s --check-prefix=STATIC
// RUN: lopper-opt %s --lop-quantize="table=%S/Inputs/quantize-table.json activations=i8 skip=gem*" | FileCheck %s --check-prefix=I8
// RUN: lopper-opt %s --lop-quantize="mode=dynamic" | FileCheck %s --check-prefix=DYN
// RUN: not lopper-opt %s --lop-quantize 2>&1 | FileCheck %s --check-prefix=NOTABLE
// RUN: not lopper-opt %s --lop-quantize="mode=fast" 2>&1 | FileCheck %s --check-prefix=BADMODE
// RUN: not lopper-opt %s --lop-quantize="table=%S/no-such.json" 2>&1 | FileCheck %s --check-prefix=NOFILE

// Weights: per output channel, scale = max|W[c]| / 127: channel 0 [0.5, -2]
// -> scale 2/127, q = [32 (31.75), -127]; channel 1 [0.5, -0.25] -> scale
// 0.5/127, q = [127, -64 (-63.5, half to even)].
// The conv input (graph input x, range [-1, 3]): u8 scale 4/255, zero point
// round(1 / (4/255)) = 64. The gemm input comes through a flatten from the
// relu, named after it; its range [0.5, 2.54] widens to [0, 2.54]:
// scale 0.00996..., zero point 0.

// The matmul's input has no range in the table: it stays f32.
// STATIC: remark: {{.*}}"mm_node"{{.*}}stays f32: the calibration table has no range for 'input:m'
// STATIC-LABEL: func.func @main
// STATIC: %[[W:.*]] = lop.constant dense<{{\[}}{{\[}}{{\[}}[32]], {{\[}}[-127]]], {{\[}}{{\[}}[127]], {{\[}}[-64]]]]> : tensor<2x2x1x1xi8> -> tensor<2x2x1x1x!quant.uniform<i8:f32:0, {0.015748031{{[0-9]*}},0.0039370078{{[0-9]*}}}>>
// STATIC: %[[Q:.*]] = lop.quantize %arg0 : tensor<?x2x3x3xf32> -> tensor<?x2x3x3x!quant.uniform<u8:f32, 0.015686275{{[0-9]*}}:64>>
// STATIC: lop.conv %[[Q]], %[[W]] bias
// STATIC-SAME: -> tensor<?x2x3x3xf32>
// STATIC: lop.quantize %{{.*}} : tensor<?x18xf32> -> tensor<?x18x!quant.uniform<u8:f32, 0.0099607{{[0-9]*}}>>
// STATIC: lop.gemm {{.*}} : tensor<?x18x!quant.uniform<u8:f32, 0.0099607{{[0-9]*}}>>, tensor<4x18x!quant.uniform<i8:f32:0,
// STATIC-SAME: -> tensor<?x4xf32>
// STATIC: lop.matmul %arg1, %{{.*}} : tensor<3x5xf32>, tensor<5x2xf32>

// I8: lop.quantize %arg0 : tensor<?x2x3x3xf32> -> tensor<?x2x3x3x!quant.uniform<i8:f32, 0.023622047{{[0-9]*}}>>
// I8: lop.gemm %{{.*}}, %{{.*}} {transB = true} : tensor<?x18xf32>, tensor<4x18xf32>

// Dynamic: weights quantized, inputs stay f32; the matmul weight's output
// axis is 1.
// DYN-NOT: lop.quantize
// DYN: lop.conv %arg0, %{{.*}} : tensor<?x2x3x3xf32>, tensor<2x2x1x1x!quant.uniform<i8:f32:0,
// DYN: lop.gemm {{.*}} : tensor<?x18xf32>, tensor<4x18x!quant.uniform<i8:f32:0,
// DYN: lop.matmul %arg1, %{{.*}} : tensor<3x5xf32>, tensor<5x2x!quant.uniform<i8:f32:1,

// NOTABLE: mode=static needs a calibration table (table=FILE); mode=dynamic needs none
// BADMODE: mode must be static or dynamic, got 'fast'
// NOFILE: cannot read calibration table '{{.*}}no-such.json'

func.func @main(%x: tensor<?x2x3x3xf32> {lop.name = "x"}, %m: tensor<3x5xf32> {lop.name = "m"}) -> (tensor<?x4xf32>, tensor<3x2xf32>) {
  %w = lop.constant dense<[[[[0.5]], [[-2.0]]], [[[0.5]], [[-0.25]]]]> : tensor<2x2x1x1xf32> -> tensor<2x2x1x1xf32>
  %b = lop.constant dense<[0.1, 0.2]> : tensor<2xf32> -> tensor<2xf32>
  %0 = lop.conv %x, %w bias(%b : tensor<2xf32>) {activation = #lop.activation<relu>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<?x2x3x3xf32>, tensor<2x2x1x1xf32> -> tensor<?x2x3x3xf32> loc("relu_node")
  %1 = lop.flatten %0 {axis = 1 : i64} : tensor<?x2x3x3xf32> -> tensor<?x18xf32>
  %g = lop.constant dense<0.25> : tensor<4x18xf32> -> tensor<4x18xf32>
  %2 = lop.gemm %1, %g {transB = true} : tensor<?x18xf32>, tensor<4x18xf32> -> tensor<?x4xf32> loc("gemm_node")
  %k = lop.constant dense<1.0> : tensor<5x2xf32> -> tensor<5x2xf32>
  %3 = lop.matmul %m, %k : tensor<3x5xf32>, tensor<5x2xf32> -> tensor<3x2xf32> loc("mm_node")
  return %2, %3 : tensor<?x4xf32>, tensor<3x2xf32>
}
