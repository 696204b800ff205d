//===- TensorFilesTest.cpp - .npy/.pb readers and writers -----------------===//

#include "../../tools/lopper/TensorFiles.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>

using namespace lopper::tools;
using llvm::StringRef;

namespace {

const DType allDTypes[] = {DType::F32, DType::U8,  DType::I8,  DType::U16,
                           DType::I16, DType::I32, DType::I64, DType::Bool,
                           DType::F16, DType::F64, DType::U32, DType::U64,
                           DType::BF16};

/// A tensor whose bytes count up (valid for every type: bool gets 0/1).
HostTensor pattern(DType dtype, std::vector<int64_t> shape) {
  HostTensor t;
  std::string error;
  EXPECT_TRUE(makeHostTensor(dtype, shape, t, error)) << error;
  for (size_t i = 0; i < t.data.size(); ++i)
    t.data[i] = dtype == DType::Bool ? uint8_t(i % 2) : uint8_t(i * 7 + 1);
  return t;
}

/// A .npy image with the given version and header dict (padded as NumPy
/// pads) followed by `data`.
std::string npyImage(StringRef dict, StringRef data, int major = 1) {
  std::string header = dict.str();
  size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64)
    header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += char(major);
  out += char(0);
  uint32_t len = uint32_t(header.size());
  out += char(len & 0xff);
  out += char(len >> 8);
  if (major != 1) {
    out += char(len >> 16);
    out += char(len >> 24);
  }
  return out + header + data.str();
}

std::string npyError(StringRef bytes) {
  HostTensor t;
  std::string error;
  EXPECT_FALSE(parseNpy(bytes, "x.npy", t, error));
  return error;
}

std::string pbError(const onnx::TensorProto &proto) {
  HostTensor t;
  std::string error;
  EXPECT_FALSE(parseTensorProto(proto.SerializeAsString(), "x.pb", t, error));
  return error;
}

TEST(TensorFiles, NpyRoundTripEveryDType) {
  for (DType dtype : allDTypes) {
    if (dtype == DType::BF16)
      continue;
    for (std::vector<int64_t> shape : std::vector<std::vector<int64_t>>{
             {}, {5}, {2, 3}, {2, 0, 4}, {1, 2, 3, 4, 5}}) {
      HostTensor t = pattern(dtype, shape), back;
      std::string bytes, error;
      ASSERT_TRUE(serializeNpy(t, bytes, error)) << error;
      // NumPy's layout: version 1.0, data aligned to 64 bytes.
      EXPECT_EQ(bytes[6], 1);
      EXPECT_EQ((bytes.size() - t.data.size()) % 64, 0u);
      ASSERT_TRUE(parseNpy(bytes, "t.npy", back, error)) << error;
      EXPECT_EQ(back.dtype, dtype);
      EXPECT_EQ(back.shape, shape);
      EXPECT_EQ(back.data, t.data);
    }
  }
}

TEST(TensorFiles, NpyHeaderText) {
  HostTensor t = pattern(DType::F32, {3});
  std::string bytes, error;
  ASSERT_TRUE(serializeNpy(t, bytes, error));
  EXPECT_NE(bytes.find("{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (3,), }"),
            std::string::npos);
  t = pattern(DType::Bool, {2, 2});
  ASSERT_TRUE(serializeNpy(t, bytes, error));
  EXPECT_NE(bytes.find("'descr': '|b1'"), std::string::npos);
  EXPECT_NE(bytes.find("'shape': (2, 2)"), std::string::npos);
}

TEST(TensorFiles, NpyVersions2And3AndHeaderVariants) {
  float data[6] = {1, 2, 3, 4, 5, 6};
  StringRef raw(reinterpret_cast<const char *>(data), sizeof(data));
  for (int major : {1, 2, 3}) {
    HostTensor t;
    std::string error;
    ASSERT_TRUE(parseNpy(npyImage("{'descr': '<f4', 'fortran_order': False, "
                                  "'shape': (2, 3), }",
                                  raw, major),
                         "v.npy", t, error))
        << error;
    EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(t.elementAsDouble(5), 6.0);
  }
  // Keys in another order, double quotes, no trailing comma, Python 2 'L'.
  HostTensor t;
  std::string error;
  ASSERT_TRUE(parseNpy(npyImage("{\"shape\": (2L, 3L), \"fortran_order\": "
                                "False, \"descr\": \"<f4\"}",
                                raw),
                       "v.npy", t, error))
      << error;
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
  // One-byte types with '<' are accepted too.
  ASSERT_TRUE(parseNpy(npyImage("{'descr': '<u1', 'fortran_order': False, "
                                "'shape': (6,), }",
                                StringRef("abcdef")),
                       "v.npy", t, error))
      << error;
  EXPECT_EQ(t.dtype, DType::U8);
}

TEST(TensorFiles, NpyErrors) {
  std::string six(24, '\0');
  auto header = [](StringRef descr, StringRef order, StringRef shape) {
    return ("{'descr': '" + descr + "', 'fortran_order': " + order +
            ", 'shape': " + shape + ", }")
        .str();
  };
  EXPECT_EQ(npyError("PK\x03\x04 not numpy"),
            "x.npy: not a .npy file (bad magic)");
  EXPECT_EQ(npyError(""), "x.npy: not a .npy file (bad magic)");
  EXPECT_EQ(npyError(StringRef("\x93NUMPY\x01", 7)),
            "x.npy: truncated .npy header");
  std::string full = npyImage(header("<f4", "False", "(6,)"), six);
  EXPECT_NE(npyError(full.substr(0, 40)).find("truncated .npy header"),
            std::string::npos);
  std::string v4 = full;
  v4[6] = 4;
  EXPECT_NE(npyError(v4).find("unsupported .npy format version 4.0"),
            std::string::npos);
  EXPECT_NE(npyError(npyImage(header("<f4", "True", "(2, 3)"), six))
                .find("fortran_order is True"),
            std::string::npos);
  EXPECT_NE(npyError(full.substr(0, full.size() - 1))
                .find("truncated data: shape [6] of f32 needs 24 bytes but "
                      "the file has 23"),
            std::string::npos);
  EXPECT_NE(npyError(full + "xx").find("size mismatch"), std::string::npos);
  EXPECT_NE(npyError(npyImage(header("<f4", "False", "(2, 2)"), six))
                .find("size mismatch: shape [2,2] of f32 needs 16 bytes"),
            std::string::npos);
  EXPECT_NE(npyError(npyImage(header(">f4", "False", "(6,)"), six))
                .find("big-endian"),
            std::string::npos);
  EXPECT_NE(npyError(npyImage(header("<c8", "False", "(3,)"), six))
                .find("unsupported dtype '<c8'"),
            std::string::npos);
  EXPECT_NE(npyError(npyImage(header("|O", "False", "(3,)"), six))
                .find("unsupported dtype '|O'"),
            std::string::npos);
  EXPECT_NE(npyError(npyImage("{'descr': [('a', '<f4')], 'fortran_order': "
                              "False, 'shape': (6,), }",
                              six))
                .find("structured dtypes"),
            std::string::npos);
  EXPECT_NE(npyError(npyImage(header("<f4", "False", "(-1,)"), six))
                .find("malformed .npy header"),
            std::string::npos);
  EXPECT_NE(npyError(npyImage(header("<f4", "False", "(a,)"), six))
                .find("malformed .npy header"),
            std::string::npos);
  EXPECT_NE(npyError(npyImage(header("<f4", "Maybe", "(6,)"), six))
                .find("'fortran_order' is not True or False"),
            std::string::npos);
  EXPECT_NE(npyError(npyImage("{'descr': '<f4', 'shape': (6,)}", six))
                .find("no 'fortran_order'"),
            std::string::npos);
  EXPECT_NE(npyError(npyImage("{'descr': '<f4', 'fortran_order': False, "
                              "'shape': (6,), 'extra': 1}",
                              six))
                .find("unexpected key 'extra'"),
            std::string::npos);
  EXPECT_NE(npyError(npyImage("{'descr': '<f4', 'fortran_order': False, "
                              "'shape': (6,",
                              six))
                .find("malformed .npy header"),
            std::string::npos);
  EXPECT_NE(npyError(npyImage("['descr']", six)).find("not a Python dict"),
            std::string::npos);
  // Sizes whose product overflows are refused, not allocated.
  EXPECT_NE(
      npyError(
          npyImage(header("<f8", "False", "(4000000000000000000, 1000)"), six))
          .find("is too large"),
      std::string::npos);
  EXPECT_NE(
      npyError(
          npyImage(header("<f8", "False", "(99999999999999999999999,)"), six))
          .find("malformed .npy header"),
      std::string::npos);
  // Every prefix of a valid file is an error, never a crash.
  for (size_t n = 0; n < full.size(); ++n)
    EXPECT_FALSE(npyError(full.substr(0, n)).empty()) << n;
}

TEST(TensorFiles, Bf16HasNoNpy) {
  HostTensor t = pattern(DType::BF16, {2});
  std::string bytes, error;
  EXPECT_FALSE(serializeNpy(t, bytes, error));
  EXPECT_EQ(error, "bf16 tensors cannot be stored in .npy (use .pb)");
}

TEST(TensorFiles, PbRawDataRoundTripEveryDType) {
  for (DType dtype : allDTypes) {
    HostTensor t = pattern(dtype, {2, 3}), back;
    std::string bytes, error, name;
    ASSERT_TRUE(serializeTensorProto(t, "out/0", bytes, error)) << error;
    ASSERT_TRUE(parseTensorProto(bytes, "t.pb", back, error, &name)) << error;
    EXPECT_EQ(name, "out/0");
    EXPECT_EQ(back.dtype, dtype);
    EXPECT_EQ(back.shape, t.shape);
    EXPECT_EQ(back.data, t.data);
    // And what protobuf itself sees.
    onnx::TensorProto proto;
    ASSERT_TRUE(proto.ParseFromString(bytes));
    EXPECT_EQ(proto.data_type(), int32_t(dtype));
    EXPECT_EQ(proto.raw_data().size(), t.data.size());
  }
  HostTensor scalar = pattern(DType::F32, {}), back;
  std::string bytes, error;
  ASSERT_TRUE(serializeTensorProto(scalar, "s", bytes, error));
  ASSERT_TRUE(parseTensorProto(bytes, "t.pb", back, error));
  EXPECT_TRUE(back.shape.empty());
  EXPECT_EQ(back.data, scalar.data);
}

TEST(TensorFiles, PbTypedFields) {
  std::string error;
  {
    onnx::TensorProto p;
    p.set_data_type(onnx::TensorProto::FLOAT);
    p.add_dims(3);
    for (float v : {1.5f, -2.0f, 3.25f})
      p.add_float_data(v);
    HostTensor t;
    ASSERT_TRUE(parseTensorProto(p.SerializeAsString(), "f.pb", t, error))
        << error;
    EXPECT_EQ(t.elementAsDouble(0), 1.5);
    EXPECT_EQ(t.elementAsDouble(1), -2.0);
    EXPECT_EQ(t.elementAsDouble(2), 3.25);
  }
  {
    onnx::TensorProto p;
    p.set_data_type(onnx::TensorProto::INT64);
    p.add_dims(2);
    p.add_dims(1);
    p.add_int64_data(-7);
    p.add_int64_data(int64_t(1) << 40);
    HostTensor t;
    ASSERT_TRUE(parseTensorProto(p.SerializeAsString(), "i.pb", t, error))
        << error;
    EXPECT_EQ(t.dtype, DType::I64);
    EXPECT_EQ(t.elementAsDouble(0), -7.0);
    EXPECT_EQ(t.elementAsDouble(1), double(int64_t(1) << 40));
  }
  struct Int32Case {
    onnx::TensorProto::DataType type;
    std::vector<int32_t> values;
    std::vector<double> expected;
  };
  for (const Int32Case &c : std::vector<Int32Case>{
           {onnx::TensorProto::INT32, {-5, 70000}, {-5, 70000}},
           {onnx::TensorProto::INT16, {-300, 300}, {-300, 300}},
           {onnx::TensorProto::INT8, {-128, 127}, {-128, 127}},
           {onnx::TensorProto::UINT8, {0, 255}, {0, 255}},
           {onnx::TensorProto::UINT16, {0, 65535}, {0, 65535}},
           {onnx::TensorProto::BOOL, {1, 0}, {1, 0}},
           // f16 and bf16 keep their 16 bits in int32_data.
           {onnx::TensorProto::FLOAT16, {0x3c00, 0xc000}, {1.0, -2.0}},
           {onnx::TensorProto::BFLOAT16, {0x3f80, 0x4040}, {1.0, 3.0}}}) {
    onnx::TensorProto p;
    p.set_data_type(c.type);
    p.add_dims(2);
    for (int32_t v : c.values)
      p.add_int32_data(v);
    HostTensor t;
    ASSERT_TRUE(parseTensorProto(p.SerializeAsString(), "i.pb", t, error))
        << error;
    EXPECT_EQ(t.dtype, DType(c.type));
    for (size_t i = 0; i < c.expected.size(); ++i)
      EXPECT_EQ(t.elementAsDouble(int64_t(i)), c.expected[i]) << c.type;
  }
  {
    onnx::TensorProto p;
    p.set_data_type(onnx::TensorProto::DOUBLE);
    p.add_dims(1);
    p.add_double_data(0.1);
    HostTensor t;
    ASSERT_TRUE(parseTensorProto(p.SerializeAsString(), "d.pb", t, error));
    EXPECT_EQ(t.elementAsDouble(0), 0.1);
  }
  {
    onnx::TensorProto p;
    p.set_data_type(onnx::TensorProto::UINT64);
    p.add_dims(1);
    p.add_uint64_data(~uint64_t(0));
    HostTensor t;
    ASSERT_TRUE(parseTensorProto(p.SerializeAsString(), "u.pb", t, error));
    uint64_t v;
    std::memcpy(&v, t.data.data(), 8);
    EXPECT_EQ(v, ~uint64_t(0));
  }
}

TEST(TensorFiles, PbErrors) {
  {
    HostTensor t;
    std::string error;
    EXPECT_FALSE(parseTensorProto("\xff\xff\xff garbage", "x.pb", t, error));
    EXPECT_EQ(error, "x.pb: not a valid ONNX TensorProto (the protobuf does "
                     "not parse; is the file truncated?)");
  }
  onnx::TensorProto p;
  p.set_data_type(onnx::TensorProto::FLOAT);
  p.add_dims(2);
  p.add_dims(2);
  p.add_float_data(1);
  EXPECT_EQ(pbError(p), "x.pb: size mismatch: a FLOAT (1) tensor of shape "
                        "[2,2] needs 4 values in float_data (or raw_data) "
                        "but float_data has 1");
  p.clear_float_data();
  EXPECT_NE(pbError(p).find("float_data has 0"), std::string::npos);
  p.set_raw_data(std::string(15, '\0'));
  EXPECT_EQ(pbError(p), "x.pb: truncated raw_data: shape [2,2] of f32 needs "
                        "16 bytes but raw_data has 15");
  p.set_raw_data(std::string(17, '\0'));
  EXPECT_NE(pbError(p).find("size mismatch"), std::string::npos);
  p.set_raw_data(std::string(16, '\0'));
  p.set_dims(0, -2);
  EXPECT_NE(pbError(p).find("negative dimension"), std::string::npos);
  p.set_dims(0, 2);
  p.set_data_type(onnx::TensorProto::STRING);
  EXPECT_EQ(pbError(p), "x.pb: unsupported element type STRING (8)");
  p.clear_data_type();
  EXPECT_EQ(pbError(p), "x.pb: the TensorProto has no data_type");
  p.set_data_type(onnx::TensorProto::FLOAT);
  p.set_data_location(onnx::TensorProto::EXTERNAL);
  EXPECT_NE(pbError(p).find("external data"), std::string::npos);
  p.set_data_location(onnx::TensorProto::DEFAULT);
  // A value that does not fit the element type.
  onnx::TensorProto q;
  q.set_data_type(onnx::TensorProto::UINT8);
  q.add_dims(1);
  q.add_int32_data(300);
  EXPECT_EQ(pbError(q), "x.pb: int32_data[0] = 300 does not fit in u8");
  // Truncated serialized protos never crash.
  std::string bytes = p.SerializeAsString();
  for (size_t n = 0; n < bytes.size(); ++n) {
    HostTensor t;
    std::string error;
    parseTensorProto(StringRef(bytes).take_front(n), "x.pb", t, error);
  }
}

class TensorFilesOnDisk : public ::testing::Test {
protected:
  llvm::SmallString<128> dir;
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("tensorfiles", dir));
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }
  std::string path(StringRef name) {
    llvm::SmallString<128> p(dir);
    llvm::sys::path::append(p, name);
    return p.str().str();
  }
};

TEST_F(TensorFilesOnDisk, WriteAndReadBack) {
  HostTensor t = pattern(DType::I32, {4, 2}), back;
  std::string error;
  ASSERT_TRUE(
      writeTensorFile(path("a.npy"), TensorFileFormat::Npy, t, "a", error))
      << error;
  ASSERT_TRUE(readTensorFile(path("a.npy"), back, error)) << error;
  EXPECT_EQ(back.data, t.data);
  ASSERT_TRUE(
      writeTensorFile(path("a.pb"), TensorFileFormat::Pb, t, "a", error));
  ASSERT_TRUE(readTensorFile(path("a.pb"), back, error)) << error;
  EXPECT_EQ(back.data, t.data);
  // Overwriting works and leaves no temporary files behind.
  ASSERT_TRUE(
      writeTensorFile(path("a.npy"), TensorFileFormat::Npy, t, "a", error));
  std::error_code ec;
  int files = 0;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    ++files;
  EXPECT_EQ(files, 2);
}

TEST_F(TensorFilesOnDisk, ReadErrors) {
  HostTensor t;
  std::string error;
  EXPECT_FALSE(readTensorFile(path("missing.npy"), t, error));
  EXPECT_EQ(error,
            path("missing.npy") + ": cannot read: No such file or directory");
  EXPECT_FALSE(readTensorFile(path("x.txt"), t, error));
  EXPECT_EQ(error, path("x.txt") +
                       ": unknown tensor file type (expected a .npy or .pb "
                       "file)");
  ASSERT_FALSE(llvm::sys::fs::create_directory(path("d.npy")));
  EXPECT_FALSE(readTensorFile(path("d.npy"), t, error));
  EXPECT_EQ(error, path("d.npy") + ": is a directory, not a tensor file");
  std::string bytes;
  ASSERT_TRUE(writeFileAtomically(path("empty.pb"), "", error));
  // An empty TensorProto parses but has no type.
  EXPECT_FALSE(readTensorFile(path("empty.pb"), t, error));
  EXPECT_EQ(error, path("empty.pb") + ": the TensorProto has no data_type");
  // Writing into a folder that does not exist names the file.
  EXPECT_FALSE(writeFileAtomically(path("no/such/dir/x.npy"), "x", error));
  EXPECT_EQ(error.rfind(path("no/such/dir/x.npy") + ": cannot create: ", 0),
            0u);
}

TEST(TensorFiles, FormatByExtension) {
  EXPECT_EQ(tensorFileFormat("a/b.npy"), TensorFileFormat::Npy);
  EXPECT_EQ(tensorFileFormat("b.PB"), TensorFileFormat::Pb);
  EXPECT_EQ(tensorFileFormat("b.onnx"), std::nullopt);
  EXPECT_EQ(tensorFileFormat("npy"), std::nullopt);
}

TEST(TensorFiles, SafeFileStems) {
  std::vector<std::string> names = {"out/0",
                                    "out_0",
                                    "",
                                    ".",
                                    "..",
                                    ".hidden",
                                    "a b:c*d",
                                    "ok-Name.1",
                                    "out_0",
                                    "\xc3\xa9t\xc3\xa9",
                                    std::string(300, 'x')};
  std::vector<std::string> stems = safeFileStems(names);
  ASSERT_EQ(stems.size(), names.size());
  EXPECT_EQ(stems[0], "out_0");
  EXPECT_EQ(stems[1], "out_0_2");
  EXPECT_EQ(stems[2], "_");
  EXPECT_EQ(stems[3], "__2"); // "." -> "_", which is taken
  EXPECT_EQ(stems[4], "_.");
  EXPECT_EQ(stems[5], "_hidden");
  EXPECT_EQ(stems[6], "a_b_c_d");
  EXPECT_EQ(stems[7], "ok-Name.1");
  EXPECT_EQ(stems[8], "out_0_3");
  EXPECT_EQ(stems[9], "__t__");
  EXPECT_EQ(stems[10], std::string(200, 'x'));
}

TEST(TensorFiles, SplitMix64) {
  // The reference sequence for seed 0.
  SplitMix64 rng(0);
  EXPECT_EQ(rng.next(), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(rng.next(), 0x6E789E6AA1B965F4ull);
  EXPECT_EQ(rng.next(), 0x06C45D188009454Full);
}

TEST(TensorFiles, RandomValues) {
  for (DType dtype : allDTypes) {
    HostTensor a, b;
    std::string error;
    ASSERT_TRUE(makeHostTensor(dtype, {1000}, a, error));
    ASSERT_TRUE(makeHostTensor(dtype, {1000}, b, error));
    SplitMix64 r1(42), r2(42);
    fillRandom(a, r1, std::nullopt);
    fillRandom(b, r2, std::nullopt);
    EXPECT_EQ(a.data, b.data) << dtypeName(dtype);
    EXPECT_EQ(r1.state, SplitMix64(42).state + 1000 * 0x9E3779B97F4A7C15ull);
    double lo = 1e9, hi = -1e9;
    for (int64_t i = 0; i < 1000; ++i) {
      double v = a.elementAsDouble(i);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      if (isFloatDType(dtype)) {
        EXPECT_GE(v, -1.0);
        EXPECT_LT(v, 1.0);
      } else if (dtype == DType::Bool) {
        EXPECT_TRUE(v == 0 || v == 1);
      } else {
        EXPECT_GE(v, 0);
        EXPECT_LT(v, 10);
        EXPECT_EQ(v, std::floor(v));
      }
    }
    // The draws cover the range.
    if (isFloatDType(dtype)) {
      EXPECT_LT(lo, -0.9);
      EXPECT_GT(hi, 0.9);
    } else if (dtype != DType::Bool) {
      EXPECT_EQ(lo, 0);
      EXPECT_EQ(hi, 9);
    }
  }
  // The documented mapping: f32 value = (draw >> 39) * 2^-24 - 1.
  HostTensor f;
  std::string error;
  ASSERT_TRUE(makeHostTensor(DType::F32, {1}, f, error));
  SplitMix64 rng(7), ref(7);
  fillRandom(f, rng, std::nullopt);
  EXPECT_EQ(f.elementAsDouble(0),
            std::ldexp(double(ref.next() >> 39), -24) - 1.0);
  // ints: lo + floor(draw * (hi - lo) / 2^64).
  HostTensor i;
  ASSERT_TRUE(makeHostTensor(DType::I64, {1}, i, error));
  SplitMix64 rng2(7), ref2(7);
  fillRandom(i, rng2, RandomRange{-5, 5});
  uint64_t draw = ref2.next();
  EXPECT_EQ(i.elementAsDouble(0),
            -5.0 + double((static_cast<unsigned __int128>(draw) * 10) >> 64));
}

TEST(TensorFiles, RandomRanges) {
  HostTensor t;
  std::string error;
  ASSERT_TRUE(makeHostTensor(DType::I8, {500}, t, error));
  SplitMix64 rng(1);
  fillRandom(t, rng, RandomRange{-128, 128});
  bool sawLow = false, sawHigh = false;
  for (int64_t k = 0; k < 500; ++k) {
    sawLow |= t.elementAsDouble(k) < -100;
    sawHigh |= t.elementAsDouble(k) > 100;
  }
  EXPECT_TRUE(sawLow && sawHigh);
  ASSERT_TRUE(makeHostTensor(DType::F64, {500}, t, error));
  fillRandom(t, rng, RandomRange{10, 20});
  for (int64_t k = 0; k < 500; ++k) {
    EXPECT_GE(t.elementAsDouble(k), 10);
    EXPECT_LT(t.elementAsDouble(k), 20);
  }

  EXPECT_TRUE(checkRandomRange(DType::F32, {-0.5, 0.5}, error));
  EXPECT_TRUE(checkRandomRange(DType::U8, {0, 256}, error));
  EXPECT_FALSE(checkRandomRange(DType::U8, {0, 257}, error));
  EXPECT_EQ(error, "[0, 257) does not fit in u8");
  EXPECT_FALSE(checkRandomRange(DType::U32, {-1, 3}, error));
  EXPECT_FALSE(checkRandomRange(DType::I32, {0, 2.5}, error));
  EXPECT_EQ(error, "i32 inputs need integer bounds");
  EXPECT_FALSE(checkRandomRange(DType::F32, {1, 1}, error));

  RandomRange r;
  EXPECT_TRUE(parseRandomRange("-2,3.5", r, error));
  EXPECT_EQ(r.lo, -2);
  EXPECT_EQ(r.hi, 3.5);
  EXPECT_FALSE(parseRandomRange("3", r, error));
  EXPECT_EQ(error, "'3' must look like LO,HI (two numbers)");
  EXPECT_FALSE(parseRandomRange("a,b", r, error));
  EXPECT_FALSE(parseRandomRange("2,1", r, error));
  EXPECT_EQ(error, "'2,1' is empty (LO must be below HI)");
}

TEST(TensorFiles, Compare) {
  HostTensor a, b;
  std::string error;
  ASSERT_TRUE(makeHostTensor(DType::F32, {3}, a, error));
  ASSERT_TRUE(makeHostTensor(DType::F64, {3}, b, error));
  float fa[3] = {1, 2, NAN};
  double db[3] = {1, 2.5, NAN};
  std::memcpy(a.data.data(), fa, sizeof(fa));
  std::memcpy(b.data.data(), db, sizeof(db));
  Agreement ag;
  ASSERT_TRUE(compareTensors(a, b, ag, error));
  EXPECT_EQ(ag.maxAbs, 0.5);
  EXPECT_DOUBLE_EQ(ag.relL2, 0.5 / std::sqrt(1 + 6.25));
  EXPECT_EQ(ag.nonFinite, 0);
  db[0] = INFINITY;
  std::memcpy(b.data.data(), db, sizeof(db));
  ASSERT_TRUE(compareTensors(a, b, ag, error));
  EXPECT_EQ(ag.nonFinite, 1);
  ASSERT_TRUE(makeHostTensor(DType::F32, {1, 3}, b, error));
  EXPECT_FALSE(compareTensors(a, b, ag, error));
  EXPECT_EQ(error, "shapes differ: [3] vs [1,3]");
}

TEST(TensorFiles, Sizes) {
  EXPECT_EQ(numElements({2, 3, 4}), 24);
  EXPECT_EQ(numElements({}), 1);
  EXPECT_EQ(numElements({5, 0}), 0);
  EXPECT_EQ(numElements({-1}), std::nullopt);
  EXPECT_EQ(numElements({int64_t(1) << 40, int64_t(1) << 40}), std::nullopt);
  EXPECT_EQ(numElements({int64_t(1) << 61}, 8), std::nullopt);
  HostTensor t;
  std::string error;
  EXPECT_FALSE(makeHostTensor(DType::F32, {int64_t(1) << 62}, t, error));
  EXPECT_FALSE(makeHostTensor(DType::Undefined, {1}, t, error));
  EXPECT_EQ(shapeString({}), "[]");
  EXPECT_EQ(shapeString({1, 3}), "[1,3]");
}

} // namespace
