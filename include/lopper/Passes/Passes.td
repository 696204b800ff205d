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
