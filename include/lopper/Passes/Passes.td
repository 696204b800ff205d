//===- Passes.td - Lopper passes ---------------------------*- tablegen -*-===//

#ifndef LOPPER_PASSES_TD
#define LOPPER_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Analysis
//===----------------------------------------------------------------------===//

def LopPrintModelStats : Pass<"lop-print-model-stats", "::mlir::ModuleOp"> {
  let summary = "print op histogram, parameter count and bytes, and FLOPs and MACs per op kind";
  let description = [{
    Counts every `lop` op by kind, the elements and bytes of every
    `lop.constant` (the model's parameters), and the multiply-accumulates of
    Conv, ConvTranspose, Gemm and MatMul from their static shapes. Dynamic
    dimensions count as `dynamic-dim-value` (default 1). The same analysis
    backs `lopper inspect`. The report goes to stdout, as text or JSON.
  }];
  let options = [
    Option<"json", "json", "bool", "false", "print JSON instead of text">,
    Option<"dynamicDimValue", "dynamic-dim-value", "int64_t", "1",
           "size assumed for a dynamic dimension">
  ];
}

//===----------------------------------------------------------------------===//
// Fusion (passes/Fusion). `lopper compile` runs them all by default, in the
// order of the `lop-fuse` pipeline: fold-constants, fold-batchnorm,
// recompose, fuse-epilogue, simplify-layout, then canonicalize and cse.
//===----------------------------------------------------------------------===//

def LopFoldConstants : Pass<"lop-fold-constants", "::mlir::func::FuncOp"> {
  let summary = "evaluate ops whose operands are all constants";
  let description = [{
    Replaces with a `lop.constant`: `transpose`, `reshape`, `flatten`,
    `squeeze` and `unsqueeze` of a constant (any element type; the bytes are
    permuted or reused, never expanded into a dense attribute), and the f32
    elementwise ops `add`, `sub`, `mul`, `div` (with broadcasting), `neg`,
    `sqrt` and `reciprocal` on constants of static shape. Results above
    `max-elements` elements stay unfolded. Sparsity annotations do not
    survive folding (the detection pass re-derives them).
  }];
  let options = [
    Option<"maxElements", "max-elements", "int64_t", "1 << 26",
           "largest result (in elements) that is folded">
  ];
}

def LopFoldBatchNorm : Pass<"lop-fold-batchnorm", "::mlir::func::FuncOp"> {
  let summary = "fold an inference BatchNormalization into the conv/gemm/matmul that feeds it";
  let description = [{
    `batch_norm(conv(x, W, b))` with constant statistics, a constant f32
    weight, a constant (or absent) bias, no residual and no activation on the
    conv, and the conv's result used only by the batch norm, becomes
    `conv(x, W * s, (b - mean) * s + beta)` with
    `s = scale / sqrt(variance + epsilon)` per output channel (computed in
    double, stored as f32). The same for a `gemm` (bias absent or a 1-D
    vector, beta = 1) or a 2-D `matmul` whose result channels are axis 1.
    The conv takes the batch norm's location (node name).
  }];
}

def LopFuseEpilogue : Pass<"lop-fuse-epilogue", "::mlir::func::FuncOp"> {
  let summary = "fuse bias, residual add and activation into the conv/gemm/matmul epilogue";
  let description = [{
    On f32 `conv`, `gemm` and `matmul` whose result has a single use:
    - `add(h, c)` with `c` a constant that broadcasts along the output
      channels only (`[C]`, `[C,1,1]`, `[1,C,1,1]` for a conv; `[N]` or
      `[1,...,N]` for a matmul) becomes the epilogue bias (added to an
      existing constant bias);
    - `add(h, r)` with `r` of the result's exact type becomes the residual
      when there is none and no activation (the heavy op moves down to the
      add so `r` dominates it);
    - `relu`, `clip`, `sigmoid`, `tanh`, `gelu` (erf or tanh), `hard_swish`,
      `leaky_relu` of `h`, and `mul(h, sigmoid(h))` (SiLU), become the
      epilogue activation when there is none.
    Applied to a fixpoint, so `relu(bn(conv) + x)` ends as one conv with a
    bias, a residual and a relu (after lop-fold-batchnorm). The fused op
    takes the location (node name) of the last op it absorbs, so its tap
    and profile entry name the tensor it now computes.
  }];
}

def LopRecompose : Pass<"lop-recompose", "::mlir::func::FuncOp"> {
  let summary = "recompose GELU and LayerNormalization from their primitive forms";
  let description = [{
    - GELU: `x * 0.5 * (1 + erf(x / sqrt(2)))` in any association of the
      multiplications (PyTorch's and Hugging Face's exports), with
      `x * (1/sqrt(2))` accepted for the division, becomes `lop.gelu`.
    - LayerNormalization over the last axis, as exported before opset 17:
      `d = x - reduce_mean(x)`, `v = reduce_mean(d * d | pow(d, 2))`,
      `y = d / sqrt(v + eps) * gamma + beta` becomes `lop.layer_norm`
      (gamma/beta constants of the last axis's size; beta optional).
    Constants are matched to a relative 1e-4.
  }];
}

def LopSimplifyLayout : Pass<"lop-simplify-layout", "::mlir::func::FuncOp"> {
  let summary = "remove redundant transposes and reshapes";
  let description = [{
    `transpose(transpose(x))` becomes one transpose with the composed
    permutation, or `x` when that is the identity; an identity `transpose`,
    a `reshape` to the operand's own static type, `reshape(reshape(x))`
    (outer shape constant without 0 entries) and
    `squeeze(unsqueeze(x, a), a)` are removed.
  }];
}

//===----------------------------------------------------------------------===//
// Quantization (passes/Quantization)
//===----------------------------------------------------------------------===//

def LopQuantize : Pass<"lop-quantize", "::mlir::ModuleOp"> {
  let summary = "int8 quantization of conv/gemm/matmul: per-channel weights, static or dynamic activations";
  let description = [{
    Every f32 `conv` (2-D), `gemm` (transA = 0) and `matmul` whose weight is
    a constant of rank 2 (matmul/gemm) or 4 (conv) is quantized unless its
    node name matches a `skip` glob:
    - the weight becomes an int8 constant, symmetric per output channel
      (`scale[c] = max|W[c]| / 127`, zero point 0, round half to even,
      clamped to [-127, 127]), typed `!quant.uniform<i8:f32:AXIS, {...}>`
      with AXIS the output-channel axis of the [O, R] view;
    - `mode=static`: the input is quantized by a `lop.quantize` to the range
      the calibration `table` gives for it (widened to include 0):
      `activations=u8` asymmetric (`scale = (max - min) / 255`, zero point
      `round(-min / scale)`), or `activations=i8` symmetric;
    - `mode=dynamic`: the input stays f32; the kernel quantizes it at run
      time (docs/ir-contracts.md, section 3).
    The result stays f32 (the dequantizing epilogue), so bias, residual and
    activation keep their float meaning, except where an op's only user is
    the next layer's `lop.quantize`: the op then writes that quantized type
    itself (the requantizing epilogue) and the quantize disappears. The calibration table is the JSON
    file `lopper compile --quantize` writes (keys: the tensor that feeds the
    op, named `input:NAME` for a graph input or after the node producing
    it); an op whose input has no entry stays f32 with a remark.
  }];
  let options = [
    Option<"mode", "mode", "std::string", "\"static\"",
           "static (calibrated activation ranges) or dynamic">,
    Option<"table", "table", "std::string", "\"\"",
           "calibration table (JSON); required for mode=static">,
    Option<"activations", "activations", "std::string", "\"u8\"",
           "static activation type: u8 (asymmetric) or i8 (symmetric)">,
    ListOption<"skip", "skip", "std::string",
               "node-name globs whose ops stay f32">
  ];
}

#endif
