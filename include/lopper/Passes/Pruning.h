//===- Pruning.h - building pruning pipelines from CLI specs ----*- C++ -*-===//

#ifndef LOPPER_PASSES_PRUNING_H
#define LOPPER_PASSES_PRUNING_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace lopper {

/// Options shared by every pruning pass of a pipeline.
struct PruningOptions {
  /// JSON (or YAML) per-layer rules; empty for none.
  std::string configFile;
  /// JSON activation norms per node name (Wanda-style importance); empty for
  /// magnitude importance.
  std::string activationNormsFile;
  /// Leave the first conv and the final classifier gemm/matmul dense.
  bool keepFirstLast = true;
};

/// One parsed `--prune` spec.
struct PruneSpec {
  enum class Kind { Magnitude, NM, Block, Channel };
  Kind kind = Kind::Magnitude;
  double sparsity = 0.0;
  bool global = false;
  int64_t n = 0, m = 0;       // nm
  int64_t rows = 0, cols = 0; // block
};

/// Parses `magnitude:S`, `magnitude:S:global`, `nm:N:M`, `block:RxC:S` and
/// `channel:S`; on failure `error` says what is wrong with `spec`.
std::optional<PruneSpec> parsePruneSpec(llvm::StringRef spec,
                                        std::string &error);

/// Adds the pruning passes for `spec` (may be empty when the config file
/// names patterns) and for every pattern the config file names, channel
/// pruning first, to `pm` (a pass manager on the module). Fails with `error`
/// on a bad spec or an unreadable config.
mlir::LogicalResult addPruningPasses(mlir::OpPassManager &pm,
                                     llvm::StringRef spec,
                                     const PruningOptions &opts,
                                     std::string &error);

/// Registers the `lop-prune` pipeline (options spec, config,
/// activation-norms, keep-first-last): addPruningPasses for lopper-opt.
void registerPruningPipeline();

} // namespace lopper

#endif // LOPPER_PASSES_PRUNING_H
