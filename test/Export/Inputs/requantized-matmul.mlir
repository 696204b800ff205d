func.func @main(%a: tensor<2x4x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x3x!quant.uniform<u8:f32, 0.05:3>> {
  %w = lop.constant dense<1> : tensor<4x3xi8> -> tensor<4x3x!quant.uniform<i8:f32, 0.2>>
  %y = lop.matmul %a, %w : tensor<2x4x!quant.uniform<i8:f32, 0.1>>, tensor<4x3x!quant.uniform<i8:f32, 0.2>> -> tensor<2x3x!quant.uniform<u8:f32, 0.05:3>>
  return %y : tensor<2x3x!quant.uniform<u8:f32, 0.05:3>>
}
