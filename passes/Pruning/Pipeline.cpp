//===- Pipeline.cpp - pruning pipelines from --prune specs ----------------===//

#include "PruningUtils.h"
#include "lopper/Passes/Passes.h"
#include "lopper/Passes/Pruning.h"

#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;

namespace lopper {

static bool parseSparsity(StringRef text, double &s) {
  return !text.trim().getAsDouble(s) && pruning::isValidSparsity(s);
}

std::optional<PruneSpec> parsePruneSpec(StringRef spec, std::string &error) {
  SmallVector<StringRef> parts;
  spec.split(parts, ':');
  StringRef mode = parts[0];
  auto fail = [&](const Twine &msg) -> std::optional<PruneSpec> {
    error = ("bad pruning spec '" + spec + "': " + msg).str();
    return std::nullopt;
  };
  PruneSpec p;
  if (mode == "magnitude") {
    p.kind = PruneSpec::Kind::Magnitude;
    if (parts.size() < 2 || parts.size() > 3 ||
        (parts.size() == 3 && parts[2] != "global"))
      return fail("expected magnitude:S or magnitude:S:global");
    if (!parseSparsity(parts[1], p.sparsity))
      return fail("sparsity '" + parts[1] + "' is not a number in [0, 1)");
    p.global = parts.size() == 3;
    return p;
  }
  if (mode == "nm") {
    p.kind = PruneSpec::Kind::NM;
    if (parts.size() != 3)
      return fail("expected nm:N:M (e.g. nm:2:4)");
    if (parts[1].getAsInteger(10, p.n) || parts[2].getAsInteger(10, p.m) ||
        p.n < 1 || p.m <= p.n)
      return fail("N and M must be integers with 0 < N < M");
    p.sparsity = 1.0 - (double)p.n / p.m;
    return p;
  }
  if (mode == "block") {
    p.kind = PruneSpec::Kind::Block;
    if (parts.size() != 3)
      return fail("expected block:RxC:S (e.g. block:4x1:0.8)");
    auto [r, c] = parts[1].split('x');
    if (r.getAsInteger(10, p.rows) || c.getAsInteger(10, p.cols) ||
        p.rows < 1 || p.cols < 1)
      return fail("block size '" + parts[1] +
                  "' is not RxC with positive integers");
    if (!parseSparsity(parts[2], p.sparsity))
      return fail("sparsity '" + parts[2] + "' is not a number in [0, 1)");
    return p;
  }
  if (mode == "channel") {
    p.kind = PruneSpec::Kind::Channel;
    if (parts.size() != 2)
      return fail("expected channel:S (e.g. channel:0.25)");
    if (!parseSparsity(parts[1], p.sparsity))
      return fail("sparsity '" + parts[1] + "' is not a number in [0, 1)");
    return p;
  }
  return fail("unknown mode '" + mode +
              "' (expected magnitude, nm, block or channel)");
}

template <typename Options>
static void setCommon(Options &o, const PruningOptions &opts, bool configOnly) {
  o.config = opts.configFile;
  o.activationNorms = opts.activationNormsFile;
  o.keepFirstLast = opts.keepFirstLast;
  o.configOnly = configOnly;
}

LogicalResult addPruningPasses(OpPassManager &pm, StringRef spec,
                               const PruningOptions &opts, std::string &error) {
  std::optional<PruneSpec> main;
  if (!spec.empty()) {
    main = parsePruneSpec(spec, error);
    if (!main)
      return failure();
  }
  pruning::PruneConfig config;
  if (failed(config.load(opts.configFile, error)))
    return failure();
  if (!main && opts.configFile.empty()) {
    error = "no pruning spec and no compression config";
    return failure();
  }
  if (!main && config.patterns().empty()) {
    error = opts.configFile +
            ": names no \"pattern\" to prune with (give one, or a pruning "
            "spec)";
    return failure();
  }
  // One pass per kind: the spec's own (pruning the layers without a
  // pattern) or, for a kind only the config names, one limited to the
  // layers whose rule names it. Channel pruning runs first, as it changes
  // the shapes the other passes see.
  using Kind = PruneSpec::Kind;
  for (Kind kind : {Kind::Channel, Kind::Block, Kind::NM, Kind::Magnitude}) {
    bool fromSpec = main && main->kind == kind;
    bool fromConfig = llvm::any_of(
        config.patterns(), [&](const PruneSpec &p) { return p.kind == kind; });
    if (!fromSpec && !fromConfig)
      continue;
    PruneSpec s = fromSpec ? *main : PruneSpec();
    switch (kind) {
    case Kind::Channel: {
      LopPruneChannelOptions o;
      setCommon(o, opts, !fromSpec);
      o.sparsity = s.sparsity;
      pm.addPass(createLopPruneChannel(o));
      break;
    }
    case Kind::Block: {
      LopPruneBlockOptions o;
      setCommon(o, opts, !fromSpec);
      if (fromSpec) {
        o.rows = s.rows;
        o.cols = s.cols;
        o.sparsity = s.sparsity;
      }
      pm.addPass(createLopPruneBlock(o));
      break;
    }
    case Kind::NM: {
      LopPruneNMOptions o;
      setCommon(o, opts, !fromSpec);
      if (fromSpec) {
        o.n = s.n;
        o.m = s.m;
      }
      pm.addPass(createLopPruneNM(o));
      break;
    }
    case Kind::Magnitude: {
      LopPruneMagnitudeOptions o;
      setCommon(o, opts, !fromSpec);
      o.sparsity = s.sparsity;
      o.global = s.global;
      pm.addPass(createLopPruneMagnitude(o));
      break;
    }
    }
  }
  return success();
}

namespace {
struct PrunePipelineOptions : mlir::PassPipelineOptions<PrunePipelineOptions> {
  Option<std::string> spec{*this, "spec",
                           llvm::cl::desc("a --prune spec (nm:2:4, ...)")};
  Option<std::string> config{*this, "config",
                             llvm::cl::desc("per-layer rules (JSON or YAML)")};
  Option<std::string> activationNorms{
      *this, "activation-norms",
      llvm::cl::desc("per-input-channel activation norms (JSON)")};
  Option<bool> keepFirstLast{
      *this, "keep-first-last", llvm::cl::init(true),
      llvm::cl::desc("leave the first conv and the classifier dense")};
};
} // namespace

void registerPruningPipeline() {
  mlir::registerPassPipeline(
      "lop-prune",
      "the pruning passes of `lopper compile --prune=SPEC "
      "--compression-config=FILE`",
      [](OpPassManager &pm, StringRef text,
         llvm::function_ref<LogicalResult(const Twine &)> errorHandler) {
        PrunePipelineOptions o;
        if (failed(o.parseFromString(text)))
          return failure();
        PruningOptions opts;
        opts.configFile = o.config;
        opts.activationNormsFile = o.activationNorms;
        opts.keepFirstLast = o.keepFirstLast;
        std::string error;
        if (failed(addPruningPasses(pm, o.spec, opts, error)))
          return errorHandler(error);
        return success();
      },
      [](llvm::function_ref<void(const mlir::detail::PassOptions &)> fn) {
        fn(PrunePipelineOptions());
      });
}

} // namespace lopper
