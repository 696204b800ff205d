//===- LopDialect.td - the lop dialect and its attributes -*- tablegen -*-===//

#ifndef LOPPER_DIALECT_LOP_LOPDIALECT_TD
#define LOPPER_DIALECT_LOP_LOPDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Lop_Dialect : Dialect {
  let name = "lop";
  let cppNamespace = "::lopper::lop";
  let summary = "ONNX-like operations on ranked tensors, the IR every Lopper pass rewrites";
  let description = [{
    `lop` holds one form per ONNX operator: the importer resolves `auto_pad`,
    attribute-versus-input forms and opset differences, so passes see a single
    spelling. Values are ranked tensors whose dimensions may be dynamic (`?`).
    Every op infers its own result type; the verifier checks the declared type
    against the inferred one (a declared static size may refine an inferred
    dynamic one). Conv, ConvTranspose, Gemm and MatMul carry an epilogue
    (bias, residual, activation, requantization). Quantized values use the
    `quant` dialect's types. See docs/ir-contracts.md.
  }];
  let dependentDialects = ["::mlir::quant::QuantDialect", "::mlir::func::FuncDialect"];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
}

def Lop_ActivationKind : I32EnumAttr<"ActivationKind", "epilogue activation", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"relu", 1>,
    I32EnumAttrCase<"clip", 2>,
    I32EnumAttrCase<"sigmoid", 3>,
    I32EnumAttrCase<"silu", 4>,
    I32EnumAttrCase<"gelu", 5>,
    I32EnumAttrCase<"gelu_tanh", 6>,
    I32EnumAttrCase<"hard_swish", 7>,
    I32EnumAttrCase<"leaky_relu", 8>,
    I32EnumAttrCase<"tanh", 9>]> {
  let cppNamespace = "::lopper::lop";
  let genSpecializedAttr = 0;
}

def Lop_ActivationAttr : EnumAttr<Lop_Dialect, Lop_ActivationKind, "activation"> {
  let assemblyFormat = "`<` $value `>`";
}

def Lop_SparsityKind : I32EnumAttr<"SparsityKind", "weight sparsity pattern", [
    I32EnumAttrCase<"unstructured", 0>,
    I32EnumAttrCase<"block", 1>,
    I32EnumAttrCase<"nm", 2>]> {
  let cppNamespace = "::lopper::lop";
}

def Lop_SparsityAttr : AttrDef<Lop_Dialect, "Sparsity"> {
  let mnemonic = "sparsity";
  let summary = "sparsity pattern and achieved density of a weight";
  let description = [{
    Describes the zeros of a weight viewed as a matrix [O, R]: O is the
    weight's `output_axis` (the output channels), R the product of the other
    axes in order (the reduction axis).

    * `unstructured`: any zeros (kernels may store it as CSR).
    * `block[R, C]`: every R x C block (R along O, C along R) is all-zero or
      kept; edge blocks may be partial.
    * `nm[N, M]`: at most N nonzeros in every M consecutive reduction elements;
      the reduction length is a multiple of M.

    `density` is the achieved fraction of nonzero elements (unstructured,
    N:M) or of blocks holding any nonzero (block). The verifier checks it,
    and the pattern, against the data when the data is present.

    ```mlir
    #lop.sparsity<nm[2, 4], output_axis = 0, density = 0.5>
    #lop.sparsity<block[4, 1], output_axis = 1, density = 0.1>
    #lop.sparsity<unstructured, output_axis = 0, density = 0.2>
    ```
  }];
  let parameters = (ins "SparsityKind":$kind,
                        ArrayRefParameter<"int64_t">:$pattern,
                        "int64_t":$outputAxis,
                        "::llvm::APFloat":$density);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Block rows (along O) and columns (along R); N and M for N:M.
    int64_t getFirst() const { return getPattern().empty() ? 1 : getPattern()[0]; }
    int64_t getSecond() const { return getPattern().size() < 2 ? 1 : getPattern()[1]; }
    double getDensityValue() const { return getDensity().convertToDouble(); }
  }];
}

#endif
