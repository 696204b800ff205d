//===- Compile.cpp - lopper compile ---------------------------------------===//
//
// lopper compile model.onnx -o model.so [--emit=lib|obj|mlir|llvm]
//   [--mcpu=NAME|native] [--mtriple=TRIPLE] [--input-shape NAME=DIMS]...
//   [--external-weights] [--name=NAME] [--fuse=false] [--prune=SPEC]
//   [--compression-config=FILE] [--quantize=int8|int8-dynamic]
//   [--calibration-data=DATA] [--verify] [--report=FILE] [--emit=onnx]
//   [--target=cpu|cuda] [--cuda-arch=sm_80,sm_90a]
//
//===----------------------------------------------------------------------===//

#include "Calibrate.h"
#include "Commands.h"
#include "CompileExtras.h"
#include "TensorFiles.h"

#include "lopper/Export/OnnxExporter.h"
#include "lopper/Import/OnnxImporter.h"
#include "lopper/InitAll.h"
#include "lopper/Passes/Passes.h"
#include "lopper/Passes/Pruning.h"
#include "lopper/Passes/Quantization.h"
#include "lopper/Target/CPU.h"
#include "lopper/Target/CUDA.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
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
                  "(the lowered loops), llvm (LLVM IR), onnx (the compressed "
                  "model as standard ONNX, int8 in QDQ form)"),
         cl::init("lib"), cl::sub(sub),
         cl::cat(lopper::tools::lopperCategory()));
static cl::opt<std::string>
    mcpu("mcpu",
         cl::desc("target CPU: a name (znver4, skylake-avx512, ...), native, "
                  "or empty for the portable baseline (x86-64-v3)"),
         cl::sub(sub), cl::cat(lopper::tools::lopperCategory()));
static cl::opt<std::string>
    target("target",
           cl::desc("cpu (default), or cuda: the CPU artifact plus a GPU plan "
                    "<output>.gpu for its gemm/matmul layers (docs/gpu.md)"),
           cl::init("cpu"), cl::sub(sub),
           cl::cat(lopper::tools::lopperCategory()));
static cl::opt<std::string>
    cudaArch("cuda-arch",
             cl::desc("with --target=cuda: the GPU archs the plan is for, "
                      "comma-separated (default sm_80)"),
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
static cl::opt<std::string> kernelConfig(
    "kernel-config",
    cl::desc("force kernels per layer, for experiments: a JSON file "
             "{\"<layer glob>\": \"dense\" | \"block-sparse\"}; "
             "the most specific (longest) matching glob wins"),
    cl::value_desc("FILE"), cl::sub(sub),
    cl::cat(lopper::tools::lopperCategory()));
static cl::opt<bool> printKernels(
    "print-kernels",
    cl::desc("print the kernel chosen for every conv/gemm/matmul with the "
             "cost model's predicted time"),
    cl::sub(sub), cl::cat(lopper::tools::lopperCategory()));
static cl::list<std::string> bindInputs(
    "bind-input",
    cl::desc("fix an input's value at compile time from a .pb (TensorProto) "
             "or .npy file: NAME=FILE; the input becomes a constant and is "
             "no longer an input of the artifact"),
    cl::value_desc("NAME=FILE"), cl::sub(sub),
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

static cl::opt<bool>
    fuse("fuse",
         cl::desc("run the fusion passes (lop-fuse: constant folding, "
                  "batch-norm folding, GELU/LayerNorm recomposition, "
                  "epilogue fusion, layout cleanup); --fuse=false skips them"),
         cl::init(true), cl::sub(sub),
         cl::cat(lopper::tools::lopperCategory()));

/// Runs `build`'s passes on `module`; diagnostics go to stderr.
static bool runPasses(mlir::ModuleOp module,
                      llvm::function_ref<void(mlir::OpPassManager &)> build) {
  mlir::PassManager pm(module.getContext());
  build(pm);
  return mlir::succeeded(pm.run(module));
}

// The report and verification (CompileExtras.cpp).
static cl::opt<std::string>
    reportFile("report", cl::desc("write a per-layer report (.json or .html)"),
               cl::value_desc("FILE"), cl::sub(sub),
               cl::cat(lopper::tools::lopperCategory()));
static cl::opt<bool>
    verify("verify",
           cl::desc("compare the artifact with the input model on "
                    "--verify-data (default: --calibration-data)"),
           cl::sub(sub), cl::cat(lopper::tools::lopperCategory()));
static cl::opt<std::string>
    verifyData("verify-data", cl::desc("the samples --verify runs"),
               cl::value_desc("DATA"), cl::sub(sub),
               cl::cat(lopper::tools::lopperCategory()));
static cl::opt<std::string> calibrationData(
    "calibration-data",
    cl::desc("samples: test_data_set_*/input_K.pb or <input>.npy folders, "
             "or a .npz file"),
    cl::value_desc("DATA"), cl::sub(sub),
    cl::cat(lopper::tools::lopperCategory()));

// Quantization (passes/Quantization, Calibrate.cpp).
static cl::opt<std::string> quantize(
    "quantize",
    cl::desc("int8 (static: per-channel int8 weights, activations from "
             "--calibration-data) or int8-dynamic (activations quantized at "
             "run time)"),
    cl::value_desc("MODE"), cl::sub(sub),
    cl::cat(lopper::tools::lopperCategory()));
static cl::opt<std::string> calibrationMethod(
    "calibration",
    cl::desc("activation range method: minmax (default), percentile, "
             "entropy or mse"),
    cl::init("minmax"), cl::sub(sub), cl::cat(lopper::tools::lopperCategory()));
static cl::opt<std::string> calibrationTable(
    "calibration-table",
    cl::desc("read the activation ranges from FILE instead of calibrating"),
    cl::value_desc("FILE"), cl::sub(sub),
    cl::cat(lopper::tools::lopperCategory()));
static cl::opt<std::string> saveCalibrationTable(
    "save-calibration-table",
    cl::desc("write the calibrated activation ranges to FILE"),
    cl::value_desc("FILE"), cl::sub(sub),
    cl::cat(lopper::tools::lopperCategory()));
static cl::opt<std::string> quantizeActivations(
    "quantize-activations",
    cl::desc("static activation type: u8 (asymmetric, default) or i8 "
             "(symmetric)"),
    cl::init("u8"), cl::sub(sub), cl::cat(lopper::tools::lopperCategory()));
static cl::list<std::string>
    quantizeSkip("quantize-skip",
                 cl::desc("node-name glob whose op stays f32 (repeatable)"),
                 cl::value_desc("GLOB"), cl::sub(sub),
                 cl::cat(lopper::tools::lopperCategory()));

static cl::opt<double> maxLayerError(
    "max-layer-error",
    cl::desc("mixed precision: keep in f32 every quantized op that adds more "
             "than this relative L2 error to its output on the calibration "
             "data (its output's error minus its input's)"),
    cl::init(0.0), cl::sub(sub), cl::cat(lopper::tools::lopperCategory()));

/// The --calibration-data set, read once: pruning importance, calibration
/// and mixed precision share it (the input signature is the imported
/// model's, which compression does not change). Null with `msg` on error.
static const lopper::tools::Dataset *calibrationSet(mlir::ModuleOp module,
                                                    std::string &msg) {
  static std::optional<lopper::tools::Dataset> cached;
  if (!cached) {
    auto sig = lopper::tools::signatureOf(module);
    if (!sig) {
      msg = toString(sig.takeError());
      return nullptr;
    }
    auto read = lopper::tools::loadDataset(calibrationData, *sig);
    if (!read) {
      msg = toString(read.takeError());
      return nullptr;
    }
    cached = std::move(*read);
  }
  return &*cached;
}

/// --quantize: calibrates (static) and runs the quantization on `module`.
static int runQuantization(mlir::ModuleOp module) {
  if (quantize.empty())
    return 0;
  lopper::QuantizeOptions qopts;
  qopts.skip.assign(quantizeSkip.begin(), quantizeSkip.end());
  if (quantizeActivations != "u8" && quantizeActivations != "i8")
    return error("--quantize-activations=" + quantizeActivations +
                 ": expected u8 or i8");
  qopts.unsignedActivations = quantizeActivations == "u8";
  if (maxLayerError < 0)
    return error("--max-layer-error must be positive");
  if (maxLayerError > 0 && calibrationData.empty())
    return error("--max-layer-error measures each layer on "
                 "--calibration-data DATA; give it");
  lopper::CalibrationTable table;
  std::string msg;
  const lopper::tools::Dataset *data = nullptr;
  if (!calibrationData.empty() && !(data = calibrationSet(module, msg)))
    return error(msg);
  if (quantize == "int8-dynamic") {
    qopts.dynamic = true;
  } else if (quantize == "int8") {
    lopper::tools::CalibrateOptions copts;
    if (!lopper::tools::parseCalibrationMethod(calibrationMethod, copts.method))
      return error("--calibration=" + calibrationMethod +
                   ": expected minmax, percentile, entropy or mse");
    copts.unsignedActivations = qopts.unsignedActivations;
    copts.progress = !quiet;
    if (data) {
      if (!lopper::tools::calibrate(module, *data, copts, table, msg))
        return error(calibrationData + ": " + msg);
      if (!saveCalibrationTable.empty() &&
          !lopper::writeCalibrationTable(saveCalibrationTable, table, msg))
        return error(msg);
    } else if (!calibrationTable.empty()) {
      if (!lopper::readCalibrationTable(calibrationTable, table, msg))
        return error(msg);
    } else {
      return error("--quantize=int8 calibrates activation ranges: give "
                   "--calibration-data DATA (or --calibration-table FILE); "
                   "--quantize=int8-dynamic needs no data");
    }
  } else {
    return error("--quantize=" + quantize + ": expected int8 or int8-dynamic");
  }
  if (maxLayerError <= 0) {
    if (mlir::failed(lopper::quantizeModule(module, qopts, &table)))
      return error(input + ": quantization failed");
    return 0;
  }
  // Every op's f32 output is measured: no requantizing epilogues yet.
  mlir::OwningOpRef<mlir::ModuleOp> fp32 = module.clone();
  qopts.requantize = false;
  if (mlir::failed(lopper::quantizeModule(module, qopts, &table)))
    return error(input + ": quantization failed");
  qopts.requantize = true;
  // Mixed precision: measure what each quantized op adds and quantize
  // again with the worst ones kept in f32.
  std::vector<lopper::tools::LayerError> errs;
  if (!lopper::tools::measureLayerErrors(*fp32, module, *data, errs, msg))
    return error(calibrationData + ": " + msg);
  std::vector<std::string> kept;
  for (const auto &e : errs)
    if (e.contribution() > maxLayerError)
      kept.push_back(e.node);
  if (!quiet)
    outs() << "mixed precision: " << kept.size() << " of " << errs.size()
           << " quantized ops add more than "
           << format("%g", maxLayerError.getValue())
           << " relative L2 error and stay f32\n";
  for (const std::string &k : kept) {
    if (!quiet)
      outs() << "  " << k << "\n";
    // Node names are matched as globs: escape the glob characters.
    std::string g;
    for (char c : k) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '{' ||
          c == '}' || c == '\\')
        g += '\\';
      g += c;
    }
    qopts.skip.push_back(g);
  }
  // Start again from the fp32 module: replace the body of `module`.
  module.getBody()->clear();
  mlir::Block *src = fp32->getBody();
  module.getBody()->getOperations().splice(module.getBody()->end(),
                                           src->getOperations());
  if (mlir::failed(lopper::quantizeModule(module, qopts, &table)))
    return error(input + ": quantization failed");
  return 0;
}

/// --emit=onnx: the compressed model as ONNX, through a temporary file that
/// is renamed (nothing is left behind on failure).
static int writeOnnx(mlir::ModuleOp module) {
  if (!reportFile.empty() || verify)
    return error("--emit=onnx: --report and --verify need a compiled "
                 "artifact (--emit=lib)");
  std::string bytes;
  llvm::raw_string_ostream os(bytes);
  std::vector<std::string> errors;
  if (mlir::failed(lopper::exportOnnx(module, os, errors))) {
    for (const std::string &e : errors)
      errs() << "lopper: error: " << input << ": " << e << "\n";
    return 1;
  }
  if (output == "-") {
    outs() << bytes;
    return 0;
  }
  auto tmp = sys::fs::TempFile::create(output + ".tmp%%%%%%");
  if (!tmp)
    return error(output + ": " + toString(tmp.takeError()));
  {
    llvm::raw_fd_ostream out(tmp->FD, /*shouldClose=*/false);
    out << bytes;
    out.flush();
    if (out.has_error()) {
      consumeError(tmp->discard());
      return error(output + ": write failed");
    }
  }
  if (Error e = tmp->keep(output))
    return error(output + ": " + toString(std::move(e)));
  if (!quiet)
    outs() << "wrote " << output << " (" << bytes.size() << " bytes, ONNX)\n";
  return 0;
}

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
  else if (emit != "onnx")
    return error("--emit=" + emit + ": expected lib, obj, mlir, llvm or onnx");
  opts.cpu = mcpu;
  if (!kernelConfig.empty()) {
    std::string why;
    if (!lopper::parseKernelConfig(kernelConfig, opts.kernelConfig, why))
      return error("--kernel-config=" + why);
  }
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
  std::vector<std::string> cudaArchs;
  bool cuda = target == "cuda";
  if (target != "cpu" && !cuda)
    return error("--target=" + target + ": expected cpu or cuda");
  if (!cuda && cudaArch.getNumOccurrences())
    return error("--cuda-arch needs --target=cuda");
  if (cuda && emit != "lib")
    return error("--target=cuda writes a shared library and its GPU plan: "
                 "use --emit=lib, not --emit=" +
                 emit);
  if (cuda) {
    std::string msg;
    if (!lopper::parseCudaArchs(cudaArch.empty() ? std::string("sm_80")
                                                 : cudaArch.getValue(),
                                cudaArchs, msg))
      return error(msg);
  }

  mlir::DialectRegistry registry;
  lopper::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  lopper::ImportOptions importOptions;
  std::string msg;
  if (!lopper::parseInputShapes(shapes, importOptions, msg))
    return error(msg);
  for (const std::string &spec : bindInputs) {
    auto [name, file] = StringRef(spec).split('=');
    if (name.empty() || file.empty())
      return error("--bind-input '" + spec + "': expected NAME=FILE");
    lopper::tools::HostTensor t;
    if (!lopper::tools::readTensorFile(file, t, msg))
      return error("--bind-input " + name.str() + ": " + msg);
    auto &b = importOptions.boundInputs[name.str()];
    b.dtype = (int32_t)t.dtype;
    b.shape.assign(t.shape.begin(), t.shape.end());
    b.raw.assign(t.data.begin(), t.data.end());
  }
  lopper::ImportErrors errors;
  auto module = lopper::importOnnxFile(input, &context, importOptions, errors);
  if (!module) {
    for (const std::string &e : errors)
      errs() << "lopper: error: " << e << "\n";
    return 1;
  }
  lopper::tools::CompileExtras extras(
      {input, output, reportFile, verify, verifyData, calibrationData,
       std::vector<std::string>(shapes.begin(), shapes.end()),
       opts.emit == lopper::EmitKind::Library, quiet || output == "-"});
  if (int rc = extras.begin(*module))
    return rc;
  // Compression passes run here, between the two report hooks: pruning on
  // the imported graph (node names as in the ONNX file, which configs
  // match), then fusion, then quantization.
  bool pruning = !prune.empty() || !compressionConfig.empty();
  if (!calibrationData.empty() && !pruning && quantize != "int8" &&
      maxLayerError <= 0 && !verify)
    return error("--calibration-data is given but nothing uses it: it "
                 "calibrates --quantize=int8, makes --prune calibration-aware, "
                 "and feeds --max-layer-error and --verify");
  if (pruning) {
    mlir::PassManager pm(&context);
    lopper::PruningOptions popts;
    popts.configFile = compressionConfig;
    // With data, importance is |W| times the input channel's activation
    // norm (Wanda), measured on the imported fp32 model.
    std::string normsPath;
    auto removeNorms = llvm::make_scope_exit([&] {
      if (!normsPath.empty())
        sys::fs::remove(normsPath);
    });
    if (!calibrationData.empty()) {
      const lopper::tools::Dataset *data = calibrationSet(*module, msg);
      if (!data)
        return error(msg);
      std::map<std::string, std::vector<double>> norms;
      if (!lopper::tools::activationNorms(*module, *data, norms, msg))
        return error(calibrationData + ": " + msg);
      json::Object o;
      for (auto &[k, v] : norms)
        o[k] = json::Array(v);
      SmallString<128> path;
      if (std::error_code ec = sys::fs::createTemporaryFile(
              "lopper-activation-norms", "json", path))
        return error("cannot create a temporary file: " + ec.message());
      normsPath = path.str().str();
      std::error_code ec;
      raw_fd_ostream os(normsPath, ec);
      if (ec)
        return error(normsPath + ": " + ec.message());
      os << json::Value(std::move(o));
      os.close();
      popts.activationNormsFile = normsPath;
      if (!quiet)
        outs() << "pruning importance: |W| x activation norms of "
               << norms.size() << " layers on " << data->samples.size()
               << " samples from " << calibrationData << "\n";
    }
    if (failed(lopper::addPruningPasses(pm, prune, popts, msg)))
      return error(msg);
    if (failed(pm.run(*module)))
      return error(input + ": pruning failed");
  }
  if (fuse && !runPasses(*module, lopper::buildFusionPipeline))
    return error(input + ": the fusion passes failed");
  // Without fusion an imported quantized model still needs its dequantized
  // constants as f32 data; its heavy ops then all run in float.
  if (!fuse && !runPasses(*module, [](mlir::OpPassManager &pm) {
        lopper::LopFoldQDQOptions o;
        o.fuseHeavy = false;
        pm.nest<mlir::func::FuncOp>().addPass(lopper::createLopFoldQDQ(o));
      }))
    return error(input + ": folding the dequantized constants failed");
  if (int rc = runQuantization(*module))
    return rc;
  if (emit == "onnx")
    return writeOnnx(*module);
  extras.beforeCodegen(*module);
  // The GPU plan is chosen before codegen (a failure leaves nothing) and
  // written after it, next to the artifact; if that fails the artifact goes
  // too, so a --target=cuda compile never leaves half its output.
  lopper::CUDAPlan cudaPlan;
  if (cuda && !lopper::buildCudaPlan(*module, cudaArchs, cudaPlan, msg))
    return error(input + ": " + msg);
  lopper::CPUCompileReport report;
  if (!lopper::compileForCPU(*module, opts, output, report, msg))
    return error(input + ": " + msg);
  if (cuda && !lopper::writeCudaPlan(cudaPlan, opts.name, report.metadata,
                                     output, msg)) {
    sys::fs::remove(output);
    if (report.sidecar)
      sys::fs::remove(report.sidecarPath);
    return error(msg);
  }
  if (int rc = extras.finish(report))
    return rc;
  if (printKernels) {
    double total = 0, dense = 0;
    for (const lopper::KernelChoice &k : report.kernels) {
      outs() << format("  %-40s %-8s %-18s %10.3g us (dense %.3g)%s\n",
                       k.layer.c_str(), k.op.c_str(), k.kernel.c_str(),
                       k.predictedUs, k.denseUs, k.forced ? " forced" : "");
      total += k.predictedUs;
      dense += k.denseUs;
    }
    outs() << format("  predicted heavy-op time at batch 1, one core: %.3g "
                     "us (all dense: %.3g us)\n",
                     total, dense);
  }
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
    if (cuda) {
      outs() << "  gpu plan: " << output << ".gpu for";
      for (const std::string &a : cudaPlan.archs)
        outs() << " " << a;
      outs() << ", " << cudaPlan.layers.size() << " layers\n";
      for (const lopper::CUDALayerPlan &l : cudaPlan.layers) {
        outs() << "    " << l.node << ": " << l.rows << "x" << l.cols << " "
               << l.format;
        if (l.blockRows)
          outs() << " " << l.blockRows << "x" << l.blockCols;
        outs() << format(" (dense %.1f us, best sparse %.1f us at density "
                         "%.3f, M=%lld)\n",
                         l.denseUs, l.sparseUs, l.density,
                         static_cast<long long>(lopper::kCudaReferenceRows));
      }
    }
  } else {
    outs() << "\n";
  }
  extras.printSummary(outs());
  return 0;
}

lopper::tools::Command lopper::tools::compileCommand() {
  return {&sub, runCompile};
}
