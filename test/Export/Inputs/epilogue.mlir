module attributes {lop.opset = 17 : i64} {
  func.func @main(%x: tensor<?x3x8x8xf32> {lop.name = "x"}, %r: tensor<?x4x8x8xf32> {lop.name = "r"}) -> (tensor<?x4x8x8xf32> {lop.name = "y"}) {
    %w = lop.constant dense<0.5> : tensor<4x3x1x1xf32> -> tensor<4x3x1x1xf32>
    %y = lop.conv %x, %w residual(%r : tensor<?x4x8x8xf32>) {activation = #lop.activation<relu>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<?x3x8x8xf32>, tensor<4x3x1x1xf32> -> tensor<?x4x8x8xf32>
    return %y : tensor<?x4x8x8xf32>
  }
}
