//===- CUDATargetTest.cpp - the --target=cuda plan: cost model, formats ---===//

#include "lopper/InitAll.h"
#include "lopper/Target/CUDA.h"

#include "lopper/Dialect/Lop/LopOps.h"

#include "formats.h"
#include "gpu_plan.h"
#include "lopper/artifact_abi.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

#include <random>

using namespace lopper;

namespace {

constexpr int64_t kN = 2048, kK = 2048;

// One matmul "fc1" with a [K, N] weight; W [N, K] = weight^T is set per test.
class CudaPlanTest : public ::testing::Test {
protected:
  void SetUp() override {
    registerAllDialects(registry);
    context = std::make_unique<mlir::MLIRContext>(registry);
    module = mlir::parseSourceString<mlir::ModuleOp>(
        R"mlir(
func.func @main(%x: tensor<?x2048xf32>) -> tensor<?x2048xf32> {
  %w = lop.constant dense<0.0> : tensor<2048x2048xf32> -> tensor<2048x2048xf32>
  %0 = lop.matmul %x, %w : tensor<?x2048xf32>, tensor<2048x2048xf32> -> tensor<?x2048xf32> loc("fc1")
  return %0 : tensor<?x2048xf32>
}
)mlir",
        context.get());
    ASSERT_TRUE(module);
  }

  // Sets the weight to W (row-major [N, K]) and plans it.
  CUDALayerPlan plan(const std::vector<float> &w) {
    std::vector<float> t(kK * kN);
    for (int64_t n = 0; n < kN; ++n)
      for (int64_t k = 0; k < kK; ++k)
        t[k * kN + n] = w[n * kK + k];
    module->walk([&](lop::ConstantOp c) {
      auto type = mlir::cast<mlir::RankedTensorType>(c.getOutput().getType());
      c.setValueAttr(
          mlir::DenseElementsAttr::get(type, llvm::ArrayRef<float>(t)));
    });
    CUDAPlan p;
    std::string err;
    EXPECT_TRUE(buildCudaPlan(*module, {"sm_80"}, p, err)) << err;
    EXPECT_EQ(p.layers.size(), 1u);
    return p.layers.empty() ? CUDALayerPlan() : p.layers[0];
  }

  mlir::DialectRegistry registry;
  std::unique_ptr<mlir::MLIRContext> context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::mt19937 rng{42};
};

std::vector<float> randomDense(std::mt19937 &rng) {
  std::uniform_real_distribution<float> v(-1, 1);
  std::vector<float> w(kN * kK);
  for (float &x : w) {
    x = v(rng);
    if (x == 0.f)
      x = 0.5f;
  }
  return w;
}

// The layer's blob, read back per its documented layout, is W in fp16.
void expectBlobIsWeight(const CUDALayerPlan &l, const std::vector<float> &w) {
  std::vector<float> back;
  std::string err;
  ASSERT_TRUE(
      cuda::unpackPlanBlob(l.format, l.rows, l.cols, l.blockRows,
                           reinterpret_cast<const uint8_t *>(l.blob.data()),
                           l.blob.size(), &back, &err))
      << err;
  ASSERT_EQ(back.size(), w.size());
  for (size_t i = 0; i < w.size(); ++i)
    ASSERT_EQ(back[i], cuda::halfToFloat(cuda::floatToHalf(w[i])))
        << l.format << " element " << i;
}

TEST_F(CudaPlanTest, DenseStaysDense) {
  std::vector<float> w = randomDense(rng);
  CUDALayerPlan l = plan(w);
  EXPECT_EQ(l.node, "fc1");
  EXPECT_EQ(l.format, "dense");
  EXPECT_EQ(l.rows, kN);
  EXPECT_EQ(l.cols, kK);
  EXPECT_EQ(l.blob.size(), size_t(kN * kK * 2)); // fp16 values
  expectBlobIsWeight(l, w);
}

TEST_F(CudaPlanTest, TwoFourGoesToTheSparseTensorCores) {
  std::vector<float> w = randomDense(rng);
  for (int64_t i = 0; i < kN * kK; i += 4)
    w[i + 1] = w[i + 3] = 0.f;
  CUDALayerPlan l = plan(w);
  EXPECT_EQ(l.format, "2:4");
  EXPECT_LT(l.sparseUs, 0.9 * l.denseUs);
  EXPECT_DOUBLE_EQ(l.density, 0.5);
  // values [N, K/2] fp16 then 16 metadata words per 16x32 tile.
  EXPECT_EQ(l.blob.size(),
            size_t(kN * kK / 2 * 2 + (kN / 16) * (kK / 32) * 16 * 4));
  // The blob is compress24's output.
  cuda::Sparse24 s;
  std::string err;
  ASSERT_TRUE(
      cuda::compress24(cuda::DenseView{w.data(), nullptr, kN, kK}, &s, &err));
  EXPECT_EQ(std::memcmp(l.blob.data(), s.values.data(), 4096), 0);
  expectBlobIsWeight(l, w);
}

TEST_F(CudaPlanTest, BalancedBlockSparsityGoesToBlockedEll) {
  std::vector<float> w = randomDense(rng);
  // 90%: 6 of the 64 32x32 blocks kept in every block row.
  for (int64_t i = 0; i < kN / 32; ++i)
    for (int64_t j = 0; j < kK / 32; ++j)
      if ((j + i) % 64 >= 6)
        for (int64_t r = 0; r < 32; ++r)
          for (int64_t c = 0; c < 32; ++c)
            w[(i * 32 + r) * kK + j * 32 + c] = 0.f;
  CUDALayerPlan l = plan(w);
  EXPECT_EQ(l.format, "ell");
  EXPECT_EQ(l.blockRows, 32);
  EXPECT_NEAR(l.density, 6.0 / 64, 1e-12);
  // colInd [64 block rows, 6 slots] int32, padded to 64 bytes, then values.
  EXPECT_EQ(l.blob.size(), size_t(64 * 6 * 4 + kN * 6 * 32 * 2));
  expectBlobIsWeight(l, w);
}

TEST_F(CudaPlanTest, VerySparseUnstructuredGoesToCsr) {
  std::vector<float> w(kN * kK, 0.f);
  std::uniform_int_distribution<int64_t> at(0, kN * kK - 1);
  for (int i = 0; i < kN * kK / 100; ++i)
    w[at(rng)] = 1.f;
  CUDALayerPlan l = plan(w);
  EXPECT_EQ(l.format, "csr");
  EXPECT_LT(l.density, 0.011);
  expectBlobIsWeight(l, w);
}

TEST_F(CudaPlanTest, RefusesSparsityThatWouldBeSlower) {
  std::vector<float> w = randomDense(rng);
  std::uniform_real_distribution<double> u(0, 1);
  for (float &x : w)
    if (u(rng) < 0.5)
      x = 0.f;
  CUDALayerPlan l = plan(w);
  EXPECT_EQ(l.format, "dense");
  EXPECT_GT(l.sparseUs, l.denseUs);
}

TEST(CudaCostModel, SmallLayersAreLaunchBound) {
  // A 64x64 2:4 layer gains nothing over its launch.
  double dense = cudaLayerCostUs("dense", 64, 64, 128, 0, 0);
  double s24 = cudaLayerCostUs("2:4", 64, 64, 128, 0, 0);
  EXPECT_GT(s24, 0.9 * dense);
  EXPECT_GT(cudaLayerCostUs("coo", 64, 64, 128, 0, 0), 1e20);
}

TEST(CudaArchs, Validation) {
  std::vector<std::string> archs;
  std::string err;
  if (cudaKernelArchs().empty()) {
    EXPECT_FALSE(parseCudaArchs("sm_80", archs, err));
    EXPECT_NE(err.find("built without nvcc"), std::string::npos) << err;
    return;
  }
  std::vector<std::string> built = cudaKernelArchs();
  ASSERT_TRUE(parseCudaArchs(built[0] + "," + built[0], archs, err)) << err;
  EXPECT_EQ(archs, std::vector<std::string>{built[0]});
  EXPECT_FALSE(parseCudaArchs("sm_75", archs, err));
  EXPECT_NE(err.find("sm_75 has no sparse tensor cores"), std::string::npos)
      << err;
  EXPECT_FALSE(parseCudaArchs("sm_120x", archs, err));
  EXPECT_NE(err.find("is not an arch the kernels were built for"),
            std::string::npos)
      << err;
  EXPECT_FALSE(parseCudaArchs(built[0] + ",", archs, err));
  EXPECT_NE(err.find("empty arch name"), std::string::npos) << err;
}

TEST(CudaPlanFile, WrittenBesideTheArtifactDeterministically) {
  if (cudaKernelArchs().empty())
    GTEST_SKIP() << "lopper built without nvcc: no kernels to write";
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("lopper-cuda", dir));
  std::string artifact = (dir + "/m.so").str();
  CUDAPlan p;
  p.archs = {"sm_80"};
  CUDALayerPlan l;
  l.node = "fc1";
  l.format = "dense";
  l.rows = l.cols = 4;
  l.blob = std::string(32, '\1');
  p.layers.push_back(l);
  std::string err, metadata = "abi 1\n";
  ASSERT_TRUE(writeCudaPlan(p, "m", metadata, artifact, err)) << err;
  auto first = llvm::MemoryBuffer::getFile(artifact + ".gpu");
  ASSERT_TRUE(first);
  std::string a = (*first)->getBuffer().str();
  ASSERT_TRUE(writeCudaPlan(p, "m", metadata, artifact, err)) << err;
  auto second = llvm::MemoryBuffer::getFile(artifact + ".gpu");
  EXPECT_EQ((*second)->getBuffer().str(), a);
  cuda::GpuPlan back;
  ASSERT_TRUE(cuda::readPlan(reinterpret_cast<const uint8_t *>(a.data()),
                             a.size(), &back, &err))
      << err;
  EXPECT_EQ(back.metadataChecksum,
            lopper_checksum64(metadata.data(), metadata.size()));
  EXPECT_GT(back.kernelsBytes, 1000u); // the embedded fatbin
  EXPECT_EQ(a.substr(back.kernelsOffset, 8).substr(0, 4),
            std::string("\x50\xed\x55\xba", 4)); // fatbin magic
  llvm::sys::fs::remove_directories(dir);
}

} // namespace
