//===- LopOps.td - lop dialect operations ----------------*- tablegen -*-===//

#ifndef LOPPER_DIALECT_LOP_LOPOPS_TD
#define LOPPER_DIALECT_LOP_LOPOPS_TD

include "lopper/Dialect/Lop/LopDialect.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

//===----------------------------------------------------------------------===//
// Base classes
//===----------------------------------------------------------------------===//

class Lop_Op<string mnemonic, list<Trait> traits = []>
    : Op<Lop_Dialect, mnemonic, !listconcat(traits, [Pure])>;

// The declared result type may refine the inferred one (a static size where
// inference gives `?`, or a quantized type whose expressed type is inferred).
defvar Lop_CompatDef = [{
  bool $cppClass::isCompatibleReturnTypes(::mlir::TypeRange l, ::mlir::TypeRange r) {
    return ::lopper::lop::areCompatibleReturnTypes(l, r);
  }
}];

// An op whose result types come from a C++ function `lopper::lop::infer<Name>`
// in ShapeInference.cpp, which is also its verifier.
class Lop_InferOp<string mnemonic, string inferFn, list<Trait> traits = []>
    : Lop_Op<mnemonic, !listconcat(traits, [InferTypeOpAdaptorWithIsCompatible])> {
  let extraClassDefinition = Lop_CompatDef # [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *ctx,
        std::optional<::mlir::Location> loc, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return ::lopper::lop::}] # inferFn # [{(ctx, loc, adaptor, types);
    }
  }];
}

defvar Lop_Tensor = AnyRankedTensor;
defvar Lop_OptF32 = OptionalAttr<F32Attr>;

//===----------------------------------------------------------------------===//
// Constants and quantization
//===----------------------------------------------------------------------===//

def Lop_ConstantOp : Lop_Op<"constant", [ConstantLike]> {
  let summary = "a constant tensor (an ONNX initializer or Constant node)";
  let description = [{
    Large values hold their bytes in a `dense_resource` blob and are never
    expanded into MLIR dense attributes. A quantized constant stores the
    integer storage values in `value`; its result type is the quantized type
    (same shape, storage type equal to the element type of `value`). The
    optional `sparsity` describes the zeros of a weight (docs/ir-contracts.md).
  }];
  let arguments = (ins ElementsAttr:$value,
                       OptionalAttr<Lop_SparsityAttr>:$sparsity);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "attr-dict $value `->` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Lop_QuantizeOp : Lop_Op<"quantize"> {
  let summary = "float to quantized (ONNX QuantizeLinear)";
  let description = [{
    `q = clamp(round_half_even(x / scale) + zero_point)` with scale and zero
    point taken from the result's `!quant.uniform` type, per tensor or per
    axis.
  }];
  let arguments = (ins Lop_Tensor:$input);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Lop_DequantizeOp : Lop_InferOp<"dequantize", "inferDequantize"> {
  let summary = "quantized to float (ONNX DequantizeLinear)";
  let description = "`x = (q - zero_point) * scale`, parameters from the operand's type.";
  let arguments = (ins Lop_Tensor:$input);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

//===----------------------------------------------------------------------===//
// Heavy ops with an epilogue
//===----------------------------------------------------------------------===//

defvar Lop_EpilogueArgs = (ins
    DefaultValuedAttr<Lop_ActivationAttr, "::lopper::lop::ActivationKind::none">:$activation,
    Lop_OptF32:$activation_alpha,
    Lop_OptF32:$activation_beta);

defvar Lop_EpilogueDoc = [{

    Epilogue: `y = act(acc + bias + residual)`, where `bias` broadcasts along
    the output-channel axis and `residual` has the result's shape. With
    quantized operands `acc` is the int32 accumulation rescaled by
    `input_scale * weight_scale[c]`; a quantized result type requantizes `y`
    (the requantizing epilogue). `activation_alpha`/`activation_beta` are the
    leaky_relu slope and the clip bounds.
  }];

defvar Lop_HeavyFormat = [{
    $input `,` $weight (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`residual` `(` $residual^ `:` type($residual) `)`)?
    attr-dict `:` type($input) `,` type($weight) `->` type($output)
}];

def Lop_ConvOp : Lop_InferOp<"conv", "inferConv", [AttrSizedOperandSegments]> {
  let summary = "N-d convolution (ONNX Conv) with an epilogue";
  let description = [{
    Input [N, C, D1...], weight [M, C/group, K1...]. `pads` is explicit
    ([begin..., end...]); `auto_pad` is resolved by the importer.
  }] # Lop_EpilogueDoc;
  let arguments = !con((ins Lop_Tensor:$input, Lop_Tensor:$weight,
                            Optional<Lop_Tensor>:$bias,
                            Optional<Lop_Tensor>:$residual,
                            DenseI64ArrayAttr:$strides,
                            DenseI64ArrayAttr:$pads,
                            DenseI64ArrayAttr:$dilations,
                            DefaultValuedAttr<I64Attr, "1">:$group),
                       Lop_EpilogueArgs);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = Lop_HeavyFormat;
}

def Lop_ConvTransposeOp : Lop_InferOp<"conv_transpose", "inferConvTranspose",
                                      [AttrSizedOperandSegments]> {
  let summary = "transposed convolution (ONNX ConvTranspose) with an epilogue";
  let description = [{
    Input [N, C, D1...], weight [C, M/group, K1...]. `output_shape` is
    resolved into `pads` by the importer.
  }] # Lop_EpilogueDoc;
  let arguments = !con((ins Lop_Tensor:$input, Lop_Tensor:$weight,
                            Optional<Lop_Tensor>:$bias,
                            Optional<Lop_Tensor>:$residual,
                            DenseI64ArrayAttr:$strides,
                            DenseI64ArrayAttr:$pads,
                            DenseI64ArrayAttr:$dilations,
                            DenseI64ArrayAttr:$output_padding,
                            DefaultValuedAttr<I64Attr, "1">:$group),
                       Lop_EpilogueArgs);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = Lop_HeavyFormat;
}

def Lop_GemmOp : Lop_InferOp<"gemm", "inferGemm", [AttrSizedOperandSegments]> {
  let summary = "general matrix multiply (ONNX Gemm) with an epilogue";
  let description = [{
    `alpha * op(A) * op(B) + beta * C`; ONNX's C is the epilogue `bias`
    (broadcast to [M, N]), already multiplied by `beta` where the importer
    could fold it.
  }] # Lop_EpilogueDoc;
  let arguments = !con((ins Lop_Tensor:$input, Lop_Tensor:$weight,
                            Optional<Lop_Tensor>:$bias,
                            Optional<Lop_Tensor>:$residual,
                            DefaultValuedAttr<F32Attr, "1.0f">:$alpha,
                            DefaultValuedAttr<F32Attr, "1.0f">:$beta,
                            DefaultValuedAttr<BoolAttr, "false">:$transA,
                            DefaultValuedAttr<BoolAttr, "false">:$transB),
                       Lop_EpilogueArgs);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = Lop_HeavyFormat;
}

def Lop_MatMulOp : Lop_InferOp<"matmul", "inferMatMul", [AttrSizedOperandSegments]> {
  let summary = "numpy-style batched matrix multiply (ONNX MatMul) with an epilogue";
  let description = [{
    Batch dimensions broadcast; 1-D operands are promoted as numpy does.
    `bias` broadcasts along the last result axis.
  }] # Lop_EpilogueDoc;
  let arguments = !con((ins Lop_Tensor:$input, Lop_Tensor:$weight,
                            Optional<Lop_Tensor>:$bias,
                            Optional<Lop_Tensor>:$residual),
                       Lop_EpilogueArgs);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = Lop_HeavyFormat;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class Lop_UnaryOp<string mnemonic, string summ, dag attrs = (ins)>
    : Lop_InferOp<mnemonic, "inferSameAsInput"> {
  let summary = summ;
  let arguments = !con((ins Lop_Tensor:$input), attrs);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def Lop_SqrtOp : Lop_UnaryOp<"sqrt", "elementwise square root">;
def Lop_ReciprocalOp : Lop_UnaryOp<"reciprocal", "elementwise 1/x">;
def Lop_ExpOp : Lop_UnaryOp<"exp", "elementwise e^x">;
def Lop_LogOp : Lop_UnaryOp<"log", "elementwise natural logarithm">;
def Lop_NegOp : Lop_UnaryOp<"neg", "elementwise negation">;
def Lop_AbsOp : Lop_UnaryOp<"abs", "elementwise absolute value">;
def Lop_ErfOp : Lop_UnaryOp<"erf", "elementwise error function">;
def Lop_TanhOp : Lop_UnaryOp<"tanh", "elementwise tanh">;
def Lop_SigmoidOp : Lop_UnaryOp<"sigmoid", "elementwise 1/(1+e^-x)">;
def Lop_ReluOp : Lop_UnaryOp<"relu", "elementwise max(x, 0)">;
def Lop_NotOp : Lop_UnaryOp<"not", "elementwise logical not on i1">;
def Lop_HardSwishOp : Lop_UnaryOp<"hard_swish", "x * max(0, min(1, x/6 + 1/2))">;
def Lop_LeakyReluOp : Lop_UnaryOp<"leaky_relu", "x < 0 ? alpha*x : x",
    (ins DefaultValuedAttr<F32Attr, "0.01f">:$alpha)>;
def Lop_EluOp : Lop_UnaryOp<"elu", "x < 0 ? alpha*(e^x-1) : x",
    (ins DefaultValuedAttr<F32Attr, "1.0f">:$alpha)>;
def Lop_HardSigmoidOp : Lop_UnaryOp<"hard_sigmoid", "max(0, min(1, alpha*x + beta))",
    (ins DefaultValuedAttr<F32Attr, "0.2f">:$alpha,
         DefaultValuedAttr<F32Attr, "0.5f">:$beta)>;
def Lop_GeluOp : Lop_UnaryOp<"gelu", "Gaussian error linear unit (approximate: none or tanh)",
    (ins DefaultValuedAttr<StrAttr, "\"none\"">:$approximate)>;
def Lop_ClipOp : Lop_UnaryOp<"clip", "clamp to [min, max]; absent bounds are open",
    (ins Lop_OptF32:$min, Lop_OptF32:$max)>;
def Lop_SoftmaxOp : Lop_UnaryOp<"softmax", "softmax along one axis (opset-13 semantics)",
    (ins DefaultValuedAttr<I64Attr, "-1">:$axis)>;
def Lop_LogSoftmaxOp : Lop_UnaryOp<"log_softmax", "log of softmax along one axis (opset-13 semantics)",
    (ins DefaultValuedAttr<I64Attr, "-1">:$axis)>;

def Lop_CastOp : Lop_InferOp<"cast", "inferCast"> {
  let summary = "element type conversion (ONNX Cast)";
  let arguments = (ins Lop_Tensor:$input, TypeAttr:$to);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

class Lop_BinaryOp<string mnemonic, string summ, string inferFn = "inferBroadcast">
    : Lop_InferOp<mnemonic, inferFn> {
  let summary = summ # " with numpy broadcasting";
  let arguments = (ins Lop_Tensor:$lhs, Lop_Tensor:$rhs);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($output)";
}

def Lop_AddOp : Lop_BinaryOp<"add", "elementwise addition">;
def Lop_SubOp : Lop_BinaryOp<"sub", "elementwise subtraction">;
def Lop_MulOp : Lop_BinaryOp<"mul", "elementwise multiplication">;
def Lop_DivOp : Lop_BinaryOp<"div", "elementwise division">;
def Lop_PowOp : Lop_BinaryOp<"pow", "elementwise power (result has the base's type)", "inferPow">;
def Lop_EqualOp : Lop_BinaryOp<"equal", "elementwise ==, result i1", "inferCompare">;
def Lop_LessOp : Lop_BinaryOp<"less", "elementwise <, result i1", "inferCompare">;
def Lop_GreaterOp : Lop_BinaryOp<"greater", "elementwise >, result i1", "inferCompare">;
def Lop_AndOp : Lop_BinaryOp<"and", "elementwise logical and on i1", "inferLogical">;

def Lop_WhereOp : Lop_InferOp<"where", "inferWhere"> {
  let summary = "select from x where condition is true, else y, with broadcasting";
  let arguments = (ins Lop_Tensor:$condition, Lop_Tensor:$x, Lop_Tensor:$y);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$condition `,` $x `,` $y attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Normalization and pooling
//===----------------------------------------------------------------------===//

def Lop_BatchNormOp : Lop_InferOp<"batch_norm", "inferBatchNorm"> {
  let summary = "inference batch normalization over axis 1 (ONNX BatchNormalization)";
  let arguments = (ins Lop_Tensor:$input, Lop_Tensor:$scale, Lop_Tensor:$bias,
                       Lop_Tensor:$mean, Lop_Tensor:$variance,
                       DefaultValuedAttr<F32Attr, "1e-5f">:$epsilon);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Lop_LayerNormOp : Lop_InferOp<"layer_norm", "inferLayerNorm"> {
  let summary = "layer normalization over the axes from `axis` on (ONNX LayerNormalization)";
  let arguments = (ins Lop_Tensor:$input, Lop_Tensor:$scale, Optional<Lop_Tensor>:$bias,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1e-5f">:$epsilon);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $scale (`bias` `(` $bias^ `:` type($bias) `)`)? attr-dict `:`
    type($input) `,` type($scale) `->` type($output)
  }];
}

def Lop_InstanceNormOp : Lop_InferOp<"instance_norm", "inferInstanceNorm"> {
  let summary = "instance normalization (ONNX InstanceNormalization)";
  let arguments = (ins Lop_Tensor:$input, Lop_Tensor:$scale, Lop_Tensor:$bias,
                       DefaultValuedAttr<F32Attr, "1e-5f">:$epsilon);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

class Lop_PoolOp<string mnemonic, string summ, dag extra = (ins)>
    : Lop_InferOp<mnemonic, "inferPool"> {
  let summary = summ;
  let description = "`pads` is explicit ([begin..., end...]); `auto_pad` is resolved by the importer.";
  let arguments = !con((ins Lop_Tensor:$input,
                            DenseI64ArrayAttr:$kernel_shape,
                            DenseI64ArrayAttr:$strides,
                            DenseI64ArrayAttr:$pads,
                            DenseI64ArrayAttr:$dilations,
                            DefaultValuedAttr<BoolAttr, "false">:$ceil_mode), extra);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def Lop_MaxPoolOp : Lop_PoolOp<"max_pool", "max pooling (ONNX MaxPool, values only)">;
def Lop_AveragePoolOp : Lop_PoolOp<"average_pool", "average pooling (ONNX AveragePool)",
    (ins DefaultValuedAttr<BoolAttr, "false">:$count_include_pad)>;

def Lop_GlobalAveragePoolOp : Lop_InferOp<"global_average_pool", "inferGlobalPool"> {
  let summary = "mean over all spatial axes, kept as size 1";
  let arguments = (ins Lop_Tensor:$input);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def Lop_GlobalMaxPoolOp : Lop_InferOp<"global_max_pool", "inferGlobalPool"> {
  let summary = "max over all spatial axes, kept as size 1";
  let arguments = (ins Lop_Tensor:$input);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class Lop_ReduceOp<string mnemonic, string summ> : Lop_InferOp<mnemonic, "inferReduce"> {
  let summary = summ;
  let description = [{
    `axes` are non-negative and sorted; an empty `axes` reduces every axis
    (ONNX's `noop_with_empty_axes` is resolved by the importer).
  }];
  let arguments = (ins Lop_Tensor:$input, DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def Lop_ReduceMeanOp : Lop_ReduceOp<"reduce_mean", "mean over axes">;
def Lop_ReduceSumOp : Lop_ReduceOp<"reduce_sum", "sum over axes">;
def Lop_ReduceMaxOp : Lop_ReduceOp<"reduce_max", "maximum over axes">;
def Lop_ReduceMinOp : Lop_ReduceOp<"reduce_min", "minimum over axes">;

def Lop_ArgMaxOp : Lop_InferOp<"argmax", "inferArgMax"> {
  let summary = "index of the maximum along an axis (i64 result)";
  let arguments = (ins Lop_Tensor:$input, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                       DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def Lop_TopKOp : Lop_InferOp<"topk", "inferTopK"> {
  let summary = "the k largest (or smallest) values and their i64 indices along an axis";
  let arguments = (ins Lop_Tensor:$input, Lop_Tensor:$k, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "true">:$largest,
                       DefaultValuedAttr<BoolAttr, "true">:$sorted);
  let results = (outs Lop_Tensor:$values, Lop_Tensor:$indices);
  let assemblyFormat = "$input `,` $k attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

def Lop_ReshapeOp : Lop_InferOp<"reshape", "inferReshape"> {
  let summary = "reshape to a 1-D i64 shape operand (0 copies, -1 infers, unless allowzero)";
  let arguments = (ins Lop_Tensor:$input, Lop_Tensor:$shape,
                       DefaultValuedAttr<BoolAttr, "false">:$allowzero);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input `,` $shape attr-dict `:` functional-type(operands, results)";
}

def Lop_FlattenOp : Lop_InferOp<"flatten", "inferFlatten"> {
  let summary = "flatten to 2-D at `axis` (non-negative)";
  let arguments = (ins Lop_Tensor:$input, I64Attr:$axis);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def Lop_TransposeOp : Lop_InferOp<"transpose", "inferTranspose"> {
  let summary = "permute axes";
  let arguments = (ins Lop_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def Lop_SqueezeOp : Lop_InferOp<"squeeze", "inferSqueeze"> {
  let summary = "remove size-1 axes (non-negative, sorted)";
  let arguments = (ins Lop_Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def Lop_UnsqueezeOp : Lop_InferOp<"unsqueeze", "inferUnsqueeze"> {
  let summary = "insert size-1 axes at positions of the result (non-negative, sorted)";
  let arguments = (ins Lop_Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def Lop_ConcatOp : Lop_InferOp<"concat", "inferConcat"> {
  let summary = "concatenate along a non-negative axis";
  let arguments = (ins Variadic<Lop_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, results)";
}

def Lop_SplitOp : Lop_InferOp<"split", "inferSplit"> {
  let summary = "split along a non-negative axis into pieces of the given sizes";
  let arguments = (ins Lop_Tensor:$input, I64Attr:$axis, DenseI64ArrayAttr:$split);
  let results = (outs Variadic<Lop_Tensor>:$outputs);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($outputs)";
}

def Lop_SliceOp : Lop_InferOp<"slice", "inferSlice"> {
  let summary = "strided slice (ONNX Slice, opset-10 operand form)";
  let description = [{
    `starts`, `ends`, `axes` and `steps` are 1-D integer tensors of equal
    length; the importer materializes absent `axes` and `steps`.
  }];
  let arguments = (ins Lop_Tensor:$input, Lop_Tensor:$starts, Lop_Tensor:$ends,
                       Lop_Tensor:$axes, Lop_Tensor:$steps);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Lop_GatherOp : Lop_InferOp<"gather", "inferGather"> {
  let summary = "gather slices along a non-negative axis (ONNX Gather)";
  let arguments = (ins Lop_Tensor:$input, Lop_Tensor:$indices, I64Attr:$axis);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input `,` $indices attr-dict `:` functional-type(operands, results)";
}

def Lop_ShapeOp : Lop_InferOp<"shape", "inferShape"> {
  let summary = "the dimensions [start, end) of the input as a 1-D i64 tensor";
  let arguments = (ins Lop_Tensor:$input, I64Attr:$start, I64Attr:$end);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasFolder = 1;
}

def Lop_ConstantOfShapeOp : Lop_InferOp<"constant_of_shape", "inferConstantOfShape"> {
  let summary = "a tensor of the given 1-D i64 shape filled with one value";
  let arguments = (ins Lop_Tensor:$shape, TypedAttrInterface:$value);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$shape attr-dict `:` type($shape) `->` type($output)";
}

def Lop_ExpandOp : Lop_InferOp<"expand", "inferExpand"> {
  let summary = "broadcast to a 1-D i64 shape operand (ONNX Expand)";
  let arguments = (ins Lop_Tensor:$input, Lop_Tensor:$shape);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input `,` $shape attr-dict `:` functional-type(operands, results)";
}

def Lop_TileOp : Lop_InferOp<"tile", "inferTile"> {
  let summary = "repeat the input along each axis (ONNX Tile)";
  let arguments = (ins Lop_Tensor:$input, Lop_Tensor:$repeats);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input `,` $repeats attr-dict `:` functional-type(operands, results)";
}

def Lop_RangeOp : Lop_InferOp<"range", "inferRange"> {
  let summary = "1-D sequence start, start+delta, ... below limit (scalar operands)";
  let arguments = (ins Lop_Tensor:$start, Lop_Tensor:$limit, Lop_Tensor:$delta);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Lop_PadOp : Lop_InferOp<"pad", "inferPad"> {
  let summary = "pad with a constant, by reflection or by edge replication";
  let description = "`pads` is [begin..., end...] over every axis; negative values crop.";
  let arguments = (ins Lop_Tensor:$input, DenseI64ArrayAttr:$pads,
                       DefaultValuedAttr<StrAttr, "\"constant\"">:$mode,
                       DefaultValuedAttr<F64Attr, "0.0">:$value);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def Lop_ResizeOp : Lop_InferOp<"resize", "inferResize", [AttrSizedOperandSegments]> {
  let summary = "resize by `scales` or to `sizes` (ONNX Resize)";
  let description = [{
    Exactly one of `scales` (1-D f32, one per axis) and `sizes` (1-D i64) is
    given. `mode` is nearest, linear or cubic; the coordinate transformation
    and nearest rounding modes keep their ONNX names, as do
    `exclude_outside`, `extrapolation_value` and `antialias`. ONNX's `axes`
    and `keep_aspect_ratio_policy` are resolved by the importer: where the
    scale the coordinates use is not output / input (keep_aspect_ratio_policy
    rounds the output size), `coordinate_scales` holds it, one per axis.
    `roi` ([starts..., ends...], one per axis) is tf_crop_and_resize's.
  }];
  let arguments = (ins Lop_Tensor:$input,
                       Optional<Lop_Tensor>:$scales, Optional<Lop_Tensor>:$sizes,
                       DefaultValuedAttr<StrAttr, "\"nearest\"">:$mode,
                       DefaultValuedAttr<StrAttr, "\"half_pixel\"">:$coordinate_transformation_mode,
                       DefaultValuedAttr<StrAttr, "\"round_prefer_floor\"">:$nearest_mode,
                       DefaultValuedAttr<F32Attr, "-0.75f">:$cubic_coeff_a,
                       DefaultValuedAttr<BoolAttr, "false">:$exclude_outside,
                       DefaultValuedAttr<F32Attr, "0.0f">:$extrapolation_value,
                       DefaultValuedAttr<BoolAttr, "false">:$antialias,
                       OptionalAttr<DenseF64ArrayAttr>:$coordinate_scales,
                       OptionalAttr<DenseF64ArrayAttr>:$roi);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = [{
    $input (`scales` `(` $scales^ `:` type($scales) `)`)?
    (`sizes` `(` $sizes^ `:` type($sizes) `)`)? attr-dict `:`
    type($input) `->` type($output)
  }];
}

//===----------------------------------------------------------------------===//
// ONNX coverage: more elementwise math, bitwise and logical ops, reductions
// and data movement (issue 4)
//===----------------------------------------------------------------------===//

def Lop_FloorOp : Lop_UnaryOp<"floor", "elementwise floor">;
def Lop_CeilOp : Lop_UnaryOp<"ceil", "elementwise ceiling">;
def Lop_RoundOp : Lop_UnaryOp<"round", "elementwise round half to even">;
def Lop_SinOp : Lop_UnaryOp<"sin", "elementwise sine">;
def Lop_CosOp : Lop_UnaryOp<"cos", "elementwise cosine">;
def Lop_TanOp : Lop_UnaryOp<"tan", "elementwise tangent">;
def Lop_AsinOp : Lop_UnaryOp<"asin", "elementwise arcsine">;
def Lop_AcosOp : Lop_UnaryOp<"acos", "elementwise arccosine">;
def Lop_AtanOp : Lop_UnaryOp<"atan", "elementwise arctangent">;
def Lop_SinhOp : Lop_UnaryOp<"sinh", "elementwise hyperbolic sine">;
def Lop_CoshOp : Lop_UnaryOp<"cosh", "elementwise hyperbolic cosine">;
def Lop_AsinhOp : Lop_UnaryOp<"asinh", "elementwise inverse hyperbolic sine">;
def Lop_AcoshOp : Lop_UnaryOp<"acosh", "elementwise inverse hyperbolic cosine">;
def Lop_AtanhOp : Lop_UnaryOp<"atanh", "elementwise inverse hyperbolic tangent">;
def Lop_BitwiseNotOp : Lop_UnaryOp<"bitwise_not", "elementwise bitwise not on integers">;

def Lop_OrOp : Lop_BinaryOp<"or", "elementwise logical or on i1", "inferLogical">;
def Lop_XorOp : Lop_BinaryOp<"xor", "elementwise logical xor on i1", "inferLogical">;
def Lop_BitwiseAndOp : Lop_BinaryOp<"bitwise_and", "elementwise bitwise and on integers">;
def Lop_BitwiseOrOp : Lop_BinaryOp<"bitwise_or", "elementwise bitwise or on integers">;
def Lop_BitwiseXorOp : Lop_BinaryOp<"bitwise_xor", "elementwise bitwise xor on integers">;

def Lop_ModOp : Lop_InferOp<"mod", "inferBroadcast"> {
  let summary = "elementwise remainder with numpy broadcasting (ONNX Mod)";
  let description = [{
    With `fmod` the result has the sign of the dividend (C fmod); without
    it, the sign of the divisor (Python's %), integers only.
  }];
  let arguments = (ins Lop_Tensor:$lhs, Lop_Tensor:$rhs,
                       DefaultValuedAttr<I64Attr, "0">:$fmod);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($output)";
}

def Lop_BitShiftOp : Lop_InferOp<"bit_shift", "inferBroadcast"> {
  let summary = "elementwise logical shift of unsigned integers (ONNX BitShift)";
  let arguments = (ins Lop_Tensor:$lhs, Lop_Tensor:$rhs, StrAttr:$direction);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($output)";
}

def Lop_ReduceProdOp : Lop_ReduceOp<"reduce_prod", "product over axes">;

def Lop_ArgMinOp : Lop_InferOp<"argmin", "inferArgMax"> {
  let summary = "index of the minimum along an axis (i64 result)";
  let arguments = (ins Lop_Tensor:$input, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                       DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def Lop_TriluOp : Lop_InferOp<"trilu", "inferSameAsInput"> {
  let summary = "keep the upper or lower triangle of the last two axes (ONNX Trilu)";
  let description = [{
    `k` is an optional scalar (or 1-element) i64 diagonal offset, read at
    run time; elements off the kept triangle become zero.
  }];
  let arguments = (ins Lop_Tensor:$input, Optional<Lop_Tensor>:$k,
                       DefaultValuedAttr<BoolAttr, "true">:$upper);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = [{
    $input (`k` `(` $k^ `:` type($k) `)`)? attr-dict `:` type($input) `->` type($output)
  }];
}

def Lop_GatherElementsOp : Lop_InferOp<"gather_elements", "inferGatherElements"> {
  let summary = "gather single elements along a non-negative axis (ONNX GatherElements)";
  let description = "The result has the shape of `indices`; negative indices count from the end.";
  let arguments = (ins Lop_Tensor:$input, Lop_Tensor:$indices, I64Attr:$axis);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input `,` $indices attr-dict `:` functional-type(operands, results)";
}

def Lop_ReduceRuntimeAxesOp : Lop_InferOp<"reduce_runtime_axes", "inferReduceRuntimeAxes"> {
  let summary = "reduction over axes given as a run-time 1-D integer tensor";
  let description = [{
    ONNX reductions whose `axes` input is computed or fed at run time.
    `kind` is sum, mean, max, min or prod. Inference knows only the rank (and
    the size-1 dims with `keepdims`); the importer declares the result type
    the model gives, and code generation reads the axes at run time. An
    empty `axes` reduces everything unless `noop_with_empty_axes`.
  }];
  let arguments = (ins Lop_Tensor:$input, Lop_Tensor:$axes, StrAttr:$kind,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                       DefaultValuedAttr<BoolAttr, "false">:$noop_with_empty_axes);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input `,` $axes attr-dict `:` functional-type(operands, results)";
}

class Lop_CumulativeOp<string mnemonic, string summ>
    : Lop_InferOp<mnemonic, "inferSameAsInput"> {
  let summary = summ;
  let description = [{
    `axis` is a scalar (or 1-element) integer tensor, read at run time;
    `exclusive` leaves each element out of its own result, `reverse` runs
    from the end of the axis.
  }];
  let arguments = (ins Lop_Tensor:$input, Lop_Tensor:$axis,
                       DefaultValuedAttr<I64Attr, "0">:$exclusive,
                       DefaultValuedAttr<I64Attr, "0">:$reverse);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input `,` $axis attr-dict `:` functional-type(operands, results)";
}

def Lop_CumSumOp : Lop_CumulativeOp<"cum_sum", "running sum along an axis (ONNX CumSum)">;
def Lop_CumProdOp : Lop_CumulativeOp<"cum_prod", "running product along an axis (ONNX CumProd)">;

def Lop_ScatterElementsOp : Lop_InferOp<"scatter_elements", "inferSameAsInput"> {
  let summary = "scatter single elements along an axis (ONNX ScatterElements)";
  let description = [{
    `indices` and `updates` have one shape; `reduction` is none, add, mul,
    max or min. Updates apply in index order.
  }];
  let arguments = (ins Lop_Tensor:$input, Lop_Tensor:$indices, Lop_Tensor:$updates,
                       DefaultValuedAttr<I64Attr, "0">:$axis,
                       DefaultValuedAttr<StrAttr, "\"none\"">:$reduction);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input `,` $indices `,` $updates attr-dict `:` functional-type(operands, results)";
}

def Lop_ScatterNDOp : Lop_InferOp<"scatter_nd", "inferSameAsInput"> {
  let summary = "scatter slices addressed by index tuples (ONNX ScatterND)";
  let arguments = (ins Lop_Tensor:$input, Lop_Tensor:$indices, Lop_Tensor:$updates,
                       DefaultValuedAttr<StrAttr, "\"none\"">:$reduction);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input `,` $indices `,` $updates attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Pooling indices and sampling (issue 4, part A)
//===----------------------------------------------------------------------===//

def Lop_MaxPoolIndicesOp : Lop_InferOp<"max_pool_indices", "inferMaxPoolIndices"> {
  let summary = "flat input index of each max-pool window's maximum (ONNX MaxPool's Indices)";
  let description = [{
    max_pool's attributes; the result (i64, max_pool's shape) indexes the
    input flattened over [N, C, D...]: row-major for `storage_order` 0, the
    spatial axes column-major for 1. Ties go to the first maximum in window
    order.
  }];
  let arguments = (ins Lop_Tensor:$input,
                       DenseI64ArrayAttr:$kernel_shape,
                       DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                       DefaultValuedAttr<I64Attr, "0">:$storage_order);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def Lop_GridSampleOp : Lop_InferOp<"grid_sample", "inferGridSample"> {
  let summary = "sample the input at grid positions (ONNX GridSample)";
  let description = [{
    Input [N, C, D...], grid [N, O..., r] with r = the number of spatial
    axes, coordinates in [-1, 1] innermost axis last (x, y, ...); result
    [N, C, O...]. `mode` is linear, nearest or cubic; `padding_mode` zeros,
    border or reflection.
  }];
  let arguments = (ins Lop_Tensor:$input, Lop_Tensor:$grid,
                       DefaultValuedAttr<StrAttr, "\"linear\"">:$mode,
                       DefaultValuedAttr<StrAttr, "\"zeros\"">:$padding_mode,
                       DefaultValuedAttr<BoolAttr, "false">:$align_corners);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input `,` $grid attr-dict `:` functional-type(operands, results)";
}

def Lop_RoiAlignOp : Lop_InferOp<"roi_align", "inferRoiAlign"> {
  let summary = "average or max of bilinear samples per region bin (ONNX RoiAlign)";
  let description = [{
    Input [N, C, H, W], rois [R, 4] (x1, y1, x2, y2), batch_indices [R];
    result [R, C, output_height, output_width]. `half_pixel` is ONNX's
    coordinate_transformation_mode half_pixel (else output_half_pixel).
  }];
  let arguments = (ins Lop_Tensor:$input, Lop_Tensor:$rois,
                       Lop_Tensor:$batch_indices,
                       DefaultValuedAttr<StrAttr, "\"avg\"">:$mode,
                       DefaultValuedAttr<I64Attr, "1">:$output_height,
                       DefaultValuedAttr<I64Attr, "1">:$output_width,
                       DefaultValuedAttr<I64Attr, "0">:$sampling_ratio,
                       DefaultValuedAttr<F32Attr, "1.0f">:$spatial_scale,
                       DefaultValuedAttr<BoolAttr, "true">:$half_pixel);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "$input `,` $rois `,` $batch_indices attr-dict `:` functional-type(operands, results)";
}

def Lop_DeformConvOp : Lop_InferOp<"deform_conv", "inferDeformConv"> {
  let summary = "2-D deformable convolution (ONNX DeformConv)";
  let description = [{
    Input [N, C, H, W], weight [M, C/group, kH, kW], offset [N,
    offset_group * 2 * kH * kW, oH, oW] ((dy, dx) per tap), bias [M], mask
    [N, offset_group * kH * kW, oH, oW] (the importer supplies zeros and
    ones when ONNX omits them). Taps sample the input bilinearly, zero
    outside.
  }];
  let arguments = (ins Lop_Tensor:$input, Lop_Tensor:$weight,
                       Lop_Tensor:$offset, Lop_Tensor:$bias, Lop_Tensor:$mask,
                       DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$group,
                       DefaultValuedAttr<I64Attr, "1">:$offset_group);
  let results = (outs Lop_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

#endif
