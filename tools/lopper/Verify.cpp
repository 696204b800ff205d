//===- Verify.cpp - lopper verify: compressed vs original -----------------===//
//
// `lopper verify original.onnx compressed.so --data DATA`: compiles the
// original in-process to an fp32 artifact in a temporary folder, runs every
// sample through both with the runtime, and reports the drift of every
// output and of the worst layers (taps both artifacts share).
//
//===----------------------------------------------------------------------===//

#include "Verify.h"
#include "CalibrationData.h"
#include "Commands.h"

#include "lopper/Import/OnnxImporter.h"
#include "lopper/InitAll.h"
#include "lopper/Target/CPU.h"
#include "lopper/runtime.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"

#include <memory>

using namespace llvm;
using namespace lopper::tools;

static cl::OptionCategory &cat = lopperCategory();
static cl::SubCommand
    verifyCmd("verify", "compare a compressed artifact with its original "
                        "ONNX model on a data set");
static cl::opt<std::string> verifyOriginal(cl::Positional,
                                           cl::desc("<original.onnx>"),
                                           cl::Required, cl::sub(verifyCmd));
static cl::opt<std::string> verifyCompressed(cl::Positional,
                                             cl::desc("<compressed.so>"),
                                             cl::Required, cl::sub(verifyCmd));
static cl::opt<std::string> verifyData(
    "data",
    cl::desc("the samples: a folder of test_data_set_*/input_K.pb or "
             "<input>.npy files, or a .npz file"),
    cl::value_desc("DATA"), cl::Required, cl::sub(verifyCmd), cl::cat(cat));
static cl::opt<bool> verifyJson("json", cl::desc("print JSON"),
                                cl::sub(verifyCmd), cl::cat(cat));
static cl::opt<int> verifyThreads("threads",
                                  cl::desc("kernel threads (0: one per core)"),
                                  cl::init(0), cl::sub(verifyCmd),
                                  cl::cat(cat));
static cl::opt<unsigned>
    verifyLayers("layers", cl::desc("how many of the worst layers to show"),
                 cl::init(10), cl::sub(verifyCmd), cl::cat(cat));
static cl::list<std::string>
    verifyShapes("input-shape",
                 cl::desc("pin an input's shape when compiling the original "
                          "(as the compressed artifact was compiled)"),
                 cl::value_desc("NAME=DIMS"), cl::sub(verifyCmd), cl::cat(cat));

namespace {

using Session = std::unique_ptr<lopper_session, SessionDeleter>;

/// Imports and compiles the ONNX model as `lopper compile` does, with no
/// compression.
bool compileOriginal(const VerifyOptions &options, StringRef outPath,
                     std::string &error) {
  mlir::DialectRegistry registry;
  lopper::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  lopper::ImportOptions importOptions;
  if (!lopper::parseInputShapes(options.inputShapes, importOptions, error))
    return false;
  lopper::ImportErrors errors;
  auto module =
      lopper::importOnnxFile(options.original, &context, importOptions, errors);
  if (!module) {
    error = join(errors, "\nlopper: error: ");
    return false;
  }
  lopper::CPUCompileOptions opts;
  opts.name = "original";
  lopper::CPUCompileReport report;
  if (!lopper::compileForCPU(*module, opts, outPath.str(), report, error)) {
    error = options.original + ": " + error;
    return false;
  }
  return true;
}

/// Both signatures: the same inputs and outputs (names, dtypes, ranks, and
/// the dims that are static in both).
bool checkSignatures(const VerifyOptions &options, const Model &original,
                     const Model &compressed, std::string &error) {
  auto compare = [&](const char *what, const std::vector<TensorSig> &a,
                     const std::vector<TensorSig> &b) {
    if (a.size() != b.size()) {
      error = "the signatures differ: " + options.original + " has " +
              std::to_string(a.size()) + " " + what + "s but " +
              options.compressed + " has " + std::to_string(b.size());
      return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
      bool same = a[i].name == b[i].name && a[i].dtype == b[i].dtype &&
                  a[i].dims.size() == b[i].dims.size();
      for (size_t d = 0; same && d < a[i].dims.size(); ++d)
        same = a[i].dims[d] < 0 || b[i].dims[d] < 0 ||
               a[i].dims[d] == b[i].dims[d];
      if (!same) {
        error = "the signatures differ: " + std::string(what) + " " +
                std::to_string(i) + " is '" + a[i].name + "' " + a[i].str() +
                " in " + options.original + " but '" + b[i].name + "' " +
                b[i].str() + " in " + options.compressed;
        return false;
      }
    }
    return true;
  };
  return compare("input", original.inputs, compressed.inputs) &&
         compare("output", original.outputs, compressed.outputs);
}

bool tapNames(const Model &model, std::vector<std::string> &names,
              std::string &error) {
  size_t n = 0;
  if (lopper_model_num_taps(model.handle, &n) != LOPPER_OK) {
    error = runtimeError();
    return false;
  }
  for (size_t i = 0; i < n; ++i) {
    const char *name = nullptr;
    if (lopper_model_tap_name(model.handle, i, &name) != LOPPER_OK) {
      error = runtimeError();
      return false;
    }
    // A repeated name refers to the first tap with it.
    if (name && !is_contained(names, name))
      names.push_back(name);
  }
  return true;
}

} // namespace

/// Binds one sample's tensors to `model`'s inputs, in signature order.
bool lopper::tools::bindSample(const Model &model, const Sample &sample,
                               ModelInputs &out, std::string &error) {
  InputOptions options;
  std::vector<std::pair<std::string, HostTensor>> files;
  for (const TensorSig &sig : model.inputs) {
    auto it = sample.tensors.find(sig.name);
    if (it == sample.tensors.end()) {
      error = sample.source + ": missing input '" + sig.name + "'";
      return false;
    }
    options.files.push_back(sig.name + "=" + sample.source);
    files.emplace_back(sig.name, it->second);
  }
  if (!bindInputs(model, options, std::move(files), out, error)) {
    error = sample.source + ": " + error;
    return false;
  }
  return true;
}

/// Runs one sample; returns the outputs in host memory.
bool lopper::tools::runSample(const Model &model, lopper_session *session,
                              const Sample &sample,
                              std::vector<HostTensor> &outputs,
                              std::string &error) {
  ModelInputs inputs;
  if (!bindSample(model, sample, inputs, error))
    return false;
  TensorList results;
  results.tensors.assign(model.outputs.size(), nullptr);
  if (lopper_run(model.handle, session, inputs.tensors.tensors.data(),
                 inputs.tensors.tensors.size(), results.tensors.data(),
                 results.tensors.size()) != LOPPER_OK) {
    error = sample.source + ": " + runtimeError();
    return false;
  }
  outputs.assign(model.outputs.size(), HostTensor());
  for (size_t i = 0; i < model.outputs.size(); ++i)
    if (!results.tensors[i] ||
        !tensorToHost(results.tensors[i], outputs[i], error)) {
      error = "output '" + model.outputs[i].name +
              "': " + (results.tensors[i] ? error : "no tensor");
      return false;
    }
  return true;
}

bool lopper::tools::getTap(lopper_session *session, const std::string &name,
                           HostTensor &out, std::string &error) {
  const lopper_tensor *t = nullptr;
  if (lopper_session_get_tap(session, name.c_str(), &t) != LOPPER_OK) {
    error = runtimeError();
    return false;
  }
  if (!t || !tensorToHost(t, out, error)) {
    error = "tap '" + name + "': " + (t ? error : "no tensor");
    return false;
  }
  return true;
}

int lopper::tools::runVerify(const VerifyOptions &options,
                             VerifyResult *resultOut) {
  if (options.threads < 0)
    return error("--threads must be 0 (one per core) or more");
  std::string msg;
  for (const std::string *p : {&options.original, &options.compressed}) {
    sys::fs::file_status st;
    if (std::error_code ec = sys::fs::status(*p, st))
      return error(*p + ": cannot read: " + ec.message());
  }
  // The compressed artifact's signature first: a bad data set is reported
  // before the original is compiled.
  Model compressed;
  if (!loadModel(options.compressed, options.threads, compressed, msg))
    return error(msg);
  ModelSignature signature{compressed.inputs};
  std::optional<Dataset> loaded;
  if (!options.dataset) {
    Expected<Dataset> read = loadDataset(options.data, signature);
    if (!read)
      return error(toString(read.takeError()));
    loaded = std::move(*read);
  }
  const Dataset *data = options.dataset ? options.dataset : &*loaded;

  TempDir tmp;
  if (std::error_code ec =
          sys::fs::createUniqueDirectory("lopper-verify", tmp.path))
    return error("cannot create a temporary folder: " + ec.message());
  SmallString<128> originalSo(tmp.path);
  sys::path::append(originalSo, "original.so");
  if (!compileOriginal(options, originalSo, msg))
    return error(msg);
  Model original;
  if (!loadModel(originalSo, options.threads, original, msg))
    return error(msg);
  if (!checkSignatures(options, original, compressed, msg))
    return error(msg);

  // Taps both artifacts have.
  std::vector<std::string> originalTaps, compressedTaps, common;
  if (!tapNames(original, originalTaps, msg) ||
      !tapNames(compressed, compressedTaps, msg))
    return error(msg);
  for (const std::string &t : compressedTaps)
    if (is_contained(originalTaps, t))
      common.push_back(t);
  Session sessions[2];
  for (int m = 0; m < 2; ++m) {
    lopper_session *s = nullptr;
    if (lopper_session_create(m ? compressed.handle : original.handle, &s) !=
        LOPPER_OK)
      return error(runtimeError());
    sessions[m].reset(s);
    for (const std::string &t : common)
      if (lopper_session_tap(s, t.c_str()) != LOPPER_OK)
        return error(runtimeError());
  }

  std::vector<MetricsAccumulator> outputAcc(compressed.outputs.size());
  std::vector<MetricsAccumulator> tapAcc(common.size());
  // Integer taps (shapes, indices, masks) are left out; a float tap whose
  // shape or type differs between the two is skipped.
  enum class TapState { Compared, Skipped, NotFloat };
  std::vector<TapState> tapState(common.size(), TapState::Compared);
  for (const Sample &sample : data->samples) {
    std::vector<HostTensor> expected, actual;
    if (!runSample(original, sessions[0].get(), sample, expected, msg) ||
        !runSample(compressed, sessions[1].get(), sample, actual, msg))
      return error(msg);
    for (size_t i = 0; i < actual.size(); ++i)
      if (!outputAcc[i].add(actual[i], expected[i], msg))
        return error(sample.source + ": output '" + compressed.outputs[i].name +
                     "': " + msg);
    for (size_t t = 0; t < common.size(); ++t) {
      if (tapState[t] != TapState::Compared)
        continue;
      HostTensor a, e;
      if (!getTap(sessions[0].get(), common[t], e, msg) ||
          !getTap(sessions[1].get(), common[t], a, msg))
        return error(msg);
      if (!isFloatDType(a.dtype) && !isFloatDType(e.dtype))
        tapState[t] = TapState::NotFloat;
      else if (a.dtype != e.dtype || !tapAcc[t].add(a, e, msg))
        tapState[t] = TapState::Skipped;
    }
  }

  VerifyResult result;
  result.samples = int64_t(data->samples.size());
  for (size_t i = 0; i < outputAcc.size(); ++i)
    result.outputs.push_back(
        {compressed.outputs[i].name, outputAcc[i].result()});
  for (size_t t = 0; t < common.size(); ++t) {
    if (tapState[t] == TapState::Skipped)
      ++result.layersSkipped;
    else if (tapState[t] == TapState::Compared)
      result.layers.push_back({common[t], tapAcc[t].result()});
  }
  llvm::stable_sort(result.layers,
                    [](const TensorMetrics &a, const TensorMetrics &b) {
                      return a.metrics.relL2 > b.metrics.relL2;
                    });

  if (!options.quiet) {
    if (options.json) {
      json::Object root = verifyResultToJson(result, options.maxLayers);
      root["original"] = options.original;
      root["compressed"] = options.compressed;
      root["data"] = options.data;
      outs() << formatv("{0:2}", json::Value(std::move(root))) << "\n";
    } else {
      outs() << "verify: " << options.compressed << " against "
             << options.original << " on " << result.samples << " sample"
             << (result.samples == 1 ? "" : "s") << " from " << options.data
             << "\n";
      printVerifyResult(result, options.maxLayers, outs());
    }
  }
  if (resultOut)
    *resultOut = std::move(result);
  return 0;
}

static int runVerifyCommand() {
  VerifyOptions options;
  options.original = verifyOriginal;
  options.compressed = verifyCompressed;
  options.data = verifyData;
  options.inputShapes.assign(verifyShapes.begin(), verifyShapes.end());
  options.threads = verifyThreads;
  options.json = verifyJson;
  options.maxLayers = verifyLayers;
  return runVerify(options);
}

lopper::tools::Command lopper::tools::verifyCommand() {
  return {&verifyCmd, runVerifyCommand};
}
