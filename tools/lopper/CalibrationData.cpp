//===- CalibrationData.cpp - calibration and evaluation data sets ---------===//

#include "CalibrationData.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/DebugStringHelper.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <zip.h>

#include <algorithm>
#include <cstring>

using namespace llvm;

namespace lopper::tools {

static Error fail(const Twine &msg) {
  return createStringError(inconvertibleErrorCode(), msg);
}

//===----------------------------------------------------------------------===//
// .npz
//===----------------------------------------------------------------------===//

bool parseNpz(StringRef bytes, StringRef fileName,
              std::vector<std::pair<std::string, HostTensor>> &out,
              std::string &error) {
  auto failWith = [&](const Twine &msg) {
    error = (fileName + ": " + msg).str();
    return false;
  };
  // libzip opens an empty source as an empty archive; a zip file has at
  // least its end-of-directory record.
  if (bytes.empty())
    return failWith("not a valid .npz (zip) archive: the file is empty");
  zip_error_t zerr;
  zip_error_init(&zerr);
  zip_source_t *src =
      zip_source_buffer_create(bytes.data(), bytes.size(), 0, &zerr);
  if (!src) {
    std::string msg = zip_error_strerror(&zerr);
    zip_error_fini(&zerr);
    return failWith("cannot read the archive: " + msg);
  }
  zip_t *archive = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
  if (!archive) {
    std::string msg = zip_error_strerror(&zerr);
    zip_error_fini(&zerr);
    zip_source_free(src);
    return failWith("not a valid .npz (zip) archive: " + msg);
  }
  zip_error_fini(&zerr);
  // The archive owns `src` from here on; zip_discard frees both.
  auto done = [&](bool ok) {
    zip_discard(archive);
    return ok;
  };
  zip_int64_t count = zip_get_num_entries(archive, 0);
  std::vector<std::pair<std::string, HostTensor>> arrays;
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive, i, 0, &st) != 0 ||
        !(st.valid & ZIP_STAT_NAME) || !(st.valid & ZIP_STAT_SIZE))
      return done(failWith("entry " + Twine(i) + ": cannot read its header: " +
                           zip_strerror(archive)));
    StringRef entry = st.name;
    if (!entry.ends_with(".npy"))
      return done(failWith("entry '" + entry + "' is not a .npy file"));
    std::string key = entry.drop_back(4).str();
    zip_file_t *file = zip_fopen_index(archive, i, 0);
    if (!file)
      return done(failWith("entry '" + entry +
                           "': cannot open: " + zip_strerror(archive)));
    // Read in chunks: the declared size is not trusted for the allocation.
    std::string data;
    char chunk[1 << 16];
    bool readOk = true;
    std::string readError;
    while (true) {
      zip_int64_t n = zip_fread(file, chunk, sizeof chunk);
      if (n < 0) {
        readOk = false;
        readError = zip_file_strerror(file);
        break;
      }
      if (n == 0)
        break;
      if (data.size() + uint64_t(n) > st.size) {
        readOk = false;
        readError =
            "more data than the declared " + std::to_string(st.size) + " bytes";
        break;
      }
      data.append(chunk, size_t(n));
    }
    zip_fclose(file);
    if (readOk && data.size() != st.size) {
      readOk = false;
      readError = "truncated: " + std::to_string(data.size()) + " of " +
                  std::to_string(st.size) + " bytes";
    }
    if (!readOk)
      return done(failWith("entry '" + entry + "': " + readError));
    HostTensor tensor;
    std::string npyName = (fileName + "[" + key + "]").str();
    if (!parseNpy(data, npyName, tensor, error))
      return done(false);
    if (llvm::any_of(arrays, [&](auto &a) { return a.first == key; }))
      return done(failWith("holds array '" + key + "' twice"));
    arrays.emplace_back(std::move(key), std::move(tensor));
  }
  llvm::sort(arrays, [](auto &a, auto &b) { return a.first < b.first; });
  out = std::move(arrays);
  return done(true);
}

//===----------------------------------------------------------------------===//
// Signatures
//===----------------------------------------------------------------------===//

static std::optional<DType> dtypeOf(mlir::Type t) {
  if (t.isF32())
    return DType::F32;
  if (t.isF64())
    return DType::F64;
  if (t.isF16())
    return DType::F16;
  if (t.isBF16())
    return DType::BF16;
  if (t.isInteger(1))
    return DType::Bool;
  auto i = mlir::dyn_cast<mlir::IntegerType>(t);
  if (!i)
    return std::nullopt;
  bool u = i.isUnsigned();
  switch (i.getWidth()) {
  case 8:
    return u ? DType::U8 : DType::I8;
  case 16:
    return u ? DType::U16 : DType::I16;
  case 32:
    return u ? DType::U32 : DType::I32;
  case 64:
    return u ? DType::U64 : DType::I64;
  default:
    return std::nullopt;
  }
}

Expected<ModelSignature> signatureOf(mlir::ModuleOp module) {
  auto main = module.lookupSymbol<mlir::func::FuncOp>("main");
  if (!main)
    return fail("the module has no main function");
  auto dimParams = main->getAttrOfType<mlir::ArrayAttr>("lop.input_dim_params");
  ModelSignature sig;
  for (unsigned i = 0; i < main.getNumArguments(); ++i) {
    TensorSig in;
    if (auto name = main.getArgAttrOfType<mlir::StringAttr>(i, "lop.name"))
      in.name = name.str();
    auto type =
        mlir::dyn_cast<mlir::RankedTensorType>(main.getArgument(i).getType());
    std::optional<DType> dtype =
        type ? dtypeOf(type.getElementType()) : std::nullopt;
    if (!dtype)
      return fail("input '" + in.name + "' has type " +
                  mlir::debugString(main.getArgument(i).getType()) +
                  ", which data files cannot hold");
    in.dtype = *dtype;
    auto params = dimParams && i < dimParams.size()
                      ? mlir::dyn_cast<mlir::ArrayAttr>(dimParams[i])
                      : mlir::ArrayAttr();
    for (int64_t d = 0; d < type.getRank(); ++d) {
      bool dynamic = type.isDynamicDim(d);
      in.dims.push_back(dynamic ? -1 : type.getDimSize(d));
      auto param = params && d < int64_t(params.size())
                       ? mlir::dyn_cast<mlir::StringAttr>(params[d])
                       : mlir::StringAttr();
      in.dimNames.push_back(dynamic && param ? param.str() : "");
    }
    sig.inputs.push_back(std::move(in));
  }
  return sig;
}

//===----------------------------------------------------------------------===//
// Data sets
//===----------------------------------------------------------------------===//

namespace {

/// An array read from a file, bound to an input.
struct Array {
  size_t input;     ///< index into the signature
  std::string file; ///< for errors ("DIR/x.npy", "data.npz[x]")
  HostTensor tensor;
};

std::string inputList(const ModelSignature &sig) {
  std::string s;
  for (auto [i, in] : llvm::enumerate(sig.inputs))
    s += (i ? ", '" : "'") + in.name + "'";
  return s;
}

std::optional<size_t> findInput(const ModelSignature &sig, StringRef name) {
  for (auto [i, in] : llvm::enumerate(sig.inputs))
    if (in.name == name)
      return i;
  return std::nullopt;
}

/// Splits the arrays of one group (a folder, a test-data set, an .npz) into
/// samples, checking each against the signature.
Error addGroup(const ModelSignature &sig, StringRef group,
               std::vector<Array> arrays, Dataset &out) {
  std::vector<const Array *> byInput(sig.inputs.size(), nullptr);
  for (const Array &a : arrays) {
    if (const Array *seen = byInput[a.input])
      return fail(a.file + ": input '" + sig.inputs[a.input].name +
                  "' is given twice (also by " + seen->file + ")");
    byInput[a.input] = &a;
  }
  std::vector<std::string> missing;
  for (size_t i = 0; i < sig.inputs.size(); ++i)
    if (!byInput[i])
      missing.push_back("'" + sig.inputs[i].name + "'");
  if (!missing.empty())
    return fail(group + ": missing input" + (missing.size() > 1 ? "s " : " ") +
                join(missing, ", ") +
                " (the model's inputs: " + inputList(sig) + ")");

  // How many samples: an array one rank above its input stacks samples along
  // its leading axis; one of the input's rank is a single sample.
  int64_t numSamples = -1;
  const Array *countedBy = nullptr;
  std::vector<bool> stacked(sig.inputs.size(), false);
  for (size_t i = 0; i < sig.inputs.size(); ++i) {
    const Array &a = *byInput[i];
    const TensorSig &in = sig.inputs[i];
    if (a.tensor.dtype != in.dtype)
      return fail(a.file + ": input '" + in.name + "': the file holds " +
                  dtypeName(a.tensor.dtype) + " but the input is " + in.str());
    size_t rank = a.tensor.shape.size();
    if (rank != in.dims.size() && rank != in.dims.size() + 1)
      return fail(a.file + ": input '" + in.name + "': the file has shape " +
                  shapeString(a.tensor.shape) + " (rank " + Twine(rank) +
                  ") but the input is " + in.str() + ": expected rank " +
                  Twine(in.dims.size()) + " (one sample) or " +
                  Twine(in.dims.size() + 1) +
                  " (samples along the leading axis)");
    stacked[i] = rank == in.dims.size() + 1;
    int64_t n = stacked[i] ? a.tensor.shape[0] : 1;
    if (numSamples >= 0 && n != numSamples)
      return fail(a.file + ": input '" + in.name + "' holds " + Twine(n) +
                  " sample" + (n == 1 ? "" : "s") + " but " + countedBy->file +
                  " holds " + Twine(numSamples));
    numSamples = n;
    countedBy = &a;
  }
  if (numSamples == 0)
    return fail(group + ": holds no samples (the leading axis is 0)");

  for (int64_t s = 0; s < numSamples; ++s) {
    Sample sample;
    sample.source =
        numSamples > 1 || llvm::any_of(stacked, [](bool b) { return b; })
            ? (group + "[" + Twine(s) + "]").str()
            : group.str();
    std::map<std::string, std::pair<int64_t, std::string>> symbols;
    for (size_t i = 0; i < sig.inputs.size(); ++i) {
      const Array &a = *byInput[i];
      const TensorSig &in = sig.inputs[i];
      HostTensor t;
      std::string where = a.file;
      if (stacked[i]) {
        where += "[" + std::to_string(s) + "]";
        std::vector<int64_t> shape(a.tensor.shape.begin() + 1,
                                   a.tensor.shape.end());
        std::string msg;
        if (!makeHostTensor(in.dtype, shape, t, msg))
          return fail(where + ": " + msg);
        std::memcpy(t.data.data(), a.tensor.data.data() + s * t.data.size(),
                    t.data.size());
      } else {
        t = a.tensor;
      }
      for (size_t d = 0; d < in.dims.size(); ++d) {
        if (in.dims[d] >= 0 && in.dims[d] != t.shape[d])
          return fail(where + ": input '" + in.name +
                      "': the sample has shape " + shapeString(t.shape) +
                      " but the input is " + in.str() + " (dim " + Twine(d) +
                      " must be " + Twine(in.dims[d]) + ")");
        const std::string &sym = in.dimNames[d];
        if (in.dims[d] >= 0 || sym.empty())
          continue;
        auto [it, inserted] =
            symbols.try_emplace(sym, t.shape[d], "input '" + in.name + "'");
        if (!inserted && it->second.first != t.shape[d])
          return fail(where + ": input '" + in.name + "': dimension '" + sym +
                      "' is " + Twine(t.shape[d]) + " here but " +
                      Twine(it->second.first) + " in " + it->second.second);
      }
      sample.tensors.emplace(in.name, std::move(t));
    }
    out.samples.push_back(std::move(sample));
  }
  return Error::success();
}

Error readTensor(StringRef path, HostTensor &out, std::string *protoName) {
  std::string msg;
  if (protoName) {
    ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
        MemoryBuffer::getFile(path, /*IsText=*/false,
                              /*RequiresNullTerminator=*/false);
    if (!buffer)
      return fail(path + ": cannot read: " + buffer.getError().message());
    if (!parseTensorProto((*buffer)->getBuffer(), path, out, msg, protoName))
      return fail(msg);
    return Error::success();
  }
  if (!readTensorFile(path, out, msg))
    return fail(msg);
  return Error::success();
}

/// "input_3.pb" -> 3.
std::optional<size_t> testDataIndex(StringRef fileName) {
  if (!fileName.consume_front("input_") || !fileName.consume_back(".pb"))
    return std::nullopt;
  size_t k;
  if (fileName.empty() || !llvm::all_of(fileName, isDigit) ||
      fileName.getAsInteger(10, k))
    return std::nullopt;
  return k;
}

struct Listing {
  std::vector<std::string> files, dirs; ///< names, sorted
};

Expected<Listing> listDir(StringRef dir) {
  Listing l;
  std::error_code ec;
  for (sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    StringRef name = sys::path::filename(it->path());
    ErrorOr<sys::fs::basic_file_status> st = it->status();
    if (!st)
      return fail(it->path() + ": cannot read: " + st.getError().message());
    if (st->type() == sys::fs::file_type::directory_file)
      l.dirs.push_back(name.str());
    else
      l.files.push_back(name.str());
  }
  if (ec)
    return fail(dir + ": cannot list: " + ec.message());
  llvm::sort(l.files);
  llvm::sort(l.dirs);
  return l;
}

bool isTensorFile(StringRef name) { return tensorFileFormat(name).has_value(); }

/// One folder that holds one sample group: a test-data set (input_K.pb) or
/// <input>.npy / <input>.pb files.
Error loadGroupDir(const ModelSignature &sig, StringRef dir,
                   const Listing &listing, Dataset &out) {
  auto path = [&](StringRef name) {
    SmallString<256> p(dir);
    sys::path::append(p, name);
    return std::string(p);
  };
  std::vector<Array> arrays;
  bool testData = llvm::any_of(listing.files, [](const std::string &f) {
    return testDataIndex(f).has_value();
  });
  for (const std::string &f : listing.files) {
    if (testData) {
      // ONNX test data: input_K.pb is input K unless its name says which;
      // output_K.pb (the expected outputs) and other files are ignored.
      std::optional<size_t> k = testDataIndex(f);
      if (!k)
        continue;
      Array a;
      a.file = path(f);
      std::string protoName;
      if (Error e = readTensor(a.file, a.tensor, &protoName))
        return e;
      if (!protoName.empty()) {
        std::optional<size_t> i = findInput(sig, protoName);
        if (!i)
          return fail(a.file + ": the tensor is named '" + protoName +
                      "', which is not an input of the model (its inputs: " +
                      inputList(sig) + ")");
        a.input = *i;
      } else if (*k < sig.inputs.size()) {
        a.input = *k;
      } else {
        return fail(a.file + ": input " + Twine(*k) + " but the model has " +
                    Twine(sig.inputs.size()) + " input" +
                    (sig.inputs.size() == 1 ? "" : "s") +
                    " and the tensor names none");
      }
      arrays.push_back(std::move(a));
      continue;
    }
    if (!isTensorFile(f))
      continue;
    StringRef stem = sys::path::stem(f);
    Array a;
    a.file = path(f);
    std::optional<size_t> i = findInput(sig, stem);
    if (!i)
      return fail(a.file + ": '" + stem +
                  "' is not an input of the model (its inputs: " +
                  inputList(sig) + ")");
    a.input = *i;
    if (Error e = readTensor(a.file, a.tensor, nullptr))
      return e;
    arrays.push_back(std::move(a));
  }
  return addGroup(sig, dir, std::move(arrays), out);
}

Error loadNpz(const ModelSignature &sig, StringRef path, Dataset &out) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fail(path + ": cannot read: " + buffer.getError().message());
  std::vector<std::pair<std::string, HostTensor>> entries;
  std::string msg;
  if (!parseNpz((*buffer)->getBuffer(), path, entries, msg))
    return fail(msg);
  std::vector<Array> arrays;
  for (auto &[key, tensor] : entries) {
    Array a;
    a.file = (path + "[" + key + "]").str();
    std::optional<size_t> i = findInput(sig, key);
    if (!i)
      return fail(a.file + ": '" + key +
                  "' is not an input of the model (its inputs: " +
                  inputList(sig) + ")");
    a.input = *i;
    a.tensor = std::move(tensor);
    arrays.push_back(std::move(a));
  }
  return addGroup(sig, path, std::move(arrays), out);
}

} // namespace

Expected<Dataset> loadDataset(StringRef path, const ModelSignature &sig) {
  Dataset data;
  sys::fs::file_status status;
  if (std::error_code ec = sys::fs::status(path, status))
    return fail(path + ": cannot read: " + ec.message());
  if (!sys::fs::is_directory(status)) {
    if (!path.ends_with(".npz"))
      return fail(path + ": expected a folder of test data or .npy files, or "
                         "a .npz file");
    if (Error e = loadNpz(sig, path, data))
      return e;
    return data;
  }
  Expected<Listing> listing = listDir(path);
  if (!listing)
    return listing.takeError();
  bool hasTensors = llvm::any_of(listing->files, isTensorFile);
  if (hasTensors) {
    if (Error e = loadGroupDir(sig, path, *listing, data))
      return e;
    return data;
  }
  // A folder of sample folders; test_data_set_* ones only when present (an
  // ONNX model folder keeps other things beside them).
  std::vector<std::string> dirs;
  for (const std::string &d : listing->dirs)
    if (StringRef(d).starts_with("test_data_set_"))
      dirs.push_back(d);
  if (dirs.empty())
    dirs = listing->dirs;
  if (dirs.empty())
    return fail(path + ": no data: expected test_data_set_*/input_K.pb, "
                       "<input>.npy files, or folders of them");
  for (const std::string &d : dirs) {
    SmallString<256> sub(path);
    sys::path::append(sub, d);
    Expected<Listing> inner = listDir(sub);
    if (!inner)
      return inner.takeError();
    if (!llvm::any_of(inner->files, isTensorFile))
      return fail(sub + ": no input_K.pb or <input>.npy files in this sample "
                        "folder");
    if (Error e = loadGroupDir(sig, sub, *inner, data))
      return e;
  }
  return data;
}

} // namespace lopper::tools
