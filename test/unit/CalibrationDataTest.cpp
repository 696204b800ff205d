//===- CalibrationDataTest.cpp - .npz reader and data-set loading ---------===//

#include "../../tools/lopper/CalibrationData.h"

#include "lopper/InitAll.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>
#include <zip.h>

#include <cstring>

using namespace lopper::tools;
using llvm::SmallString;
using llvm::StringRef;

namespace {

HostTensor f32(std::vector<int64_t> shape, float start = 0) {
  HostTensor t;
  std::string error;
  EXPECT_TRUE(makeHostTensor(DType::F32, shape, t, error)) << error;
  for (int64_t i = 0; i < t.numElements(); ++i) {
    float v = start + float(i);
    std::memcpy(t.data.data() + 4 * i, &v, 4);
  }
  return t;
}

std::string npy(const HostTensor &t) {
  std::string bytes, error;
  EXPECT_TRUE(serializeNpy(t, bytes, error)) << error;
  return bytes;
}

/// A temporary folder removed at the end of the test.
struct TempDir {
  SmallString<128> path;
  TempDir() {
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("lopper-data", path));
  }
  ~TempDir() { llvm::sys::fs::remove_directories(path); }
  std::string file(StringRef name) const {
    SmallString<128> p(path);
    llvm::sys::path::append(p, name);
    return std::string(p);
  }
  void write(StringRef name, StringRef bytes) const {
    std::string p = file(name);
    llvm::sys::fs::create_directories(llvm::sys::path::parent_path(p));
    std::string error;
    ASSERT_TRUE(writeFileAtomically(p, bytes, error)) << error;
  }
};

/// A zip image of `entries` (name, bytes); `deflate` compresses them.
std::string
zipImage(const std::vector<std::pair<std::string, std::string>> &entries,
         bool deflate) {
  TempDir dir;
  std::string path = dir.file("a.zip");
  int err = 0;
  zip_t *za = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  EXPECT_TRUE(za);
  for (auto &[name, bytes] : entries) {
    zip_source_t *src =
        zip_source_buffer(za, bytes.data(), bytes.size(), /*freep=*/0);
    zip_int64_t i = zip_file_add(za, name.c_str(), src, ZIP_FL_ENC_UTF_8);
    EXPECT_GE(i, 0);
    zip_set_file_compression(za, zip_uint64_t(i),
                             deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  EXPECT_EQ(zip_close(za), 0);
  auto buffer = llvm::MemoryBuffer::getFile(path);
  EXPECT_TRUE(bool(buffer));
  return buffer ? (*buffer)->getBuffer().str() : "";
}

TensorSig sig(std::string name, std::vector<int64_t> dims,
              std::vector<std::string> dimNames = {}) {
  TensorSig s;
  s.name = std::move(name);
  s.dtype = DType::F32;
  s.dims = std::move(dims);
  s.dimNames = dimNames.empty() ? std::vector<std::string>(s.dims.size())
                                : std::move(dimNames);
  return s;
}

std::string errorOf(llvm::Expected<Dataset> data) {
  if (data)
    return "(no error)";
  return llvm::toString(data.takeError());
}

TEST(Npz, StoredAndDeflatedArraysSortedByKey) {
  for (bool deflate : {false, true}) {
    std::string image = zipImage(
        {{"b.npy", npy(f32({2, 3}, 10))}, {"a.npy", npy(f32({4}))}}, deflate);
    std::vector<std::pair<std::string, HostTensor>> arrays;
    std::string error;
    ASSERT_TRUE(parseNpz(image, "d.npz", arrays, error)) << error;
    ASSERT_EQ(arrays.size(), 2u);
    EXPECT_EQ(arrays[0].first, "a");
    EXPECT_EQ(arrays[0].second.shape, std::vector<int64_t>{4});
    EXPECT_EQ(arrays[1].first, "b");
    EXPECT_EQ(arrays[1].second.shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(arrays[1].second.elementAsDouble(5), 15);
  }
}

TEST(Npz, MalformedArchivesAreErrorsNamingTheFile) {
  std::vector<std::pair<std::string, HostTensor>> arrays;
  std::string error;
  EXPECT_FALSE(parseNpz("", "e.npz", arrays, error));
  EXPECT_TRUE(
      StringRef(error).starts_with("e.npz: not a valid .npz (zip) archive"))
      << error;
  EXPECT_FALSE(
      parseNpz(zipImage({{"x.txt", "hello"}}, false), "t.npz", arrays, error));
  EXPECT_EQ(error, "t.npz: entry 'x.txt' is not a .npy file");
  EXPECT_FALSE(
      parseNpz(zipImage({{"x.npy", "hello"}}, true), "n.npz", arrays, error));
  EXPECT_EQ(error, "n.npz[x]: not a .npy file (bad magic)");
}

TEST(Npz, EveryTruncationAndCorruptionFailsCleanly) {
  for (bool deflate : {false, true}) {
    std::string image = zipImage(
        {{"a.npy", npy(f32({3, 4}))}, {"b.npy", npy(f32({2}))}}, deflate);
    std::vector<std::pair<std::string, HostTensor>> arrays;
    std::string error;
    for (size_t n = 0; n < image.size(); ++n) {
      error.clear();
      EXPECT_FALSE(
          parseNpz(StringRef(image).take_front(n), "c.npz", arrays, error))
          << "prefix " << n;
      EXPECT_TRUE(StringRef(error).starts_with("c.npz")) << error;
    }
    for (size_t i = 0; i < image.size(); ++i) {
      std::string bad = image;
      bad[i] ^= 0x5a;
      error.clear();
      if (!parseNpz(bad, "c.npz", arrays, error)) {
        EXPECT_TRUE(StringRef(error).starts_with("c.npz")) << error;
      }
    }
  }
}

TEST(Dataset, TestDataSetsInNameOrderWithInputsByProtoName) {
  TempDir dir;
  ModelSignature s{{sig("a", {2}), sig("b", {3})}};
  std::string bytes, error;
  // Set 1 names its tensors (input_0.pb is b); set 0 does not, so input K
  // is the K-th input.
  ASSERT_TRUE(serializeTensorProto(f32({3}, 100), "b", bytes, error));
  dir.write("test_data_set_1/input_0.pb", bytes);
  ASSERT_TRUE(serializeTensorProto(f32({2}, 100), "a", bytes, error));
  dir.write("test_data_set_1/input_1.pb", bytes);
  ASSERT_TRUE(serializeTensorProto(f32({2}), "", bytes, error));
  dir.write("test_data_set_0/input_0.pb", bytes);
  ASSERT_TRUE(serializeTensorProto(f32({3}), "", bytes, error));
  dir.write("test_data_set_0/input_1.pb", bytes);
  dir.write("test_data_set_0/output_0.pb", "ignored");
  dir.write("model.onnx", "ignored");
  llvm::Expected<Dataset> data = loadDataset(dir.path, s);
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  ASSERT_EQ(data->samples.size(), 2u);
  EXPECT_EQ(data->samples[0].tensors.at("b").elementAsDouble(0), 0);
  EXPECT_EQ(data->samples[1].tensors.at("b").elementAsDouble(0), 100);
  EXPECT_EQ(data->samples[1].tensors.at("a").shape, std::vector<int64_t>{2});
  EXPECT_EQ(StringRef(data->samples[1].source).take_back(15),
            "test_data_set_1");
}

TEST(Dataset, StackedArraysSplitAlongTheLeadingAxis) {
  TempDir dir;
  ModelSignature s{{sig("x", {-1, 2}, {"N", ""})}};
  dir.write("x.npy", npy(f32({3, 1, 2})));
  llvm::Expected<Dataset> data = loadDataset(dir.path, s);
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  ASSERT_EQ(data->samples.size(), 3u);
  EXPECT_EQ(data->samples[2].tensors.at("x").shape,
            (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(data->samples[2].tensors.at("x").elementAsDouble(1), 5);
  EXPECT_EQ(data->samples[2].source, dir.path.str().str() + "[2]");
}

TEST(Dataset, SymbolicDimsAgreeWithinASample) {
  TempDir dir;
  ModelSignature s{{sig("a", {-1, 4}, {"N", ""}), sig("b", {-1}, {"N"})}};
  dir.write("a.npy", npy(f32({2, 4})));
  dir.write("b.npy", npy(f32({3})));
  EXPECT_EQ(errorOf(loadDataset(dir.path, s)),
            dir.file("b.npy") +
                ": input 'b': dimension 'N' is 3 here but 2 in input 'a'");
}

TEST(Dataset, EmptyAndZeroSampleData) {
  TempDir dir;
  ModelSignature s{{sig("x", {2})}};
  EXPECT_EQ(errorOf(loadDataset(dir.path, s)),
            dir.path.str().str() +
                ": no data: expected test_data_set_*/input_K.pb, "
                "<input>.npy files, or folders of them");
  dir.write("d.npz", zipImage({{"x.npy", npy(f32({0, 2}))}}, false));
  EXPECT_EQ(errorOf(loadDataset(dir.file("d.npz"), s)),
            dir.file("d.npz") + ": holds no samples (the leading axis is 0)");
}

TEST(Dataset, SignatureOfAnImportedModule) {
  mlir::DialectRegistry registry;
  lopper::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  auto module = mlir::parseSourceString<mlir::ModuleOp>(
      R"mlir(
func.func @main(%arg0: tensor<?x4xf32> {lop.name = "a"}, %arg1: tensor<?xi64> {lop.name = "ids"}) -> (tensor<?x4xf32> {lop.name = "c"}) attributes {lop.input_dim_params = [["N", ""], [""]]} {
  return %arg0 : tensor<?x4xf32>
}
)mlir",
      &context);
  ASSERT_TRUE(module);
  llvm::Expected<ModelSignature> sig = signatureOf(*module);
  ASSERT_TRUE(bool(sig)) << llvm::toString(sig.takeError());
  ASSERT_EQ(sig->inputs.size(), 2u);
  EXPECT_EQ(sig->inputs[0].str(), "f32 [N,4]");
  EXPECT_EQ(sig->inputs[1].name, "ids");
  EXPECT_EQ(sig->inputs[1].str(), "i64 [?]");

  // The signature checks data as the runtime's does.
  TempDir dir;
  dir.write("a.npy", npy(f32({2, 2, 4})));
  std::string bytes, error;
  HostTensor ids;
  ASSERT_TRUE(makeHostTensor(DType::I64, {2, 7}, ids, error));
  ASSERT_TRUE(serializeNpy(ids, bytes, error));
  dir.write("ids.npy", bytes);
  llvm::Expected<Dataset> data = loadDataset(dir.path, *sig);
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  EXPECT_EQ(data->samples.size(), 2u);
}

} // namespace
