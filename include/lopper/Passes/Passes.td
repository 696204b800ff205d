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

def LopWidenHalf : Pass<"lop-widen-half", "::mlir::func::FuncOp"> {
  let summary = "compute fp16/bf16 ops without a half-precision lowering in fp32";
  let description = [{
    fp16 and bf16 models compute in fp32, rounded to the model's type after
    every op. The elementwise ops, `cast`, constants and data movement
    (`reshape`, `flatten`, `squeeze`, `unsqueeze`, `transpose`, `concat`,
    `slice`, `gather`, `expand`, `where`, `shape`) are lowered for half
    types directly (computing each element in f32). Every other op with a
    half operand or result gets f32 operands (a `cast`, or an f32 copy of a
    constant) and an f32 result cast back to its type. The CPU code generator
    runs it first (after fusion and quantization, so a recomposed LayerNorm
    or a conv with its epilogue computes in f32 as a whole).
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

def LopFoldQDQ : Pass<"lop-fold-qdq", "::mlir::func::FuncOp"> {
  let summary = "imported QDQ patterns to quantized conv/gemm/matmul";
  let description = [{
    An imported quantized model computes each heavy op in float between a
    `lop.dequantize` and a `lop.quantize` (ONNX QDQ, and QOperator ops, which
    the importer writes in the same form). Where the int8 kernels run the
    op, `conv`/`gemm`/`matmul(dequantize(x), dequantize(w_const))` takes `x`
    and the quantized weight constant directly: `x` quantized per tensor in
    8 bits, the weight signed 8-bit with zero points 0, per tensor or per
    output channel, a 2-D conv, a gemm without `transA`, a 2-D matmul
    weight, a constant bias with one value per output channel. When the
    op's only user is a per-tensor 8-bit `lop.quantize`, the op writes that
    type (the requantizing epilogue) and the quantize disappears. Every
    other `dequantize` of a constant (unsigned or asymmetric weights, the
    per-channel int32 bias of QDQ models) becomes an f32 constant, so those
    ops run in float with exactly the values the model dequantizes to.
    `fuse-heavy=false` only folds the constants (every heavy op in float:
    ONNX's reference semantics; `lopper compile --fuse=false` runs that).
  }];
  let options = [
    Option<"fuseHeavy", "fuse-heavy", "bool", "true",
           "give the int8 kernels the ops they run (false: fold only)">
  ];
}

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
    itself (the requantizing epilogue) and the quantize disappears. The
    calibration table is the JSON file `lopper compile --quantize` writes
    (keys: the tensor that feeds the op, named `input:NAME` for a graph
    input or after the node producing it); an op whose input has no entry
    stays f32 with a remark.
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

//===----------------------------------------------------------------------===//
// Pruning
//===----------------------------------------------------------------------===//

// Options every pruning pass takes: per-layer rules, calibration-aware
// importance, and the layers that stay dense.
defvar PruneCommonOptions = [
  Option<"config", "config", "std::string", "\"\"",
         "JSON (or YAML) file of per-layer rules: {\"default\": {...}, "
         "\"layers\": [{\"match\": GLOB, \"skip\": true | \"pattern\": SPEC | "
         "\"sparsity\": S}]}">,
  Option<"keepFirstLast", "keep-first-last", "bool", "true",
         "leave the first conv and the final classifier gemm/matmul dense">,
  Option<"activationNorms", "activation-norms", "std::string", "\"\"",
         "JSON file {\"node name\": [one norm per input channel]}: importance "
         "becomes |W| * norm (Wanda-style) instead of |W|">,
  Option<"configOnly", "config-only", "bool", "false",
         "prune only the layers whose config rule names this pass's pattern">
];

def LopPruneMagnitude : Pass<"lop-prune-magnitude", "::mlir::ModuleOp"> {
  let summary = "zero the weights of smallest importance (unstructured pruning)";
  let description = [{
    For every prunable weight (a float `lop.constant` feeding operand 1 of
    `lop.conv`, `lop.gemm` or `lop.matmul`) zeroes the floor(S * size)
    elements of smallest importance (|W|, or |W| * activation norm of the
    element's input channel with `activation-norms`), ties broken by position,
    and sets `#lop.sparsity<unstructured, output_axis = ..., density = ...>`.
    With `global`, one threshold over all layers that have no per-layer
    sparsity: floor(S * total) elements are zeroed in all.

    ```
    lopper-opt --lop-prune-magnitude="sparsity=0.5" model.mlir
    lopper-opt --lop-prune-magnitude="sparsity=0.8 global=true" model.mlir
    ```
  }];
  let options = !listconcat([
    Option<"sparsity", "sparsity", "double", "0.5",
           "fraction of elements to zero, in [0, 1)">,
    Option<"global", "global", "bool", "false",
           "one threshold over all prunable layers instead of one per layer">
  ], PruneCommonOptions);
}

def LopPruneNM : Pass<"lop-prune-nm", "::mlir::ModuleOp"> {
  let summary = "N:M semi-structured pruning along the reduction axis";
  let description = [{
    In the [O, R] view of every prunable weight (docs/ir-contracts.md),
    keeps the N elements of largest importance in every group of M
    consecutive reduction elements of each output row (ties: the first) and
    sets `#lop.sparsity<nm[N, M], ...>`. A layer whose reduction length is
    not a multiple of M is left dense with a remark.

    ```
    lopper-opt --lop-prune-nm="n=2 m=4" model.mlir
    ```
  }];
  let options = !listconcat([
    Option<"n", "n", "int64_t", "2", "elements kept per group">,
    Option<"m", "m", "int64_t", "4", "group length along the reduction">
  ], PruneCommonOptions);
}

def LopPruneBlock : Pass<"lop-prune-block", "::mlir::ModuleOp"> {
  let summary = "zero whole R x C tiles of the [O, R] view by their L2 norm";
  let description = [{
    Tiles every prunable weight's [O, R] view into `rows` x `cols` tiles
    (`rows` along the output channels, `cols` along the reduction; edge
    tiles are partial), zeroes the floor(S * tiles) tiles of smallest L2
    norm of importance (ties: the first) and sets
    `#lop.sparsity<block[rows, cols], ...>` with the density of kept tiles.

    ```
    lopper-opt --lop-prune-block="rows=4 cols=1 sparsity=0.75" model.mlir
    ```
  }];
  let options = !listconcat([
    Option<"rows", "rows", "int64_t", "4", "tile rows (along the output channels)">,
    Option<"cols", "cols", "int64_t", "1", "tile columns (along the reduction)">,
    Option<"sparsity", "sparsity", "double", "0.5",
           "fraction of tiles to zero, in [0, 1)">
  ], PruneCommonOptions);
}

def LopPruneChannel : Pass<"lop-prune-channel", "::mlir::ModuleOp"> {
  let summary = "remove whole output channels and rewrite every dependent shape";
  let description = [{
    Removes the output channels (filters) of `lop.conv` (group 1) and the
    output features of `lop.gemm`/`lop.matmul` with the smallest L1 norm of
    importance, and rewrites everything that depends on them: the layer's
    bias, following `batch_norm` parameters, per-channel constants of
    elementwise ops, depthwise convs (their channels and `group`), the input
    channels of the next conv/gemm/matmul weights (through `flatten` or a
    `reshape` to [N, C*H*W]: the flattened features are channel-major), and
    concat offsets. Channels joined by an elementwise op (a residual `add`) or
    an epilogue residual form one group decided jointly; in each group
    floor(S * channels) channels go, ranked by the summed L1 norm of their
    filters. A group is left alone when any of its values reaches a graph
    output or an op the pass cannot follow. Result types are re-inferred. The
    result computes exactly what the original computes with the removed
    channels' weights zeroed in the consumers.

    ```
    lopper-opt --lop-prune-channel="sparsity=0.25" model.mlir
    ```
  }];
  let options = !listconcat([
    Option<"sparsity", "sparsity", "double", "0.5",
           "fraction of the channels of each group to remove, in [0, 1)">
  ], PruneCommonOptions);
}

def LopDetectSparsity : Pass<"lop-detect-sparsity", "::mlir::ModuleOp"> {
  let summary = "annotate weights that are already sparse with their pattern";
  let description = [{
    For every weight of `lop.conv`, `lop.gemm` or `lop.matmul` without a
    `sparsity` attribute, sets the most structured pattern its data
    satisfies: `nm[2, 4]`, else `block[4, 1]`, else `block[1, 16]` (a block
    pattern only when its tile density is at most `threshold`), else
    `unstructured` when the element density is at most `threshold`. Dense
    weights stay unannotated.

    ```
    lopper-opt --lop-detect-sparsity="threshold=0.9" model.mlir
    ```
  }];
  let options = [
    Option<"threshold", "threshold", "double", "0.9",
           "annotate only when the (tile) density is at most this, in (0, 1]">
  ];
}

#endif
