// The GPU plan sidecar (write, read, checks) and the dlopen loader's
// messages, on a machine without a GPU.
#include "cuda_loader.h"
#include "gpu_plan.h"
#include "lopper/artifact_abi.h"

#include <gtest/gtest.h>

#include <unistd.h>

using namespace lopper::cuda;

namespace {

GpuPlan samplePlan() {
  GpuPlan p;
  p.model = "my model";
  p.metadataChecksum = 0x0123456789abcdefull;
  p.archs = {"sm_80", "sm_90a"};
  PlanLayer a;
  a.node = "fc 1";
  a.format = "bsr";
  a.rows = 64;
  a.cols = 96;
  a.blockRows = a.blockCols = 16;
  a.density = 0.25;
  a.denseCost = 3.5;
  a.sparseCost = 1.25;
  PlanLayer b = a;
  b.node = "fc2";
  b.format = "2:4";
  p.layers = {a, b};
  return p;
}

TEST(GpuPlan, RoundTripsAndIsDeterministic) {
  GpuPlan p = samplePlan();
  std::vector<std::string> blobs = {std::string(100, 'a'), "bb"};
  std::string file = writePlan(p, blobs, "KERNELS");
  GpuPlan q = samplePlan();
  EXPECT_EQ(writePlan(q, blobs, "KERNELS"), file);
  GpuPlan r;
  std::string err;
  ASSERT_TRUE(readPlan(reinterpret_cast<const uint8_t *>(file.data()),
                       file.size(), &r, &err))
      << err;
  EXPECT_EQ(r.model, "my model");
  EXPECT_EQ(r.metadataChecksum, 0x0123456789abcdefull);
  EXPECT_EQ(r.archs, (std::vector<std::string>{"sm_80", "sm_90a"}));
  ASSERT_EQ(r.layers.size(), 2u);
  EXPECT_EQ(r.layers[0].node, "fc 1");
  EXPECT_EQ(r.layers[1].format, "2:4");
  EXPECT_EQ(r.layers[0].density, 0.25);
  EXPECT_EQ(r.layers[0].offset % 64, 0u);
  EXPECT_EQ(file.substr(r.layers[0].offset, r.layers[0].bytes), blobs[0]);
  EXPECT_EQ(file.substr(r.layers[1].offset, r.layers[1].bytes), blobs[1]);
  EXPECT_EQ(file.substr(r.kernelsOffset, r.kernelsBytes), "KERNELS");
}

bool readString(const std::string &s, std::string *err) {
  GpuPlan p;
  return readPlan(reinterpret_cast<const uint8_t *>(s.data()), s.size(), &p,
                  err);
}

// Re-seals a modified file with a valid checksum to reach the parser.
std::string reseal(std::string body) {
  uint64_t sum = lopper_checksum64(body.data(), body.size());
  for (int i = 0; i < 8; ++i)
    body += static_cast<char>((sum >> (8 * i)) & 0xff);
  return body;
}

TEST(GpuPlan, RejectsDamage) {
  GpuPlan p = samplePlan();
  std::string file = writePlan(p, {"x", "y"}, "K");
  std::string err;
  std::string flipped = file;
  flipped[flipped.size() - 20] ^= 0x40;
  EXPECT_FALSE(readString(flipped, &err));
  EXPECT_EQ(err, "checksum mismatch (truncated or modified)");
  EXPECT_FALSE(readString(file.substr(0, file.size() - 1), &err));
  EXPECT_FALSE(readString("hello", &err));
  EXPECT_EQ(err, "not a Lopper GPU plan (bad magic)");

  std::string body = file.substr(0, file.size() - 8);
  std::string badFormat = body;
  badFormat.replace(badFormat.find(" bsr "), 5, " coo ");
  EXPECT_FALSE(readString(reseal(badFormat), &err));
  EXPECT_EQ(err, "line 5: layer 'fc 1': unknown format 'coo'");

  std::string outside = body;
  size_t k = outside.find("kernels ") + 8;
  outside.replace(k, 20, "00000000009999999999");
  EXPECT_FALSE(readString(reseal(outside), &err));
  EXPECT_EQ(err, "kernels image outside the file");

  std::string noEnd = body;
  noEnd.replace(noEnd.find("\nend\n"), 5, "\nxyz\n");
  EXPECT_FALSE(readString(reseal(noEnd), &err));
  EXPECT_EQ(err, "line 8: unexpected 'xyz'");
}

TEST(Loader, MissingLibrariesAreNamed) {
  static const char *const none[] = {"libnot-a-cuda-driver.so.1", nullptr};
  LibraryNames names = defaultLibraryNames();
  names.cuda = none;
  Api api;
  std::string why;
  EXPECT_FALSE(openApi(names, &api, &why));
  EXPECT_NE(why.find("cannot load the CUDA driver (tried "
                     "libnot-a-cuda-driver.so.1)"),
            std::string::npos)
      << why;
  EXPECT_EQ(api.libCuda, nullptr);
}

// The toolkit's stub libcuda loads but has no driver behind it: the probe
// must say so. Runs where the CUDA toolkit is installed (CI's image).
TEST(Loader, ToolkitStubIsNotADriver) {
  static const char *const stub[] = {"/usr/local/cuda/lib64/stubs/libcuda.so",
                                     nullptr};
  if (access(stub[0], R_OK) != 0)
    GTEST_SKIP() << "no CUDA toolkit stub at " << stub[0];
  LibraryNames names = defaultLibraryNames();
  names.cuda = stub;
  names.dir = "/usr/local/cuda/lib64";
  Api api;
  std::string why;
  if (!openApi(names, &api, &why))
    GTEST_SKIP() << "CUDA toolkit libraries incomplete: " << why;
  DeviceInfo info;
  EXPECT_FALSE(probeDevice(api, 0, &info, &why));
  EXPECT_NE(why.find("stub library"), std::string::npos) << why;
  closeApi(&api);
}

TEST(Loader, StatusMessages) {
  EXPECT_EQ(cusparseError("cusparseSpMM", 3, "fc1"),
            "cusparseSpMM failed: CUSPARSE_STATUS_INVALID_VALUE (code 3) in "
            "layer 'fc1'");
  EXPECT_EQ(cusparseError("cusparseCreate", 99),
            "cusparseCreate failed: CUSPARSE_STATUS_UNKNOWN (code 99)");
  EXPECT_EQ(cublasError("cublasLtMatmul", 15, "proj"),
            "cublasLtMatmul failed: CUBLAS_STATUS_NOT_SUPPORTED (code 15) in "
            "layer 'proj'");
  EXPECT_EQ(cudartError(nullptr, "cudaMalloc", 2),
            "cudaMalloc failed: cudaErrorUnknown (code 2)");
  EXPECT_EQ(driverError(nullptr, "cuInit", 100),
            "cuInit failed: CUDA_ERROR_UNKNOWN (code 100)");
}

} // namespace
