// GPU kernels against CPU references: cuSPARSE SpMM (CSR, BSR,
// Blocked-ELL), Lopper's 2:4 sparse tensor-core kernel and cuBLASLt dense,
// each with bias + activation, outputs poisoned before the run. Skipped,
// saying why, where there is no usable CUDA device.
#include "gpu_ops.h"
#include "lopper/runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>

using namespace lopper::cuda;

namespace {

// The kernels image: $LOPPER_CUDA_KERNELS, else the build's fatbin.
std::string kernelImagePath() {
  if (const char *p = std::getenv("LOPPER_CUDA_KERNELS"))
    return p;
  return LOPPER_TEST_CUDA_FATBIN;
}

class Gpu : public ::testing::Test {
protected:
  void SetUp() override {
    char why[512];
    if (!lopper_cuda_available(0, why, sizeof(why)))
      GTEST_SKIP() << "no CUDA device: " << why;
    std::string path = kernelImagePath();
    std::ifstream in(path, std::ios::binary);
    image.assign(std::istreambuf_iterator<char>(in),
                 std::istreambuf_iterator<char>());
    if (image.empty())
      GTEST_SKIP() << "no CUDA kernels image at '" << path
                   << "' (built without nvcc? set LOPPER_CUDA_KERNELS)";
    std::string err;
    ASSERT_TRUE(ctx.init(0, image.data(), &err)) << err;
  }
  std::string image;
  GpuContext ctx;
};

struct Case {
  WeightFormat format;
  int64_t blockRows, blockCols;
  int64_t rows, cols, n;
  Act act;
};

// Random fp16-exact values; structured zeros for the format.
std::vector<float> makeWeight(const Case &c, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> v(-32, 32);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<float> w(c.rows * c.cols);
  for (float &x : w)
    x = static_cast<float>(v(rng)) / 32.f;
  if (c.format == WeightFormat::Sparse24) {
    for (int64_t i = 0; i < c.rows * c.cols; i += 4) {
      int keep = static_cast<int>(u(rng) * 6); // a pair of 4 positions
      static const int pairs[6][2] = {{0, 1}, {0, 2}, {0, 3},
                                      {1, 2}, {1, 3}, {2, 3}};
      for (int k = 0; k < 4; ++k)
        if (k != pairs[keep][0] && k != pairs[keep][1])
          w[i + k] = 0.f;
    }
  } else if (c.format != WeightFormat::Dense) {
    int64_t br = c.format == WeightFormat::Csr ? 1 : c.blockRows;
    int64_t bc = c.format == WeightFormat::Csr          ? 1
                 : c.format == WeightFormat::BlockedEll ? c.blockRows
                                                        : c.blockCols;
    for (int64_t r0 = 0; r0 < c.rows; r0 += br)
      for (int64_t c0 = 0; c0 < c.cols; c0 += bc)
        if (u(rng) < 0.8)
          for (int64_t r = r0; r < std::min(c.rows, r0 + br); ++r)
            for (int64_t k = c0; k < std::min(c.cols, c0 + bc); ++k)
              w[r * c.cols + k] = 0.f;
  }
  return w;
}

float act(float v, Act a) {
  switch (a) {
  case Act::Relu:
    return v > 0 ? v : 0;
  case Act::Gelu:
    return 0.5f * v * (1 + std::erf(v / std::sqrt(2.f)));
  case Act::Sigmoid:
    return 1 / (1 + std::exp(-v));
  default:
    return v;
  }
}

void runCase(GpuContext &ctx, const Case &c) {
  SCOPED_TRACE(std::string(formatName(c.format)) + " " +
               std::to_string(c.rows) + "x" + std::to_string(c.cols) +
               " n=" + std::to_string(c.n));
  std::vector<float> w = makeWeight(c, 11);
  std::vector<float> bias(c.rows);
  for (int64_t i = 0; i < c.rows; ++i)
    bias[i] = static_cast<float>(i % 7) / 8.f - 0.375f;
  DeviceWeight dw;
  std::string err;
  ASSERT_TRUE(ctx.uploadWeight("test", w.data(), c.rows, c.cols, bias.data(),
                               c.format, c.blockRows, c.blockCols, &dw, &err))
      << err;
  // BSR: X [n, padCols] (zero columns beyond cols), Y [n, padRows]; the
  // other formats take X [n, cols] and write Y [n, rows].
  bool bsr = c.format == WeightFormat::Bsr;
  int64_t xcols = bsr ? dw.padCols : c.cols;
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> v(-16, 16);
  std::vector<float> x(c.n * c.cols);
  for (float &e : x)
    e = static_cast<float>(v(rng)) / 16.f;
  std::vector<uint16_t> xh(c.n * xcols, 0);
  for (int64_t i = 0; i < c.n; ++i)
    for (int64_t k = 0; k < c.cols; ++k)
      xh[i * xcols + k] = floatToHalf(x[i * c.cols + k]);
  int64_t ycols = bsr ? dw.padRows : c.rows;
  std::vector<uint16_t> poison(c.n * ycols, 0x7e00); // fp16 NaN
  DeviceBuffer dx, dy;
  ASSERT_TRUE(ctx.upload(&dx, xh.data(), xh.size() * 2, &err)) << err;
  ASSERT_TRUE(ctx.upload(&dy, poison.data(), poison.size() * 2, &err)) << err;
  ASSERT_TRUE(ctx.linear(dw, dx, c.n, &dy, c.act, &err)) << err;
  std::vector<uint16_t> yh(c.n * ycols);
  ASSERT_TRUE(ctx.download(yh.data(), dy, yh.size() * 2, &err)) << err;
  int bad = 0;
  for (int64_t i = 0; i < c.n && bad < 10; ++i)
    for (int64_t o = 0; o < c.rows && bad < 10; ++o) {
      double s = bias[o];
      for (int64_t k = 0; k < c.cols; ++k)
        s += static_cast<double>(w[o * c.cols + k]) * x[i * c.cols + k];
      float want = act(static_cast<float>(s), c.act);
      float got = halfToFloat(yh[i * ycols + o]);
      if (!(std::fabs(got - want) <= 2e-2f + 4e-3f * std::fabs(want))) {
        ADD_FAILURE() << "y[" << i << ", " << o << "] = " << got
                      << ", reference " << want;
        ++bad;
      }
    }
  ctx.releaseWeight(&dw);
  ctx.release(&dx);
  ctx.release(&dy);
}

TEST_F(Gpu, DenseCublasLt) {
  runCase(ctx, {WeightFormat::Dense, 0, 0, 48, 96, 37, Act::Relu});
}
TEST_F(Gpu, CsrCusparse) {
  runCase(ctx, {WeightFormat::Csr, 0, 0, 37, 53, 19, Act::None});
}
TEST_F(Gpu, BsrCusparse) {
  runCase(ctx, {WeightFormat::Bsr, 16, 16, 40, 72, 33, Act::Gelu});
}
TEST_F(Gpu, BlockedEllCusparse) {
  runCase(ctx, {WeightFormat::BlockedEll, 16, 16, 64, 96, 24, Act::Sigmoid});
}
TEST_F(Gpu, Sparse24TensorCores) {
  runCase(ctx, {WeightFormat::Sparse24, 0, 0, 40, 100, 45, Act::Relu});
  runCase(ctx, {WeightFormat::Sparse24, 0, 0, 128, 256, 130, Act::None});
}

TEST_F(Gpu, ErrorsNameTheLayer) {
  std::vector<float> w(37 * 32, 1.f);
  DeviceWeight dw;
  std::string err;
  EXPECT_FALSE(ctx.uploadWeight("fc7", w.data(), 37, 32, nullptr,
                                WeightFormat::BlockedEll, 16, 16, &dw, &err));
  EXPECT_NE(err.find("layer 'fc7'"), std::string::npos) << err;
}

} // namespace
