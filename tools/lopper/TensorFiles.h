//===- TensorFiles.h - .npy and ONNX TensorProto files -----------*- C++
//-*-===//
//
// Host tensors for `lopper run` and `lopper bench`: reading and writing NumPy
// .npy files and ONNX TensorProto .pb files, the seeded random inputs, and
// the rule that turns tensor names into file names. Nothing here depends on
// the runtime, so the unit tests exercise it directly.
//
// Every reader bounds-checks the file and reports a malformed one as an
// error message that starts with the file name; none of them crashes.
//
//===----------------------------------------------------------------------===//
#ifndef LOPPER_TOOLS_LOPPER_TENSORFILES_H
#define LOPPER_TOOLS_LOPPER_TENSORFILES_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lopper::tools {

/// Element types; the values are ONNX TensorProto.DataType numbers (and so
/// the runtime's lopper_dtype values).
enum class DType : int32_t {
  Undefined = 0,
  F32 = 1,
  U8 = 2,
  I8 = 3,
  U16 = 4,
  I16 = 5,
  I32 = 6,
  I64 = 7,
  Bool = 9,
  F16 = 10,
  F64 = 11,
  U32 = 12,
  U64 = 13,
  BF16 = 16,
};

/// The DType for an ONNX/lopper dtype number, or std::nullopt if unknown.
std::optional<DType> dtypeFromInt(int64_t value);
/// Bytes per element; 0 for Undefined.
size_t dtypeSize(DType dtype);
/// Short names: "f32", "i64", "bool", "bf16", ...
const char *dtypeName(DType dtype);
bool isFloatDType(DType dtype);

/// Number of elements of `shape`, or std::nullopt if a dim is negative or
/// the product (or the byte size with `elementSize`) overflows int64.
std::optional<int64_t> numElements(llvm::ArrayRef<int64_t> shape,
                                   size_t elementSize = 1);

/// "[2,3,224,224]" ("[]" for a scalar).
std::string shapeString(llvm::ArrayRef<int64_t> shape);

/// A dense little-endian tensor in C (row-major) order.
struct HostTensor {
  DType dtype = DType::Undefined;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;

  int64_t numElements() const;
  /// Element `i` converted to double (f16/bf16 widened exactly).
  double elementAsDouble(int64_t i) const;
};

/// Builds a zero-filled tensor; fails (with a message) if the size overflows.
bool makeHostTensor(DType dtype, llvm::ArrayRef<int64_t> shape, HostTensor &out,
                    std::string &error);

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

/// Parses a .npy image (format versions 1.0, 2.0 and 3.0; little-endian
/// <f2 <f4 <f8 <i1 <u1 <i2 <u2 <i4 <u4 <i8 <u8 |b1, C order). `fileName`
/// only prefixes the error messages.
bool parseNpy(llvm::StringRef bytes, llvm::StringRef fileName, HostTensor &out,
              std::string &error);
/// Serializes as format version 1.0 (2.0 if the header does not fit).
/// bf16 has no .npy type: an error.
bool serializeNpy(const HostTensor &tensor, std::string &out,
                  std::string &error);

//===----------------------------------------------------------------------===//
// ONNX TensorProto (.pb)
//===----------------------------------------------------------------------===//

/// Parses a serialized onnx.TensorProto with its data in raw_data or in the
/// typed fields (float_data, int32_data, int64_data, double_data,
/// uint64_data). If `name` is given it receives the proto's name.
bool parseTensorProto(llvm::StringRef bytes, llvm::StringRef fileName,
                      HostTensor &out, std::string &error,
                      std::string *name = nullptr);
/// Serializes with the data in raw_data.
bool serializeTensorProto(const HostTensor &tensor, llvm::StringRef name,
                          std::string &out, std::string &error);

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

enum class TensorFileFormat { Npy, Pb };

/// The format a path's extension names (.npy or .pb), or std::nullopt.
std::optional<TensorFileFormat> tensorFileFormat(llvm::StringRef path);

/// Reads a .npy or .pb file (by extension). Errors start with the path.
bool readTensorFile(llvm::StringRef path, HostTensor &out, std::string &error);

/// Writes `bytes` to `path` through a temporary file in the same folder
/// and a rename, so `path` is either absent or complete.
bool writeFileAtomically(llvm::StringRef path, llvm::StringRef bytes,
                         std::string &error);

/// Serializes in `format` and writes atomically. `name` is stored in a .pb.
bool writeTensorFile(llvm::StringRef path, TensorFileFormat format,
                     const HostTensor &tensor, llvm::StringRef name,
                     std::string &error);

//===----------------------------------------------------------------------===//
// File names for tensor names
//===----------------------------------------------------------------------===//

/// File-name stems for tensor names, in order: every byte other than
/// A-Z a-z 0-9 '_' '-' '.' becomes '_', a leading '.' becomes '_', an empty
/// name becomes "_", stems are cut to 200 bytes, and a stem that equals an
/// earlier one gets "_2", "_3", ... appended (the first free one).
std::vector<std::string> safeFileStems(llvm::ArrayRef<std::string> names);

//===----------------------------------------------------------------------===//
// Random inputs
//===----------------------------------------------------------------------===//

/// splitmix64 (Steele, Lea, Flood 2014): state += 0x9E3779B97F4A7C15, then
/// z = state; z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
/// z = (z ^ (z >> 27)) * 0x94D049BB133111EB; return z ^ (z >> 31).
struct SplitMix64 {
  uint64_t state;
  explicit SplitMix64(uint64_t seed) : state(seed) {}
  uint64_t next();
};

/// The range random values are drawn from: [lo, hi). Without one, floats
/// are uniform in [-1, 1) and integers in [0, 10); bool is always 0 or 1.
struct RandomRange {
  double lo = 0;
  double hi = 0;
};

/// Checks that `range` suits `dtype` (integers need integral bounds that
/// the type holds, lo < hi).
bool checkRandomRange(DType dtype, const RandomRange &range,
                      std::string &error);

/// Fills `tensor` in C order, one draw of `rng` per element. See
/// docs/cli.md ("Random inputs") for the exact mapping from draws to values.
void fillRandom(HostTensor &tensor, SplitMix64 &rng,
                const std::optional<RandomRange> &range);

/// Parses "LO,HI" (numbers, LO < HI).
bool parseRandomRange(llvm::StringRef text, RandomRange &out,
                      std::string &error);

//===----------------------------------------------------------------------===//
// Comparisons
//===----------------------------------------------------------------------===//

/// Agreement of `actual` with `expected`: max |a - e| and the relative L2
/// error ||a - e|| / ||e|| (||a - e|| when ||e|| is 0). Both must have the
/// same shape (dtypes may differ); otherwise `error` says why.
struct Agreement {
  double maxAbs = 0;
  double relL2 = 0;
  double cosine = 1;     ///< cosine similarity of the finite elements
  int64_t nonFinite = 0; ///< elements where a and e are not both finite and
                         ///< not the same NaN/inf
};
bool compareTensors(const HostTensor &actual, const HostTensor &expected,
                    Agreement &out, std::string &error);

} // namespace lopper::tools

//===----------------------------------------------------------------------===//
// Models: shared by `lopper run`, `bench` and `verify`. Defined in Run.cpp
// (they use liblopper_runtime), except TensorSig::str (in TensorFiles.cpp);
// the rest of this file needs no runtime.
//===----------------------------------------------------------------------===//

struct lopper_model;
struct lopper_tensor;

namespace lopper::tools {

/// A model input's or output's name, element type and dims (-1: dynamic,
/// with its symbol in `dimNames`, "" when static or unnamed).
struct TensorSig {
  std::string name;
  DType dtype = DType::Undefined;
  std::vector<int64_t> dims;
  std::vector<std::string> dimNames;
  /// "f32 [batch,3,224,224]" ('?' for an unnamed dynamic dim).
  std::string str() const;
};

/// A loaded model and its signature; unloaded on destruction.
struct Model {
  lopper_model *handle = nullptr;
  std::vector<TensorSig> inputs, outputs;
  Model() = default;
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;
  ~Model();
};

/// The runtime's message for the last failure on this thread.
std::string runtimeError();

/// Checks that `path` is a readable file, then loads it with `threads`
/// kernel threads (0: the runtime's default) for `device` (a lopper_device)
/// and reads its signature.
bool loadModel(llvm::StringRef path, int32_t threads, Model &out,
               std::string &error, int32_t device = 0 /* CPU */);

/// Runtime tensors, destroyed with the list.
struct TensorList {
  std::vector<lopper_tensor *> tensors;
  TensorList() = default;
  TensorList(const TensorList &) = delete;
  TensorList &operator=(const TensorList &) = delete;
  ~TensorList();
};

/// What the command line says about the inputs (`--input NAME=FILE`,
/// `--random-inputs SEED`, `--random-range [NAME=]LO,HI`, `--dim NAME=N`).
struct InputOptions {
  std::vector<std::string> files;
  std::optional<uint64_t> seed;
  std::vector<std::string> ranges;
  std::vector<std::string> dims;
};

/// The inputs in signature order, as host data and as runtime tensors.
struct ModelInputs {
  std::vector<HostTensor> host;
  std::vector<std::string> sources; ///< the file, or "random"
  std::vector<std::pair<std::string, int64_t>> dimValues; ///< symbol values
  TensorList tensors;
};

/// Reads the `--input` files (before the model is loaded, so that a bad
/// file is reported whatever the model): names and host tensors in order.
bool readInputFiles(const InputOptions &options,
                    std::vector<std::pair<std::string, HostTensor>> &files,
                    std::string &error);

/// Checks the files against the signature, generates the other inputs, and
/// creates the runtime tensors.
bool bindInputs(const Model &model, const InputOptions &options,
                std::vector<std::pair<std::string, HostTensor>> files,
                ModelInputs &out, std::string &error);

/// Copies a runtime tensor into host memory.
bool tensorToHost(const lopper_tensor *tensor, HostTensor &out,
                  std::string &error);

} // namespace lopper::tools

#endif
