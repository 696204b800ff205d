//===- Run.cpp - lopper run ----------------------------------------------===//
//
// `lopper run MODEL.so --input NAME=FILE ... --output-dir DIR`: loads a
// compiled model through liblopper_runtime, runs it once and writes every
// output (and any tapped intermediate tensor) as a .npy or .pb file. Also
// defines the model helpers that `lopper bench` shares (TensorFiles.h).
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "TensorFiles.h"

#include "lopper/runtime.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace llvm;
using namespace lopper::tools;

static cl::OptionCategory &cat = lopperCategory();
static cl::SubCommand
    runCmd("run",
           "run a compiled model once and write its outputs as .npy/.pb");
static cl::opt<std::string> runModel(cl::Positional, cl::desc("<model.so>"),
                                     cl::Required, cl::sub(runCmd));
static cl::list<std::string>
    runInputs("input", cl::desc("an input tensor from a .npy or .pb file"),
              cl::value_desc("NAME=FILE"), cl::sub(runCmd), cl::cat(cat));
static cl::opt<uint64_t> runSeed(
    "random-inputs",
    cl::desc("generate every input not given with --input (splitmix64)"),
    cl::value_desc("SEED"), cl::sub(runCmd), cl::cat(cat));
static cl::list<std::string> runRanges(
    "random-range",
    cl::desc("draw random values from [LO, HI) (all inputs, or input NAME); "
             "default [-1, 1) for floats, [0, 10) for integers"),
    cl::value_desc("[NAME=]LO,HI"), cl::sub(runCmd), cl::cat(cat));
static cl::list<std::string>
    runDims("dim", cl::desc("the size of a dynamic dimension (default 1)"),
            cl::value_desc("NAME=VALUE"), cl::sub(runCmd), cl::cat(cat));
static cl::opt<std::string>
    runOutputDir("output-dir", cl::desc("where the outputs are written"),
                 cl::value_desc("DIR"), cl::Required, cl::sub(runCmd),
                 cl::cat(cat));
static cl::opt<int> runThreads("threads",
                               cl::desc("kernel threads (0: one per core)"),
                               cl::init(0), cl::sub(runCmd), cl::cat(cat));
static cl::opt<std::string> runDevice(
    "device",
    cl::desc("cpu (default) or cuda: load the artifact's GPU plan; without a "
             "usable GPU the model runs on the CPU (docs/gpu.md)"),
    cl::init("cpu"), cl::sub(runCmd), cl::cat(cat));
static cl::list<std::string>
    runTaps("tap", cl::desc("also write intermediate tensor NAME to DIR/taps"),
            cl::value_desc("NAME"), cl::sub(runCmd), cl::cat(cat));
static cl::opt<TensorFileFormat>
    runFormat("output-format", cl::desc("the file format of the outputs"),
              cl::values(clEnumValN(TensorFileFormat::Npy, "npy", "NumPy .npy"),
                         clEnumValN(TensorFileFormat::Pb, "pb",
                                    "serialized ONNX TensorProto")),
              cl::init(TensorFileFormat::Npy), cl::sub(runCmd), cl::cat(cat));
static cl::opt<bool>
    runSaveInputs("save-inputs",
                  cl::desc("also write the inputs used to DIR/inputs"),
                  cl::sub(runCmd), cl::cat(cat));

//===----------------------------------------------------------------------===//
// Shared model helpers (declared in TensorFiles.h)
//===----------------------------------------------------------------------===//

namespace lopper::tools {

Model::~Model() { lopper_model_unload(handle); }

TensorList::~TensorList() {
  for (lopper_tensor *t : tensors)
    lopper_tensor_destroy(t);
}

std::string runtimeError() {
  const char *msg = lopper_last_error();
  if (msg && *msg)
    return msg;
  return "the runtime failed without a message";
}

static bool readSig(const lopper_model *model, bool isOutput, size_t index,
                    TensorSig &sig, std::string &error) {
  const char *name = nullptr;
  lopper_tensor_desc desc = LOPPER_TENSOR_DESC_INIT;
  lopper_status st = isOutput ? lopper_model_output(model, index, &name, &desc)
                              : lopper_model_input(model, index, &name, &desc);
  if (st != LOPPER_OK) {
    error = runtimeError();
    return false;
  }
  sig.name = name ? name : "";
  const char *what = isOutput ? "output" : "input";
  std::optional<DType> dtype = dtypeFromInt(desc.dtype);
  if (!dtype) {
    error = std::string("the model's ") + what + " '" + sig.name +
            "' has an unsupported element type " + std::to_string(desc.dtype);
    return false;
  }
  if (desc.rank < 0 || desc.rank > LOPPER_MAX_RANK) {
    error = std::string("the model's ") + what + " '" + sig.name +
            "' has an invalid rank " + std::to_string(desc.rank);
    return false;
  }
  sig.dtype = *dtype;
  sig.dims.assign(desc.dims, desc.dims + desc.rank);
  sig.dimNames.assign(desc.rank, "");
  for (int32_t d = 0; d < desc.rank; ++d) {
    if (desc.dims[d] >= 0)
      continue;
    const char *dimName = nullptr;
    if (lopper_model_dim_name(model, isOutput, index, size_t(d), &dimName) !=
        LOPPER_OK) {
      error = runtimeError();
      return false;
    }
    if (dimName)
      sig.dimNames[d] = dimName;
  }
  return true;
}

bool loadModel(StringRef path, int32_t threads, Model &out, std::string &error,
               int32_t device) {
  sys::fs::file_status status;
  if (std::error_code ec = sys::fs::status(path, status)) {
    error = (path + ": cannot read: " + ec.message()).str();
    return false;
  }
  if (sys::fs::is_directory(status)) {
    error = (path + ": is a directory, not a compiled model").str();
    return false;
  }
  lopper_options options = LOPPER_OPTIONS_INIT;
  options.num_threads = threads;
  options.device = device;
  std::string pathStr = path.str();
  if (lopper_model_load(pathStr.c_str(), &options, &out.handle) != LOPPER_OK) {
    out.handle = nullptr;
    error = runtimeError();
    return false;
  }
  size_t numInputs = 0, numOutputs = 0;
  if (lopper_model_num_inputs(out.handle, &numInputs) != LOPPER_OK ||
      lopper_model_num_outputs(out.handle, &numOutputs) != LOPPER_OK) {
    error = runtimeError();
    return false;
  }
  out.inputs.resize(numInputs);
  out.outputs.resize(numOutputs);
  for (size_t i = 0; i < numInputs; ++i)
    if (!readSig(out.handle, false, i, out.inputs[i], error))
      return false;
  for (size_t i = 0; i < numOutputs; ++i)
    if (!readSig(out.handle, true, i, out.outputs[i], error))
      return false;
  return true;
}

bool readInputFiles(const InputOptions &options,
                    std::vector<std::pair<std::string, HostTensor>> &files,
                    std::string &error) {
  for (const std::string &spec : options.files) {
    auto [name, path] = StringRef(spec).split('=');
    if (!StringRef(spec).contains('=') || name.empty() || path.empty()) {
      error = "--input '" + spec + "' must look like NAME=FILE";
      return false;
    }
    for (auto &[seen, tensor] : files)
      if (seen == name) {
        error = "--input gives '" + name.str() + "' twice";
        return false;
      }
    HostTensor tensor;
    if (!readTensorFile(path, tensor, error))
      return false;
    files.emplace_back(name.str(), std::move(tensor));
  }
  return true;
}

static std::string joinNames(ArrayRef<std::string> names) {
  std::string s;
  for (auto [i, n] : llvm::enumerate(names))
    s += (i ? ", '" : "'") + n + "'";
  return s;
}

static std::vector<std::string> inputNames(const Model &model) {
  std::vector<std::string> names;
  for (const TensorSig &sig : model.inputs)
    names.push_back(sig.name);
  return names;
}

bool bindInputs(const Model &model, const InputOptions &options,
                std::vector<std::pair<std::string, HostTensor>> files,
                ModelInputs &out, std::string &error) {
  size_t n = model.inputs.size();
  StringMap<size_t> index;
  for (size_t i = 0; i < n; ++i)
    index[model.inputs[i].name] = i;
  auto unknown = [&](StringRef flag, StringRef name) {
    error = (flag + " names '" + name + "', which is not an input of the " +
             "model (its inputs: " + joinNames(inputNames(model)) + ")")
                .str();
    return false;
  };

  // Symbol values: --dim first, then what the files say.
  StringMap<int64_t> dimValues;
  StringMap<std::string> dimSource;
  std::vector<std::string> symbols;
  for (const TensorSig &sig : model.inputs)
    for (const std::string &s : sig.dimNames)
      if (!s.empty() && !is_contained(symbols, s))
        symbols.push_back(s);
  for (const std::string &spec : options.dims) {
    auto [name, value] = StringRef(spec).split('=');
    int64_t v;
    if (!StringRef(spec).contains('=') || name.empty() ||
        value.getAsInteger(10, v) || v < 0) {
      error = "--dim '" + spec + "' must look like NAME=VALUE (VALUE >= 0)";
      return false;
    }
    if (!is_contained(symbols, name)) {
      error = symbols.empty()
                  ? "--dim names '" + name.str() +
                        "', but the model's inputs have no named dynamic "
                        "dimensions"
                  : "--dim names '" + name.str() +
                        "', which is not a dynamic dimension of the model "
                        "(its dimensions: " +
                        joinNames(symbols) + ")";
      return false;
    }
    if (dimValues.count(name) && dimValues[name] != v) {
      error = "--dim gives '" + name.str() + "' twice";
      return false;
    }
    dimValues[name] = v;
    dimSource[name] = "--dim";
  }

  out.host.assign(n, HostTensor());
  out.sources.assign(n, "");
  std::vector<bool> given(n, false);
  for (auto [k, entry] : llvm::enumerate(files)) {
    auto &[name, tensor] = entry;
    auto it = index.find(name);
    if (it == index.end())
      return unknown("--input", name);
    const TensorSig &sig = model.inputs[it->second];
    std::string what = "--input " + options.files[k] + ": ";
    if (tensor.dtype != sig.dtype) {
      error = what + "the file holds " + dtypeName(tensor.dtype) +
              " but input '" + name + "' is " + sig.str();
      return false;
    }
    bool shapeOk = tensor.shape.size() == sig.dims.size();
    for (size_t d = 0; shapeOk && d < sig.dims.size(); ++d)
      shapeOk = sig.dims[d] < 0 || sig.dims[d] == tensor.shape[d];
    if (!shapeOk) {
      error = what + "the file has shape " + shapeString(tensor.shape) +
              " but input '" + name + "' is " + sig.str();
      return false;
    }
    for (size_t d = 0; d < sig.dims.size(); ++d) {
      const std::string &sym = sig.dimNames[d];
      if (sym.empty())
        continue;
      auto found = dimValues.find(sym);
      if (found != dimValues.end() && found->second != tensor.shape[d]) {
        error = what + "dimension '" + sym + "' is " +
                std::to_string(tensor.shape[d]) + " here but " +
                std::to_string(found->second) + " in " + dimSource[sym];
        return false;
      }
      dimValues[sym] = tensor.shape[d];
      dimSource[sym] = "input '" + name + "'";
    }
    size_t i = it->second;
    given[i] = true;
    out.host[i] = std::move(tensor);
  }
  // The file paths, for reports.
  for (const std::string &spec : options.files) {
    auto [name, path] = StringRef(spec).split('=');
    out.sources[index[name]] = path.str();
  }

  std::vector<std::string> missing;
  for (size_t i = 0; i < n; ++i)
    if (!given[i])
      missing.push_back(model.inputs[i].name);
  if (!options.seed) {
    if (!missing.empty()) {
      error = std::string("missing input") + (missing.size() > 1 ? "s " : " ") +
              joinNames(missing) +
              ": give --input NAME=FILE or --random-inputs SEED";
      return false;
    }
    if (!options.ranges.empty()) {
      error = "--random-range needs --random-inputs";
      return false;
    }
  }

  // Ranges: "LO,HI" for every random input, "NAME=LO,HI" for one.
  std::optional<RandomRange> allRange;
  std::vector<std::optional<RandomRange>> ranges(n);
  for (const std::string &spec : options.ranges) {
    StringRef text = spec;
    std::optional<size_t> only;
    if (text.contains('=')) {
      auto [name, rest] = text.split('=');
      auto it = index.find(name);
      if (it == index.end())
        return unknown("--random-range", name);
      only = it->second;
      text = rest;
    }
    RandomRange range;
    std::string msg;
    if (!parseRandomRange(text, range, msg)) {
      error = "--random-range " + msg;
      return false;
    }
    for (size_t i = 0; i < n; ++i) {
      if ((only && *only != i) || given[i])
        continue;
      if (!checkRandomRange(model.inputs[i].dtype, range, msg)) {
        error = "--random-range '" + spec + "': input '" +
                model.inputs[i].name + "': " + msg;
        return false;
      }
    }
    if (only)
      ranges[*only] = range;
    else
      allRange = range;
  }

  if (options.seed) {
    SplitMix64 rng(*options.seed);
    for (size_t i = 0; i < n; ++i) {
      if (given[i])
        continue;
      const TensorSig &sig = model.inputs[i];
      std::vector<int64_t> shape = sig.dims;
      for (size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] >= 0)
          continue;
        shape[d] = 1;
        if (!sig.dimNames[d].empty()) {
          auto found = dimValues.find(sig.dimNames[d]);
          if (found != dimValues.end())
            shape[d] = found->second;
          else
            dimValues[sig.dimNames[d]] = 1;
        }
      }
      std::string msg;
      if (!makeHostTensor(sig.dtype, shape, out.host[i], msg)) {
        error = "input '" + sig.name + "': " + msg;
        return false;
      }
      fillRandom(out.host[i], rng, ranges[i] ? ranges[i] : allRange);
      out.sources[i] = "random";
    }
  }
  for (const std::string &sym : symbols)
    if (dimValues.count(sym))
      out.dimValues.emplace_back(sym, dimValues[sym]);

  // Runtime tensors (owned: the runtime aligns them).
  for (size_t i = 0; i < n; ++i) {
    const HostTensor &host = out.host[i];
    lopper_tensor_desc desc = LOPPER_TENSOR_DESC_INIT;
    desc.dtype = int32_t(host.dtype);
    desc.rank = int32_t(host.shape.size());
    for (size_t d = 0; d < host.shape.size(); ++d)
      desc.dims[d] = host.shape[d];
    lopper_tensor *tensor = nullptr;
    if (lopper_tensor_create(&desc, &tensor) != LOPPER_OK) {
      error = runtimeError();
      return false;
    }
    out.tensors.tensors.push_back(tensor);
    void *data = nullptr;
    size_t bytes = 0;
    if (lopper_tensor_data(tensor, &data, &bytes) != LOPPER_OK) {
      error = runtimeError();
      return false;
    }
    if (bytes < host.data.size()) {
      error = "input '" + model.inputs[i].name + "': the runtime allocated " +
              std::to_string(bytes) + " bytes for " +
              std::to_string(host.data.size());
      return false;
    }
    if (!host.data.empty())
      std::memcpy(data, host.data.data(), host.data.size());
  }
  return true;
}

bool tensorToHost(const lopper_tensor *tensor, HostTensor &out,
                  std::string &error) {
  lopper_tensor_desc desc = LOPPER_TENSOR_DESC_INIT;
  if (lopper_tensor_get_desc(tensor, &desc) != LOPPER_OK) {
    error = runtimeError();
    return false;
  }
  std::optional<DType> dtype = dtypeFromInt(desc.dtype);
  if (!dtype) {
    error = "unsupported element type " + std::to_string(desc.dtype);
    return false;
  }
  if (desc.rank < 0 || desc.rank > LOPPER_MAX_RANK) {
    error = "invalid rank " + std::to_string(desc.rank);
    return false;
  }
  std::vector<int64_t> shape(desc.dims, desc.dims + desc.rank);
  if (!makeHostTensor(*dtype, shape, out, error))
    return false;
  const void *data = nullptr;
  size_t bytes = 0;
  if (lopper_tensor_const_data(tensor, &data, &bytes) != LOPPER_OK) {
    error = runtimeError();
    return false;
  }
  if (bytes < out.data.size() || (!data && !out.data.empty())) {
    error = "the runtime returned " + std::to_string(bytes) +
            " bytes for a tensor of " + std::to_string(out.data.size());
    return false;
  }
  if (!out.data.empty())
    std::memcpy(out.data.data(), data, out.data.size());
  return true;
}

} // namespace lopper::tools

//===----------------------------------------------------------------------===//
// lopper run
//===----------------------------------------------------------------------===//

/// .npy has no bf16: such tensors are written widened (exactly) to f32.
static HostTensor widenBF16(const HostTensor &t) {
  HostTensor f;
  std::string unused;
  makeHostTensor(DType::F32, t.shape, f, unused);
  for (int64_t i = 0, n = t.numElements(); i < n; ++i) {
    float v = float(t.elementAsDouble(i));
    std::memcpy(f.data.data() + size_t(i) * 4, &v, 4);
  }
  return f;
}

/// Writes `tensors` into `dir` under safe names; prints one line each
/// ("PREFIXNAME: DTYPE [DIMS] -> PATH").
static bool writeTensors(StringRef prefix, StringRef dir,
                         ArrayRef<std::string> names,
                         ArrayRef<HostTensor> tensors, std::string &error) {
  if (std::error_code ec = sys::fs::create_directories(dir)) {
    error = (dir + ": cannot create the directory: " + ec.message()).str();
    return false;
  }
  std::vector<std::string> stems = safeFileStems(names);
  const char *ext = runFormat == TensorFileFormat::Npy ? ".npy" : ".pb";
  for (size_t i = 0; i < names.size(); ++i) {
    SmallString<256> path(dir);
    sys::path::append(path, stems[i] + ext);
    const HostTensor *t = &tensors[i];
    HostTensor widened;
    bool widen = runFormat == TensorFileFormat::Npy && t->dtype == DType::BF16;
    if (widen) {
      widened = widenBF16(*t);
      t = &widened;
    }
    if (!writeTensorFile(path, runFormat, *t, names[i], error))
      return false;
    outs() << prefix << names[i] << ": " << dtypeName(tensors[i].dtype) << " "
           << shapeString(tensors[i].shape) << " -> " << path
           << (widen ? " (written as f32)" : "") << "\n";
  }
  return true;
}

static int runRun() {
  if (runThreads < 0)
    return error("--threads must be 0 (one per core) or more");
  InputOptions options;
  options.files.assign(runInputs.begin(), runInputs.end());
  if (runSeed.getNumOccurrences())
    options.seed = runSeed;
  options.ranges.assign(runRanges.begin(), runRanges.end());
  options.dims.assign(runDims.begin(), runDims.end());

  std::string msg;
  sys::fs::file_status status;
  if (std::error_code ec = sys::fs::status(runModel, status))
    return error(runModel + ": cannot read: " + ec.message());
  std::vector<std::pair<std::string, HostTensor>> files;
  if (!readInputFiles(options, files, msg))
    return error(msg);
  Model model;
  if (runDevice != "cpu" && runDevice != "cuda")
    return error("--device=" + runDevice + ": expected cpu or cuda");
  if (!loadModel(runModel, runThreads, model, msg,
                 runDevice == "cuda" ? LOPPER_DEVICE_CUDA : LOPPER_DEVICE_CPU))
    return error(msg);
  ModelInputs inputs;
  if (!bindInputs(model, options, std::move(files), inputs, msg))
    return error(msg);

  // Taps go through a session.
  struct SessionDeleter {
    void operator()(lopper_session *s) const { lopper_session_destroy(s); }
  };
  std::unique_ptr<lopper_session, SessionDeleter> session;
  if (!runTaps.empty()) {
    size_t numTaps = 0;
    if (lopper_model_num_taps(model.handle, &numTaps) != LOPPER_OK)
      return error(runtimeError());
    std::vector<std::string> tapNames;
    for (size_t i = 0; i < numTaps; ++i) {
      const char *name = nullptr;
      if (lopper_model_tap_name(model.handle, i, &name) != LOPPER_OK)
        return error(runtimeError());
      tapNames.push_back(name ? name : "");
    }
    for (const std::string &tap : runTaps) {
      if (is_contained(tapNames, tap))
        continue;
      if (tapNames.empty())
        return error("--tap '" + tap + "': the model has no taps");
      std::vector<std::string> shown(tapNames.begin(),
                                     tapNames.begin() +
                                         std::min<size_t>(tapNames.size(), 20));
      return error("--tap '" + tap + "' is not a tap of the model (its " +
                   Twine(tapNames.size()) + " taps: " + joinNames(shown) +
                   (tapNames.size() > shown.size() ? ", ..." : "") + ")");
    }
    lopper_session *s = nullptr;
    if (lopper_session_create(model.handle, &s) != LOPPER_OK)
      return error(runtimeError());
    session.reset(s);
    for (const std::string &tap : runTaps)
      if (lopper_session_tap(session.get(), tap.c_str()) != LOPPER_OK)
        return error(runtimeError());
  }

  TensorList outputs;
  outputs.tensors.assign(model.outputs.size(), nullptr);
  if (lopper_run(model.handle, session.get(), inputs.tensors.tensors.data(),
                 inputs.tensors.tensors.size(), outputs.tensors.data(),
                 outputs.tensors.size()) != LOPPER_OK)
    return error(runtimeError());

  std::vector<std::string> names;
  std::vector<HostTensor> results(model.outputs.size());
  for (size_t i = 0; i < model.outputs.size(); ++i) {
    names.push_back(model.outputs[i].name);
    if (!outputs.tensors[i])
      return error("the runtime returned no tensor for output '" +
                   model.outputs[i].name + "'");
    if (!tensorToHost(outputs.tensors[i], results[i], msg))
      return error("output '" + model.outputs[i].name + "': " + msg);
  }
  if (!writeTensors("", runOutputDir, names, results, msg))
    return error(msg);

  if (session) {
    std::vector<std::string> tapNames;
    std::vector<HostTensor> taps;
    for (const std::string &tap : runTaps) {
      if (is_contained(tapNames, tap))
        continue;
      const lopper_tensor *t = nullptr;
      if (lopper_session_get_tap(session.get(), tap.c_str(), &t) != LOPPER_OK)
        return error(runtimeError());
      HostTensor host;
      if (!t || !tensorToHost(t, host, msg))
        return error("tap '" + tap + "': " + (t ? msg : "no tensor"));
      tapNames.push_back(tap);
      taps.push_back(std::move(host));
    }
    SmallString<256> dir(runOutputDir.getValue());
    sys::path::append(dir, "taps");
    if (!writeTensors("tap ", dir, tapNames, taps, msg))
      return error(msg);
  }

  if (runSaveInputs) {
    SmallString<256> dir(runOutputDir.getValue());
    sys::path::append(dir, "inputs");
    if (!writeTensors("input ", dir, inputNames(model), inputs.host, msg))
      return error(msg);
  }
  return 0;
}

lopper::tools::Command lopper::tools::runCommand() { return {&runCmd, runRun}; }
