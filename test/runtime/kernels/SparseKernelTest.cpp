// Tests of the block-sparse fp32 matmul (lopper_k_matmul_bsr_f32_v1) and its
// packing against a double-precision dense reference, on every ISA level
// this machine has.
#include "cpu_internal.h"
#include "kernels.h"

#include "lopper/artifact_abi.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace lopper::cpu;

namespace {

int fakeRuntime;
void *const kThreaded = &fakeRuntime;

const Isa kIsas[] = {IsaScalar, IsaAvx2, IsaAvx512};

struct Packed {
  void *p = nullptr;
  int64_t size = 0;
  Packed(int64_t K, int64_t N, const std::vector<float> &w) {
    size = lopper_pack_matmul_bsr_f32_size(K, N, w.data(), N, 1);
    EXPECT_EQ(size % 64, 0);
    if (posix_memalign(&p, 64, static_cast<size_t>(size + 64)))
      std::abort();
    std::memset(p, 0x5a, static_cast<size_t>(size + 64));
    lopper_pack_matmul_bsr_f32(K, N, w.data(), N, 1, p);
    for (int64_t i = size; i < size + 64; ++i)
      EXPECT_EQ(static_cast<uint8_t *>(p)[i], 0x5a) << "wrote past the size";
  }
  ~Packed() { std::free(p); }
};

// W (K x N) with about `density` of its 1 x 16 blocks nonzero (and zeros
// inside kept blocks too).
std::vector<float> blockSparse(int64_t K, int64_t N, double density,
                               std::mt19937 &rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::bernoulli_distribution keep(density), zero(0.2);
  std::vector<float> w(static_cast<size_t>(K * N), 0.0f);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t p = 0; p * 16 < N; ++p) {
      if (!keep(rng))
        continue;
      for (int64_t j = p * 16; j < N && j < p * 16 + 16; ++j)
        w[static_cast<size_t>(k * N + j)] = zero(rng) ? 0.0f : u(rng);
    }
  return w;
}

void runBsr(int64_t batch, int64_t M, int64_t N, int64_t K, double density,
            int act, bool bias, bool res, bool threaded, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const int64_t aRs = K + 3, aBs = M * aRs + 1;
  const int64_t ldc = N + 2, cBs = M * ldc + 5;
  const int64_t cElems = (batch - 1) * cBs + (M - 1) * ldc + N;
  std::vector<float> a(static_cast<size_t>((batch - 1) * aBs + M * aRs));
  for (float &v : a)
    v = u(rng);
  std::vector<float> w = blockSparse(K, N, density, rng);
  std::vector<float> b(static_cast<size_t>(N)), r(static_cast<size_t>(cElems));
  for (float &v : b)
    v = u(rng);
  for (float &v : r)
    v = u(rng);
  const float fp[2] = {-0.3f, 0.6f};
  Packed packed(K, N, w);
  std::vector<int64_t> ip(LOPPER_SMM_IP_COUNT);
  ip[LOPPER_SMM_IP_BATCH] = batch;
  ip[LOPPER_SMM_IP_M] = M;
  ip[LOPPER_SMM_IP_N] = N;
  ip[LOPPER_SMM_IP_K] = K;
  ip[LOPPER_SMM_IP_A_BS] = aBs;
  ip[LOPPER_SMM_IP_A_RS] = aRs;
  ip[LOPPER_SMM_IP_R_BS] = cBs;
  ip[LOPPER_SMM_IP_C_BS] = cBs;
  ip[LOPPER_SMM_IP_LDC] = ldc;
  ip[LOPPER_SMM_IP_ACT] = act;
  std::vector<double> want(static_cast<size_t>(cElems), 0.0);
  std::vector<bool> written(static_cast<size_t>(cElems), false);
  double scale = 1;
  for (int64_t bt = 0; bt < batch; ++bt)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k)
          acc += static_cast<double>(
                     a[static_cast<size_t>(bt * aBs + i * aRs + k)]) *
                 w[static_cast<size_t>(k * N + j)];
        const size_t o = static_cast<size_t>(bt * cBs + i * ldc + j);
        if (bias)
          acc += b[static_cast<size_t>(j)];
        if (res)
          acc += r[o];
        if (act == LOPPER_ACT_RELU)
          acc = acc > 0 ? acc : 0;
        else if (act == LOPPER_ACT_CLIP)
          acc = std::fmin(std::fmax(acc, fp[0]), fp[1]);
        want[o] = acc;
        written[o] = true;
        scale = std::fmax(scale, std::fabs(acc));
      }
  const Isa saved = activeIsa();
  std::vector<float> first;
  for (Isa isa : kIsas) {
    if (isa > detectedIsa())
      continue;
    setIsaForTesting(isa);
    std::vector<float> c(static_cast<size_t>(cElems), -777.0f);
    lopper_k_matmul_bsr_f32_v1(threaded ? kThreaded : nullptr, ip.data(), fp,
                               a.data(), packed.p, bias ? b.data() : nullptr,
                               res ? r.data() : nullptr, c.data());
    const std::string what = std::string(isaName(isa)) + " b" +
                             std::to_string(batch) + " " + std::to_string(M) +
                             "x" + std::to_string(N) + "x" + std::to_string(K);
    for (size_t o = 0; o < c.size(); ++o) {
      if (!written[o]) {
        ASSERT_EQ(c[o], -777.0f) << what << " wrote outside C at " << o;
        continue;
      }
      ASSERT_LE(std::fabs(c[o] - want[o]), 1e-5 * scale)
          << what << " at " << o << ": " << c[o] << " vs " << want[o];
      // Levels sum in different orders (FMA or not, partial sums): within
      // the reference's tolerance of each other too.
      if (!first.empty()) {
        ASSERT_LE(std::fabs(c[o] - first[o]), 1e-5 * scale)
            << what << " differs from the first level at " << o;
      }
    }
    if (first.empty())
      first = c;
  }
  setIsaForTesting(saved);
}

TEST(SparseMatmul, ShapesAndDensities) {
  const int64_t sizes[][3] = {{1, 1, 1},    {1, 16, 7},  {3, 15, 5},
                              {9, 33, 64},  {17, 70, 9}, {8, 48, 100},
                              {1, 100, 300}};
  uint32_t seed = 1;
  for (const auto &s : sizes)
    for (double density : {0.0, 0.1, 0.5, 1.0})
      runBsr(1, s[0], s[1], s[2], density, LOPPER_ACT_NONE, true, false, false,
             seed++);
}

TEST(SparseMatmul, EpilogueBatchesThreads) {
  uint32_t seed = 100;
  for (int act : {LOPPER_ACT_NONE, LOPPER_ACT_RELU, LOPPER_ACT_CLIP})
    for (int br = 0; br < 4; ++br)
      runBsr(2, 13, 50, 40, 0.2, act, (br & 1) != 0, (br & 2) != 0, true,
             seed++);
  runBsr(1, 130, 700, 200, 0.1, LOPPER_ACT_RELU, true, true, true, 200);
}

TEST(SparseMatmul, PackLayout) {
  // K = 3, N = 20: panel 0 keeps rows 0 and 2, panel 1 (columns 16..19)
  // keeps row 1.
  std::vector<float> w(3 * 20, 0.0f);
  w[0 * 20 + 5] = 1.0f;
  w[2 * 20 + 15] = 2.0f;
  w[1 * 20 + 19] = 3.0f;
  Packed p(3, 20, w);
  EXPECT_EQ(p.size, 64 + 64 + 3 * 64);
  const int32_t *start = static_cast<const int32_t *>(p.p);
  const int32_t *k =
      reinterpret_cast<const int32_t *>(static_cast<const char *>(p.p) + 64);
  const float *v =
      reinterpret_cast<const float *>(static_cast<const char *>(p.p) + 128);
  EXPECT_EQ(start[0], 0);
  EXPECT_EQ(start[1], 2);
  EXPECT_EQ(start[2], 3);
  EXPECT_EQ(k[0], 0);
  EXPECT_EQ(k[1], 2);
  EXPECT_EQ(k[2], 1);
  EXPECT_EQ(v[0 * 16 + 5], 1.0f);
  EXPECT_EQ(v[1 * 16 + 15], 2.0f);
  EXPECT_EQ(v[2 * 16 + 3], 3.0f);
  EXPECT_EQ(v[2 * 16 + 4], 0.0f); // padding past N
}

} // namespace
