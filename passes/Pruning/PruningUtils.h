//===- PruningUtils.h - weights, rules and importance for pruning -*- C++ -*-//

#ifndef LOPPER_PASSES_PRUNING_PRUNINGUTILS_H
#define LOPPER_PASSES_PRUNING_PRUNINGUTILS_H

#include "lopper/Dialect/Lop/LopOps.h"
#include "lopper/Passes/Pruning.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"

#include <optional>
#include <string>
#include <vector>

namespace lopper::pruning {

/// The ONNX node name of an op (its first NameLoc), or "" if it has none.
std::string getNodeName(mlir::Operation *op);

/// A weight of a heavy op in its [O, R] view.
struct Layer {
  mlir::Operation *op = nullptr; ///< lop.conv, lop.gemm or lop.matmul
  lop::ConstantOp weight;
  mlir::RankedTensorType type;
  std::string name;
  int64_t outputAxis = 0;
  int64_t rows = 0, cols = 0; ///< O and R
  int64_t inner = 1;          ///< product of the dims after the output axis
  llvm::SmallVector<double> data;

  /// Flat index of element (row, col) of the [O, R] view.
  int64_t index(int64_t row, int64_t col) const {
    return (col / inner) * rows * inner + row * inner + col % inner;
  }
  /// The input channel that column `col` of row `row` reads.
  int64_t inputChannel(int64_t row, int64_t col) const;
  /// Number of input channels of the layer's input (length of a norm vector).
  int64_t numInputChannels() const;
};

/// The output axis of the [O, R] view of `op`'s weight (operand 1), if `op`
/// is a heavy op with a 2-D (gemm, matmul) or conv weight.
std::optional<int64_t> getWeightOutputAxis(mlir::Operation *op);

/// The weight of `op` (a conv, gemm or matmul with a constant, readable
/// weight of static shape), optionally only a float one.
std::optional<Layer> getLayer(mlir::Operation *op, bool requireFloat);

/// Every heavy op whose weight is a float constant, in program order. With
/// `keepFirstLast`, the first conv and the last gemm/matmul (when it is the
/// last prunable layer) are left out.
std::vector<Layer> collectLayers(mlir::ModuleOp module, bool keepFirstLast);

/// The effective rule for one layer: the config's default overridden by the
/// first layer rule whose glob matches the node name.
struct LayerRule {
  bool skip = false;
  std::optional<double> sparsity;
  std::optional<PruneSpec> pattern;
};

/// Per-layer rules from a JSON (or YAML) config file.
class PruneConfig {
public:
  /// Loads `path` (an empty path gives no rules).
  mlir::LogicalResult load(llvm::StringRef path, std::string &error);
  LayerRule ruleFor(llvm::StringRef nodeName) const;
  /// The patterns named anywhere in the config.
  std::vector<PruneSpec> patterns() const;
  /// The config's "keep_first_last", if it sets one.
  std::optional<bool> keepFirstLast;

private:
  struct Entry {
    std::string glob;
    LayerRule rule;
  };
  LayerRule defaults;
  std::vector<Entry> entries;
};

/// Per-input-channel activation norms by node name.
class ActivationNorms {
public:
  mlir::LogicalResult load(llvm::StringRef path, std::string &error);
  /// Importance of every element of `layer` (|W|, or |W| * norm), in flat
  /// order. Fails when the layer's norm vector has the wrong length.
  mlir::LogicalResult importance(const Layer &layer,
                                 llvm::SmallVectorImpl<double> &out,
                                 std::string &error) const;
  bool empty() const { return norms.empty(); }

private:
  llvm::StringMap<std::vector<double>> norms;
};

/// The rules, norms and options a pruning pass works with.
struct PruneContext {
  PruneConfig config;
  ActivationNorms norms;
  bool configOnly = false;
  /// Loads both files; emits an error on `module` and fails on a bad one.
  mlir::LogicalResult init(mlir::ModuleOp module, llvm::StringRef configFile,
                           llvm::StringRef normsFile, bool configOnly);
  /// Whether the pass of `kind` prunes `layer`, and with which parameters
  /// (`spec` starts as the pass's own options).
  bool selects(const Layer &layer, PruneSpec::Kind kind, PruneSpec &spec) const;
  /// The layers a pass considers: the config's keep_first_last wins over
  /// the pass option.
  std::vector<Layer> layers(mlir::ModuleOp module, bool keepFirstLast) const;
};

/// Writes pruned weights back. A constant whose users all get the same new
/// data is rewritten in place; otherwise each pruned user gets its own copy.
class WeightWriter {
public:
  void add(const Layer &layer, llvm::SmallVector<double> data,
           lop::SparsityAttr sparsity);
  void commit();

private:
  struct Update {
    mlir::Operation *op;
    lop::ConstantOp weight;
    llvm::SmallVector<double> data;
    lop::SparsityAttr sparsity;
  };
  std::vector<Update> updates;
};

/// An ElementsAttr of `type` holding `data`, in the same form (inline dense
/// or dense_resource blob) as `like`.
mlir::ElementsAttr makeElements(mlir::ElementsAttr like,
                                mlir::RankedTensorType type,
                                llvm::ArrayRef<double> data);

/// Fraction of nonzero elements.
double densityOf(llvm::ArrayRef<double> data);

/// Checks a sparsity value given as an option or in a config file.
bool isValidSparsity(double s);

} // namespace lopper::pruning

#endif // LOPPER_PASSES_PRUNING_PRUNINGUTILS_H
