//===- Compile.cpp - lopper compile ---------------------------------------===//
//
// lopper compile model.onnx -o model.so [--emit=lib|obj|mlir|llvm]
//   [--mcpu=NAME|native] [--mtriple=TRIPLE] [--input-shape NAME=DIMS]...
//   [--external-weights] [--name=NAME] [--prune=SPEC]
//   [--compression-config=FILE]
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "lopper/Import/OnnxImporter.h"
#include "lopper/InitAll.h"
#include "lopper/Passes/Pruning.h"
#include "lopper/Target/CPU.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using lopper::tools::error;

static cl::SubCommand sub("compile",
                          "compile an ONNX model to a native artifact");
static cl::opt<std::string> input(cl::Positional, cl::desc("<model.onnx>"),
                                  cl::Required, cl::sub(sub));
static cl::opt<std::string> output("o", cl::desc("output file"),
                                   cl::value_desc("path"), cl::Required,
                                   cl::sub(sub),
                                   cl::cat(lopper::tools::lopperCategory()));
static cl::opt<std::string>
    emit("emit",
         cl::desc("what to write: lib (shared library, default), obj "
                  "(relocatable object + header for static linking), mlir "
                  "(the lowered loops), llvm (LLVM IR)"),
         cl::init("lib"), cl::sub(sub),
         cl::cat(lopper::tools::lopperCategory()));
static cl::opt<std::string>
    mcpu("mcpu",
         cl::desc("target CPU: a name (znver4, skylake-avx512, ...), native, "
                  "or empty for the portable baseline (x86-64-v3)"),
         cl::sub(sub), cl::cat(lopper::tools::lopperCategory()));
static cl::opt<std::string>
    mtriple("mtriple", cl::desc("target triple (default: the host)"),
            cl::sub(sub), cl::cat(lopper::tools::lopperCategory()));
static cl::list<std::string>
    shapes("input-shape",
           cl::desc("pin an input's shape: NAME=1x3x224x224 (pinned dims "
                    "become static)"),
           cl::value_desc("NAME=DIMS"), cl::sub(sub),
           cl::cat(lopper::tools::lopperCategory()));
static cl::opt<bool> external("external-weights",
                              cl::desc("always write the weights to a "
                                       "sidecar file <output>.weights"),
                              cl::sub(sub),
                              cl::cat(lopper::tools::lopperCategory()));
static cl::opt<uint64_t> externalThreshold(
    "external-weights-threshold",
    cl::desc("weights larger than this many bytes go to a sidecar file "
             "(default 256 MiB)"),
    cl::init(uint64_t(256) << 20), cl::sub(sub),
    cl::cat(lopper::tools::lopperCategory()));
static cl::opt<std::string>
    name("name",
         cl::desc("model name (default: the output's stem); --emit=obj "
                  "exports lopper_artifact_get_info_<name>"),
         cl::sub(sub), cl::cat(lopper::tools::lopperCategory()));
static cl::opt<std::string>
    linker("linker", cl::desc("the ELF linker (default ld.lld-22)"),
           cl::sub(sub), cl::cat(lopper::tools::lopperCategory()));
static cl::opt<std::string>
    prune("prune",
          cl::desc("prune after import: magnitude:S, magnitude:S:global, "
                   "nm:N:M, block:RxC:S or channel:S"),
          cl::value_desc("SPEC"), cl::sub(sub),
          cl::cat(lopper::tools::lopperCategory()));
static cl::opt<std::string> compressionConfig(
    "compression-config",
    cl::desc("per-layer pruning rules (JSON or YAML; docs/passes.md)"),
    cl::value_desc("FILE"), cl::sub(sub),
    cl::cat(lopper::tools::lopperCategory()));
static cl::opt<bool> quiet("quiet", cl::desc("print nothing on success"),
                           cl::sub(sub),
                           cl::cat(lopper::tools::lopperCategory()));

static int runCompile() {
  lopper::CPUCompileOptions opts;
  if (emit == "lib")
    opts.emit = lopper::EmitKind::Library;
  else if (emit == "obj")
    opts.emit = lopper::EmitKind::Object;
  else if (emit == "mlir")
    opts.emit = lopper::EmitKind::MLIR;
  else if (emit == "llvm")
    opts.emit = lopper::EmitKind::LLVMIR;
  else
    return error("--emit=" + emit + ": expected lib, obj, mlir or llvm");
  opts.cpu = mcpu;
  opts.triple = mtriple;
  opts.externalWeights = external;
  opts.externalThreshold = externalThreshold;
  opts.linker = linker;
  opts.name = name.empty() ? (output == "-" ? std::string("model")
                                            : sys::path::stem(output).str())
                           : name.getValue();
  if (output == "-" && (opts.emit == lopper::EmitKind::Library ||
                        opts.emit == lopper::EmitKind::Object))
    return error("-o -: only --emit=mlir and --emit=llvm write to stdout");

  mlir::DialectRegistry registry;
  lopper::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  lopper::ImportOptions importOptions;
  std::string msg;
  if (!lopper::parseInputShapes(shapes, importOptions, msg))
    return error(msg);
  lopper::ImportErrors errors;
  auto module = lopper::importOnnxFile(input, &context, importOptions, errors);
  if (!module) {
    for (const std::string &e : errors)
      errs() << "lopper: error: " << e << "\n";
    return 1;
  }
  if (!prune.empty() || !compressionConfig.empty()) {
    mlir::PassManager pm(&context);
    lopper::PruningOptions pruning;
    pruning.configFile = compressionConfig;
    if (failed(lopper::addPruningPasses(pm, prune, pruning, msg)))
      return error(msg);
    if (failed(pm.run(*module)))
      return error(input + ": pruning failed");
  }
  lopper::CPUCompileReport report;
  if (!lopper::compileForCPU(*module, opts, output, report, msg))
    return error(input + ": " + msg);
  if (quiet || output == "-")
    return 0;
  outs() << "wrote " << output;
  if (opts.emit == lopper::EmitKind::Library ||
      opts.emit == lopper::EmitKind::Object) {
    outs() << " (" << report.artifactBytes << " bytes; target " << report.triple
           << ", cpu " << report.cpu << ")\n";
    outs() << "  ops: " << report.numOps
           << ", arena buffers: " << report.numBuffers
           << ", weights: " << report.weightBytes << " bytes"
           << (report.sidecar ? " in " + report.sidecarPath : "") << "\n";
    outs() << "  dynamic dims:";
    if (report.symbolNames.empty())
      outs() << " none";
    for (size_t i = 0; i < report.symbolNames.size(); ++i)
      outs() << " s" << i << "=" << report.symbolNames[i];
    outs() << "\n  required CPU features:";
    for (auto &f : report.requiredFeatures)
      outs() << " " << f;
    outs() << "\n";
    outs() << format("  time: lower %.2f s, llvm %.2f s, codegen %.2f s, link "
                     "%.2f s\n",
                     report.lowerSeconds, report.llvmSeconds,
                     report.codegenSeconds, report.linkSeconds);
  } else {
    outs() << "\n";
  }
  return 0;
}

lopper::tools::Command lopper::tools::compileCommand() {
  return {&sub, runCompile};
}
