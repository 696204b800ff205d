func.func @main(%x: tensor<1x3x8x8x!quant.uniform<u8:f32, 0.02:128>>) -> tensor<1x2x8x8xf32> {
  %w = lop.constant dense<1> : tensor<2x3x1x1xi8> -> tensor<2x3x1x1x!quant.uniform<i8:f32:0, {0.01, 0.03}>>
  %b = lop.constant dense<[10, -4]> : tensor<2xi32> -> tensor<2xi32>
  %y = lop.conv %x, %w bias(%b : tensor<2xi32>) {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x3x8x8x!quant.uniform<u8:f32, 0.02:128>>, tensor<2x3x1x1x!quant.uniform<i8:f32:0, {0.01, 0.03}>> -> tensor<1x2x8x8xf32>
  return %y : tensor<1x2x8x8xf32>
}
