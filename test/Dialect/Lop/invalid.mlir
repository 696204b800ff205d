// RUN: lopper-opt %s --split-input-file --verify-diagnostics

func.func @conv_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+2 {{input has 3 channels but weight expects 2 (2 x group 1)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_rank(%x: tensor<3x8xf32>, %w: tensor<4x3xf32>) -> tensor<3x8xf32> {
  // expected-error @+2 {{input must have rank >= 3 (N, C, spatial...), got 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.conv %x, %w {strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : tensor<3x8xf32>, tensor<4x3xf32> -> tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}

// -----

func.func @conv_pads(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+2 {{pads needs 4 values, got 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_group(%x: tensor<1x8x8x8xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<1x6x6x6xf32> {
  // expected-error @+2 {{output channels 6 not divisible by group 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 4 : i64} : tensor<1x8x8x8xf32>, tensor<6x2x3x3xf32> -> tensor<1x6x6x6xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

func.func @conv_kernel_too_big(%x: tensor<1x3x2x2xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32> {
  // expected-error @+2 {{kernel extent 3 exceeds padded input 2 on spatial axis 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x2x2xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x1x1xf32>
  return %0 : tensor<1x4x1x1xf32>
}

// -----

func.func @conv_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<5xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+2 {{bias of shape 5 does not fit output channels 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.conv %x, %w bias(%b : tensor<5xf32>) {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_residual(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %r: tensor<1x4x5x5xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+2 {{residual of shape 1x4x5x5 does not match the result shape 1x4x6x6}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.conv %x, %w residual(%r : tensor<1x4x5x5xf32>) {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_mixed_quant(%x: tensor<1x3x8x8x!quant.uniform<u8:f32, 0.1:128>>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+2 {{a quantized input needs a quantized weight}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x8x8x!quant.uniform<u8:f32, 0.1:128>>, tensor<4x3x3x3xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @matmul_dynamic_wrong_float(%x: tensor<2x4xf16>) -> tensor<2x3xf16> {
  %w = lop.constant dense<1> : tensor<4x3xi8> -> tensor<4x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>>
  // expected-error @+2 {{a float input with a quantized weight must be the weight's expressed type}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.matmul %x, %w : tensor<2x4xf16>, tensor<4x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>> -> tensor<2x3xf16>
  return %0 : tensor<2x3xf16>
}

// -----

func.func @result_mismatch(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x7x7xf32> {
  // expected-error @+2 {{inferred type(s) 'tensor<1x4x6x6xf32>' are incompatible with return type(s) of operation 'tensor<1x4x7x7xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x7x7xf32>
  return %0 : tensor<1x4x7x7xf32>
}

// -----

func.func @gemm_rank(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+2 {{operands must be 2-D, got ranks 3 and 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.gemm %a, %b : tensor<2x3x4xf32>, tensor<4x5xf32> -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @gemm_k(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+2 {{reduction sizes differ: 3 and 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.gemm %a, %b : tensor<2x3xf32>, tensor<4x5xf32> -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @matmul_batch(%a: tensor<2x3x4xf32>, %b: tensor<5x4x6xf32>) -> tensor<2x3x6xf32> {
  // expected-error @+2 {{batch dimensions do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.matmul %a, %b : tensor<2x3x4xf32>, tensor<5x4x6xf32> -> tensor<2x3x6xf32>
  return %0 : tensor<2x3x6xf32>
}

// -----

func.func @matmul_types(%a: tensor<3x4xf32>, %b: tensor<4x6xf16>) -> tensor<3x6xf32> {
  // expected-error @+2 {{input and weight element types differ: 'f32' and 'f16'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.matmul %a, %b : tensor<3x4xf32>, tensor<4x6xf16> -> tensor<3x6xf32>
  return %0 : tensor<3x6xf32>
}

// -----

func.func @broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+2 {{shapes 2x3 and 4 do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.add %a, %b : tensor<2x3xf32>, tensor<4xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @element_types(%a: tensor<2x3xf32>, %b: tensor<2x3xi64>) -> tensor<2x3xf32> {
  // expected-error @+2 {{operand element types differ: 'f32' and 'i64'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.mul %a, %b : tensor<2x3xf32>, tensor<2x3xi64> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @and_needs_bool(%a: tensor<2xf32>, %b: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+2 {{expects i1 operands, got 'f32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.and %a, %b : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @where_cond(%c: tensor<2xf32>, %a: tensor<2xf32>, %b: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+2 {{condition must be i1, got 'f32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.where %c, %a, %b : (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @where_types(%c: tensor<2xi1>, %a: tensor<2xf32>, %b: tensor<2xf16>) -> tensor<2xf32> {
  // expected-error @+2 {{x and y element types differ: 'f32' and 'f16'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.where %c, %a, %b : (tensor<2xi1>, tensor<2xf32>, tensor<2xf16>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @dequantize_float(%a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+2 {{operand must have a quantized element type, got 'f32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.dequantize %a : tensor<2xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @quantize_float_result(%a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{result must have a quantized element type, got 'f32'}}
  %0 = lop.quantize %a : tensor<2xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @quantize_expressed(%a: tensor<2xf16>) -> tensor<2x!quant.uniform<i8:f32, 0.5>> {
  // expected-error @+1 {{input element type 'f16' differs from the expressed type 'f32'}}
  %0 = lop.quantize %a : tensor<2xf16> -> tensor<2x!quant.uniform<i8:f32, 0.5>>
  return %0 : tensor<2x!quant.uniform<i8:f32, 0.5>>
}

// -----

func.func @quantize_shape(%a: tensor<3xf32>) -> tensor<2x!quant.uniform<i8:f32, 0.5>> {
  // expected-error @+1 {{input shape does not match the result shape}}
  %0 = lop.quantize %a : tensor<3xf32> -> tensor<2x!quant.uniform<i8:f32, 0.5>>
  return %0 : tensor<2x!quant.uniform<i8:f32, 0.5>>
}

// -----

func.func @quantize_axis_scales(%a: tensor<3x2xf32>) -> tensor<3x2x!quant.uniform<i8:f32:0, {0.5, 0.25}>> {
  // expected-error @+1 {{per-axis type has 2 scales for axis size 3}}
  %0 = lop.quantize %a : tensor<3x2xf32> -> tensor<3x2x!quant.uniform<i8:f32:0, {0.5, 0.25}>>
  return %0 : tensor<3x2x!quant.uniform<i8:f32:0, {0.5, 0.25}>>
}

// -----

func.func @quantize_axis_range(%a: tensor<3xf32>) -> tensor<3x!quant.uniform<i8:f32:1, {0.5, 0.25, 0.1}>> {
  // expected-error @+1 {{quantized dimension 1 out of range for rank 1}}
  %0 = lop.quantize %a : tensor<3xf32> -> tensor<3x!quant.uniform<i8:f32:1, {0.5, 0.25, 0.1}>>
  return %0 : tensor<3x!quant.uniform<i8:f32:1, {0.5, 0.25, 0.1}>>
}

// -----

func.func @constant_shape() -> tensor<3xf32> {
  // expected-error @+1 {{value shape does not match the result shape}}
  %0 = lop.constant dense<1.0> : tensor<2xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @constant_storage() -> tensor<2x!quant.uniform<i8:f32, 0.5>> {
  // expected-error @+1 {{value element type 'i16' does not match result element type}}
  %0 = lop.constant dense<1> : tensor<2xi16> -> tensor<2x!quant.uniform<i8:f32, 0.5>>
  return %0 : tensor<2x!quant.uniform<i8:f32, 0.5>>
}

// -----

func.func @sparsity_nm_violated() -> tensor<1x4xf32> {
  // expected-error @+1 {{N:M sparsity 2:4 violated: output channel 0 has 3 nonzeros in the group at 0}}
  %0 = lop.constant {sparsity = #lop.sparsity<nm[2, 4], output_axis = 0, density = 0.75>} dense<[[1.0, 2.0, 3.0, 0.0]]> : tensor<1x4xf32> -> tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}

// -----

func.func @sparsity_density() -> tensor<1x4xf32> {
  // expected-error @+1 {{sparsity density 5.000000e-01 does not match the data's density 2.500000e-01}}
  %0 = lop.constant {sparsity = #lop.sparsity<unstructured, output_axis = 0, density = 0.5>} dense<[[1.0, 0.0, 0.0, 0.0]]> : tensor<1x4xf32> -> tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}

// -----

func.func @sparsity_nm_length() -> tensor<1x6xf32> {
  // expected-error @+1 {{N:M sparsity needs a reduction length (6) that is a multiple of M = 4}}
  %0 = lop.constant {sparsity = #lop.sparsity<nm[2, 4], output_axis = 0, density = 0.5>} dense<0.0> : tensor<1x6xf32> -> tensor<1x6xf32>
  return %0 : tensor<1x6xf32>
}

// -----

func.func @sparsity_axis() -> tensor<4xf32> {
  // expected-error @+1 {{sparsity output_axis 1 out of range for a rank-1 weight}}
  %0 = lop.constant {sparsity = #lop.sparsity<unstructured, output_axis = 1, density = 0.0>} dense<0.0> : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @sparsity_structured_rank() -> tensor<4xf32> {
  // expected-error @+1 {{structured sparsity needs a weight of rank >= 2}}
  %0 = lop.constant {sparsity = #lop.sparsity<block[4, 1], output_axis = 0, density = 0.0>} dense<0.0> : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// expected-error @+1 {{N:M sparsity needs [N, M] with 1 <= N < M}}
func.func @sparsity_bad_nm() attributes {s = #lop.sparsity<nm[4, 2], output_axis = 0, density = 0.5>} {
  return
}

// -----

// expected-error @+1 {{block sparsity needs [R, C] with R, C >= 1}}
func.func @sparsity_bad_block() attributes {s = #lop.sparsity<block[0, 4], output_axis = 0, density = 0.5>} {
  return
}

// -----

// expected-error @+1 {{sparsity density must be in [0, 1], got 1.5}}
func.func @sparsity_bad_density() attributes {s = #lop.sparsity<unstructured, output_axis = 0, density = 1.5>} {
  return
}

// -----

// expected-error @+1 {{unstructured sparsity takes no pattern}}
func.func @sparsity_unstructured_pattern() attributes {s = #lop.sparsity<unstructured[2, 4], output_axis = 0, density = 0.5>} {
  return
}

// -----

// expected-error @+1 {{unknown sparsity kind 'diagonal'}}
func.func @sparsity_kind() attributes {s = #lop.sparsity<diagonal, output_axis = 0, density = 0.5>} {
  return
}

// -----

func.func @reshape_count(%x: tensor<2x3xf32>) -> tensor<7xf32> {
  %s = lop.constant dense<7> : tensor<1xi64> -> tensor<1xi64>
  // expected-error @+2 {{cannot reshape 6 elements (2x3) into 7}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.reshape %x, %s : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<7xf32>
  return %0 : tensor<7xf32>
}

// -----

func.func @reshape_two_minus_one(%x: tensor<2x3xf32>) -> tensor<?x?xf32> {
  %s = lop.constant dense<-1> : tensor<2xi64> -> tensor<2xi64>
  // expected-error @+2 {{shape has more than one -1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.reshape %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @reshape_shape_type(%x: tensor<2x3xf32>, %s: tensor<?xi64>) -> tensor<6xf32> {
  // expected-error @+2 {{shape must be a 1-D i64 tensor of static length}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.reshape %x, %s : (tensor<2x3xf32>, tensor<?xi64>) -> tensor<6xf32>
  return %0 : tensor<6xf32>
}

// -----

func.func @transpose_perm(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+2 {{perm is not a permutation of [0, 2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.transpose %x {perm = array<i64: 1, 1>} : tensor<2x3xf32> -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @squeeze_size(%x: tensor<2x3xf32>) -> tensor<3xf32> {
  // expected-error @+2 {{cannot squeeze axis 0 of size 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.squeeze %x {axes = array<i64: 0>} : tensor<2x3xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @unsqueeze_axes(%x: tensor<2x3xf32>) -> tensor<1x1x2x3xf32> {
  // expected-error @+2 {{axes must be sorted and unique}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.unsqueeze %x {axes = array<i64: 1, 0>} : tensor<2x3xf32> -> tensor<1x1x2x3xf32>
  return %0 : tensor<1x1x2x3xf32>
}

// -----

func.func @concat_mismatch(%a: tensor<2x3xf32>, %b: tensor<4x4xf32>) -> tensor<6x3xf32> {
  // expected-error @+2 {{inputs differ on axis 1: 3 and 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<4x4xf32>) -> tensor<6x3xf32>
  return %0 : tensor<6x3xf32>
}

// -----

func.func @split_sum(%x: tensor<10xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  // expected-error @+2 {{split sizes sum to 6 but axis 0 has size 10}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = lop.split %x {axis = 0 : i64, split = array<i64: 3, 3>} : tensor<10xf32> -> tensor<3xf32>, tensor<3xf32>
  return %0#0, %0#1 : tensor<3xf32>, tensor<3xf32>
}

// -----

func.func @slice_step(%x: tensor<10xf32>) -> tensor<?xf32> {
  %a = lop.constant dense<0> : tensor<1xi64> -> tensor<1xi64>
  // expected-error @+2 {{slice step must not be 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.slice %x, %a, %a, %a, %a : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @gather_axis(%x: tensor<10xf32>, %i: tensor<2xi64>) -> tensor<2xf32> {
  // expected-error @+2 {{axis 1 out of range for rank 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.gather %x, %i {axis = 1 : i64} : (tensor<10xf32>, tensor<2xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @shape_range(%x: tensor<10xf32>) -> tensor<2xi64> {
  // expected-error @+2 {{start 0 and end 2 must satisfy 0 <= start <= end <= rank 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.shape %x {start = 0 : i64, end = 2 : i64} : tensor<10xf32> -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

func.func @pool_kernel(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+2 {{kernel_shape, strides and dilations need 2 values and pads 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.max_pool %x {kernel_shape = array<i64: 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x8x8xf32> -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

func.func @reduce_axis(%x: tensor<2x3xf32>) -> tensor<2x1xf32> {
  // expected-error @+2 {{axis 2 out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.reduce_sum %x {axes = array<i64: 2>} : tensor<2x3xf32> -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}

// -----

func.func @batch_norm_params(%x: tensor<1x3x4x4xf32>, %p: tensor<4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+2 {{scale must be 1-D of size 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.batch_norm %x, %p, %p, %p, %p : (tensor<1x3x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

func.func @layer_norm_axis(%x: tensor<2x3xf32>, %s: tensor<3xf32>) -> tensor<2x3xf32> {
  // expected-error @+2 {{axis 2 out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.layer_norm %x, %s {axis = 2 : i64} : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @pad_mode(%x: tensor<2xf32>) -> tensor<4xf32> {
  // expected-error @+2 {{unknown pad mode 'mirror'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.pad %x {pads = array<i64: 1, 1>, mode = "mirror"} : tensor<2xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @resize_both(%x: tensor<1x1x2x2xf32>, %s: tensor<4xf32>, %z: tensor<4xi64>) -> tensor<?x?x?x?xf32> {
  // expected-error @+2 {{exactly one of scales and sizes must be given}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.resize %x scales(%s : tensor<4xf32>) sizes(%z : tensor<4xi64>) : tensor<1x1x2x2xf32> -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @cast_target(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+2 {{cast target must be an integer or float type, got 'none'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.cast %x {to = none} : tensor<2xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @topk_k(%x: tensor<4xf32>) -> (tensor<?xf32>, tensor<?xi64>) {
  %k = lop.constant dense<5> : tensor<1xi64> -> tensor<1xi64>
  // expected-error @+2 {{k = 5 out of range for axis size 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = lop.topk %x, %k {axis = 0 : i64} : (tensor<4xf32>, tensor<1xi64>) -> (tensor<?xf32>, tensor<?xi64>)
  return %0#0, %0#1 : tensor<?xf32>, tensor<?xi64>
}

// -----

func.func @range_scalars(%a: tensor<1xi64>) -> tensor<?xi64> {
  // expected-error @+2 {{start, limit and delta must be scalars (rank 0)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.range %a, %a, %a : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

func.func @expand_shape(%x: tensor<3xf32>) -> tensor<4xf32> {
  %s = lop.constant dense<4> : tensor<1xi64> -> tensor<1xi64>
  // expected-error @+2 {{cannot expand 3 to 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.expand %x, %s : (tensor<3xf32>, tensor<1xi64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @tile_repeats(%x: tensor<3xf32>) -> tensor<6xf32> {
  %r = lop.constant dense<2> : tensor<2xi64> -> tensor<2xi64>
  // expected-error @+2 {{repeats has 2 values for rank 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.tile %x, %r : (tensor<3xf32>, tensor<2xi64>) -> tensor<6xf32>
  return %0 : tensor<6xf32>
}

// -----

func.func @argmax_axis(%x: tensor<3xf32>) -> tensor<1xi64> {
  // expected-error @+2 {{axis 1 out of range for rank 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.argmax %x {axis = 1 : i64} : tensor<3xf32> -> tensor<1xi64>
  return %0 : tensor<1xi64>
}

// -----

func.func @flatten_axis(%x: tensor<3xf32>) -> tensor<3x1xf32> {
  // expected-error @+2 {{axis 2 out of range [0, 1]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.flatten %x {axis = 2 : i64} : tensor<3xf32> -> tensor<3x1xf32>
  return %0 : tensor<3x1xf32>
}

// -----

func.func @constant_of_shape_negative() -> tensor<?xf32> {
  %s = lop.constant dense<-2> : tensor<1xi64> -> tensor<1xi64>
  // expected-error @+2 {{negative dimension -2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.constant_of_shape %s {value = 0.0 : f32} : tensor<1xi64> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @matmul_unsupported_types(%a: tensor<2x2xindex>, %b: tensor<2x2xindex>) -> tensor<2x2xindex> {
  // expected-error @+2 {{unsupported element type 'index'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.matmul %a, %b : tensor<2x2xindex>, tensor<2x2xindex> -> tensor<2x2xindex>
  return %0 : tensor<2x2xindex>
}

// -----

func.func @conv_weight_rank(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+2 {{weight rank 3 differs from input rank 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x8x8xf32>, tensor<4x3x3xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_strides_count(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+2 {{strides and dilations need 2 values}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.conv %x, %w {strides = array<i64: 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_transpose_output_padding(%x: tensor<1x3x4x4xf32>, %w: tensor<3x2x3x3xf32>) -> tensor<1x2x6x6xf32> {
  // expected-error @+2 {{output_padding needs 2 values}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.conv_transpose %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0>} : tensor<1x3x4x4xf32>, tensor<3x2x3x3xf32> -> tensor<1x2x6x6xf32>
  return %0 : tensor<1x2x6x6xf32>
}

// -----

func.func @conv_group_zero(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+2 {{group must be >= 1, got 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 0 : i64} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_stride_zero(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+2 {{strides and dilations must be >= 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.conv %x, %w {strides = array<i64: 0, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_transpose_channels(%x: tensor<1x3x4x4xf32>, %w: tensor<5x2x3x3xf32>) -> tensor<1x2x6x6xf32> {
  // expected-error @+2 {{input has 3 channels but weight expects 5}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.conv_transpose %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>} : tensor<1x3x4x4xf32>, tensor<5x2x3x3xf32> -> tensor<1x2x6x6xf32>
  return %0 : tensor<1x2x6x6xf32>
}

// -----

func.func @conv_transpose_empty(%x: tensor<1x3x2x2xf32>, %w: tensor<3x2x3x3xf32>) -> tensor<1x2x1x1xf32> {
  // expected-error @+2 {{output size -2 on spatial axis 0 is empty}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.conv_transpose %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 3, 0, 3, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>} : tensor<1x3x2x2xf32>, tensor<3x2x3x3xf32> -> tensor<1x2x1x1xf32>
  return %0 : tensor<1x2x1x1xf32>
}

// -----

func.func @matmul_scalar(%a: tensor<f32>, %b: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+2 {{operands must have rank >= 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.matmul %a, %b : tensor<f32>, tensor<3xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @batch_norm_rank(%x: tensor<3xf32>, %p: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+2 {{input must have rank >= 2, got 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.batch_norm %x, %p, %p, %p, %p : (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @layer_norm_scale(%x: tensor<2x3xf32>, %s: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+2 {{scale/bias of shape 4 does not broadcast to the normalized shape 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.layer_norm %x, %s {axis = 1 : i64} : tensor<2x3xf32>, tensor<4xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @pool_rank(%x: tensor<3x8xf32>) -> tensor<3x4xf32> {
  // expected-error @+2 {{input must have rank >= 3, got 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.max_pool %x {kernel_shape = array<i64>, strides = array<i64>, pads = array<i64>, dilations = array<i64>} : tensor<3x8xf32> -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @global_pool_rank(%x: tensor<3x8xf32>) -> tensor<3x1xf32> {
  // expected-error @+2 {{input must have rank >= 3, got 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.global_average_pool %x : tensor<3x8xf32> -> tensor<3x1xf32>
  return %0 : tensor<3x1xf32>
}

// -----

func.func @pool_stride_zero(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+2 {{kernel_shape, strides and dilations must be >= 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 0, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x8x8xf32> -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

func.func @pool_window(%x: tensor<1x3x2x2xf32>) -> tensor<1x3x1x1xf32> {
  // expected-error @+2 {{window 3 exceeds padded input 2 on spatial axis 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.average_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x2x2xf32> -> tensor<1x3x1x1xf32>
  return %0 : tensor<1x3x1x1xf32>
}

// -----

func.func @reduce_axes_order(%x: tensor<2x3xf32>) -> tensor<1x1xf32> {
  // expected-error @+2 {{axes must be sorted and unique}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.reduce_mean %x {axes = array<i64: 1, 0>} : tensor<2x3xf32> -> tensor<1x1xf32>
  return %0 : tensor<1x1xf32>
}

// -----

func.func @topk_axis(%x: tensor<4xf32>, %k: tensor<1xi64>) -> (tensor<?xf32>, tensor<?xi64>) {
  // expected-error @+2 {{axis 1 out of range for rank 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = lop.topk %x, %k {axis = 1 : i64} : (tensor<4xf32>, tensor<1xi64>) -> (tensor<?xf32>, tensor<?xi64>)
  return %0#0, %0#1 : tensor<?xf32>, tensor<?xi64>
}

// -----

func.func @topk_k_type(%x: tensor<4xf32>, %k: tensor<1xi32>) -> (tensor<?xf32>, tensor<?xi64>) {
  // expected-error @+2 {{k must be a one-element i64 tensor, got 'tensor<1xi32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = lop.topk %x, %k {axis = 0 : i64} : (tensor<4xf32>, tensor<1xi32>) -> (tensor<?xf32>, tensor<?xi64>)
  return %0#0, %0#1 : tensor<?xf32>, tensor<?xi64>
}

// -----

func.func @reshape_zero_copy(%x: tensor<6xf32>) -> tensor<6x1xf32> {
  %s = lop.constant dense<[-1, 0]> : tensor<2xi64> -> tensor<2xi64>
  // expected-error @+2 {{shape value 0 at index 1 copies a dimension the input (rank 1) does not have}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.reshape %x, %s : (tensor<6xf32>, tensor<2xi64>) -> tensor<6x1xf32>
  return %0 : tensor<6x1xf32>
}

// -----

func.func @reshape_negative(%x: tensor<6xf32>) -> tensor<6xf32> {
  %s = lop.constant dense<-3> : tensor<1xi64> -> tensor<1xi64>
  // expected-error @+2 {{invalid shape value -3 at index 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.reshape %x, %s : (tensor<6xf32>, tensor<1xi64>) -> tensor<6xf32>
  return %0 : tensor<6xf32>
}

// -----

func.func @reshape_infer_static(%x: tensor<2x3xf32>) -> tensor<4x?xf32> {
  %s = lop.constant dense<[4, -1]> : tensor<2xi64> -> tensor<2xi64>
  // expected-error @+2 {{cannot reshape 2x3 into 4x?}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.reshape %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<4x?xf32>
  return %0 : tensor<4x?xf32>
}

// -----

func.func @transpose_perm_size(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  // expected-error @+2 {{perm has 1 entries for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.transpose %x {perm = array<i64: 0>} : tensor<2x3xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @squeeze_axis(%x: tensor<1x3xf32>) -> tensor<3xf32> {
  // expected-error @+2 {{axis 2 out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.squeeze %x {axes = array<i64: 2>} : tensor<1x3xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @concat_empty() -> tensor<2xf32> {
  // expected-error @+2 {{needs at least one input}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.concat {axis = 0 : i64} : () -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @concat_axis(%a: tensor<2xf32>) -> tensor<4xf32> {
  // expected-error @+2 {{axis 1 out of range for rank 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.concat %a, %a {axis = 1 : i64} : (tensor<2xf32>, tensor<2xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @concat_rank(%a: tensor<2xf32>, %b: tensor<2x1xf32>) -> tensor<4xf32> {
  // expected-error @+2 {{inputs differ in rank or element type: 'tensor<2xf32>' and 'tensor<2x1xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.concat %a, %b {axis = 0 : i64} : (tensor<2xf32>, tensor<2x1xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @split_axis(%x: tensor<10xf32>) -> (tensor<5xf32>, tensor<5xf32>) {
  // expected-error @+2 {{axis 1 out of range for rank 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = lop.split %x {axis = 1 : i64, split = array<i64: 5, 5>} : tensor<10xf32> -> tensor<5xf32>, tensor<5xf32>
  return %0#0, %0#1 : tensor<5xf32>, tensor<5xf32>
}

// -----

func.func @split_empty(%x: tensor<10xf32>) {
  // expected-error @+2 {{split needs at least one size}}
  // expected-error @+1 {{failed to infer returned types}}
  "lop.split"(%x) {axis = 0 : i64, split = array<i64>} : (tensor<10xf32>) -> ()
  return
}

// -----

func.func @split_negative(%x: tensor<10xf32>) -> (tensor<12xf32>, tensor<?xf32>) {
  // expected-error @+2 {{split sizes must be >= 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = lop.split %x {axis = 0 : i64, split = array<i64: 12, -2>} : tensor<10xf32> -> tensor<12xf32>, tensor<?xf32>
  return %0#0, %0#1 : tensor<12xf32>, tensor<?xf32>
}

// -----

func.func @slice_operand_type(%x: tensor<10xf32>, %a: tensor<1xf32>) -> tensor<?xf32> {
  // expected-error @+2 {{starts, ends, axes and steps must be 1-D integer tensors, got 'tensor<1xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.slice %x, %a, %a, %a, %a : (tensor<10xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @slice_lengths(%x: tensor<10xf32>, %a: tensor<1xi64>, %b: tensor<2xi64>) -> tensor<?xf32> {
  // expected-error @+2 {{starts, ends, axes and steps differ in length}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.slice %x, %a, %b, %a, %a : (tensor<10xf32>, tensor<1xi64>, tensor<2xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @slice_axis(%x: tensor<10xf32>, %a: tensor<1xi64>) -> tensor<?xf32> {
  %ax = lop.constant dense<1> : tensor<1xi64> -> tensor<1xi64>
  // expected-error @+2 {{slice axis 1 out of range or repeated}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.slice %x, %a, %a, %ax, %a : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @gather_indices(%x: tensor<10xf32>, %i: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+2 {{indices must be integers, got 'f32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.gather %x, %i {axis = 0 : i64} : (tensor<10xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @constant_of_shape_value(%s: tensor<1xi64>) -> tensor<?xf32> {
  // expected-error @+2 {{value must be a scalar integer or float attribute}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.constant_of_shape %s {value = dense<0.0> : tensor<1xf32>} : tensor<1xi64> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @tile_repeats_type(%x: tensor<3xf32>, %r: tensor<1xi32>) -> tensor<?xf32> {
  // expected-error @+2 {{repeats must be a 1-D i64 tensor of static length, got 'tensor<1xi32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.tile %x, %r : (tensor<3xf32>, tensor<1xi32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @range_types(%a: tensor<i64>, %b: tensor<i32>) -> tensor<?xi64> {
  // expected-error @+2 {{start, limit and delta element types differ}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.range %a, %b, %a : (tensor<i64>, tensor<i32>, tensor<i64>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

func.func @range_delta(%a: tensor<i64>) -> tensor<?xi64> {
  %s = lop.constant dense<0> : tensor<i64> -> tensor<i64>
  %l = lop.constant dense<4> : tensor<i64> -> tensor<i64>
  // expected-error @+2 {{delta must not be 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.range %s, %l, %s : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

func.func @pad_count(%x: tensor<2xf32>) -> tensor<4xf32> {
  // expected-error @+2 {{pads needs 2 values, got 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.pad %x {pads = array<i64: 1>} : tensor<2xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @pad_negative(%x: tensor<2xf32>) -> tensor<1xf32> {
  // expected-error @+2 {{padding makes axis 0 negative}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.pad %x {pads = array<i64: -2, -1>} : tensor<2xf32> -> tensor<1xf32>
  return %0 : tensor<1xf32>
}

// -----

func.func @resize_mode(%x: tensor<1x1x2x2xf32>, %s: tensor<4xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+2 {{unknown resize mode 'area'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.resize %x scales(%s : tensor<4xf32>) {mode = "area"} : tensor<1x1x2x2xf32> -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @resize_sizes_count(%x: tensor<1x1x2x2xf32>, %z: tensor<3xi64>) -> tensor<?x?x?x?xf32> {
  // expected-error @+2 {{sizes has 3 values for rank 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.resize %x sizes(%z : tensor<3xi64>) : tensor<1x1x2x2xf32> -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @resize_scales_count(%x: tensor<1x1x2x2xf32>, %s: tensor<3xf32>) -> tensor<?x?x?x?xf32> {
  // expected-error @+2 {{scales must be 1-D with one value per axis, got 'tensor<3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.resize %x scales(%s : tensor<3xf32>) : tensor<1x1x2x2xf32> -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

// expected-error @+1 {{sparsity output_axis must be >= 0}}
func.func @sparsity_negative_axis() attributes {s = #lop.sparsity<unstructured, output_axis = -1, density = 0.5>} {
  return
}

// -----

func.func @matmul_scalar_epilogue(%a: tensor<3xf32>, %b: tensor<3xf32>, %c: tensor<7x9xf32>) -> tensor<f32> {
  // expected-error @+2 {{a bias or residual needs a result of rank >= 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.matmul %a, %b bias(%c : tensor<7x9xf32>) : tensor<3xf32>, tensor<3xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @matmul_mixed_float_int(%a: tensor<2x2xi8>, %b: tensor<2x2xf32>) -> tensor<2x2xf32> {
  // expected-error @+2 {{input and weight element types differ: 'i8' and 'f32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.matmul %a, %b : tensor<2x2xi8>, tensor<2x2xf32> -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @matmul_quant_expressed(%a: tensor<2x2x!quant.uniform<i8:f32, 0.5>>, %b: tensor<2x2x!quant.uniform<i8:f16, 0.5>>) -> tensor<2x2xf32> {
  // expected-error @+2 {{input and weight express different types}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.matmul %a, %b : tensor<2x2x!quant.uniform<i8:f32, 0.5>>, tensor<2x2x!quant.uniform<i8:f16, 0.5>> -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @topk_dynamic_k(%x: tensor<4xf32>, %k: tensor<?xi64>) -> (tensor<?xf32>, tensor<?xi64>) {
  // expected-error @+2 {{k must be a one-element i64 tensor}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = lop.topk %x, %k {axis = 0 : i64} : (tensor<4xf32>, tensor<?xi64>) -> (tensor<?xf32>, tensor<?xi64>)
  return %0#0, %0#1 : tensor<?xf32>, tensor<?xi64>
}

// -----

func.func @cast_index(%x: tensor<2xf32>) -> tensor<2xindex> {
  // expected-error @+2 {{cast target must be an integer or float type, got 'index'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.cast %x {to = index} : tensor<2xf32> -> tensor<2xindex>
  return %0 : tensor<2xindex>
}

// -----

func.func @gather_elements_rank(%x: tensor<2x3xf32>, %i: tensor<2xi64>) -> tensor<2xf32> {
  // expected-error @+2 {{indices rank 1 differs from the input rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.gather_elements %x, %i {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @gather_elements_axis(%x: tensor<2x3xf32>, %i: tensor<2x3xi64>) -> tensor<2x3xf32> {
  // expected-error @+2 {{axis 2 out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.gather_elements %x, %i {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @gather_elements_indices(%x: tensor<2x3xf32>, %i: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+2 {{indices must be integers, got 'f32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.gather_elements %x, %i {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @or_not_bool(%x: tensor<2xi32>) -> tensor<2xi32> {
  // expected-error @+2 {{expects i1 operands, got 'i32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.or %x, %x : tensor<2xi32>, tensor<2xi32> -> tensor<2xi32>
  return %0 : tensor<2xi32>
}

// -----

func.func @reduce_runtime_axes_kind(%x: tensor<3x2xf32>, %a: tensor<1xi64>) -> tensor<3x1xf32> {
  // expected-error @+2 {{unknown reduction kind 'median'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.reduce_runtime_axes %x, %a {kind = "median"} : (tensor<3x2xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  return %0 : tensor<3x1xf32>
}

// -----

func.func @reduce_runtime_axes_axes(%x: tensor<3x2xf32>, %a: tensor<1x1xi64>) -> tensor<3x1xf32> {
  // expected-error @+2 {{axes must be a 1-D integer tensor}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = lop.reduce_runtime_axes %x, %a {kind = "sum"} : (tensor<3x2xf32>, tensor<1x1xi64>) -> tensor<3x1xf32>
  return %0 : tensor<3x1xf32>
}
