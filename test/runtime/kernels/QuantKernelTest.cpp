// Tests of the int8 kernels (lopper_k_matmul_q8_v1, lopper_k_conv2d_q8_v1)
// and their weight packing against an int64 reference, on every ISA level
// this machine has: integer outputs must be the same bytes on every level,
// f32 outputs within 1e-6 of each other relative to max(1, |y|).
#include "cpu_internal.h"
#include "kernels.h"

#include "lopper/artifact_abi.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

using namespace lopper::cpu;

namespace {

// The codes artifact_abi.h gives A_TYPE / X_TYPE (0 u8, 1 i8, 2 f32) and
// OUT_TYPE (0 f32, 1 u8, 2 i8).
static_assert(LOPPER_QIN_U8 == 0 && LOPPER_QIN_I8 == 1 && LOPPER_QIN_F32 == 2,
              "A_TYPE codes");
static_assert(LOPPER_QTYPE_F32 == 0 && LOPPER_QTYPE_U8 == 1 &&
                  LOPPER_QTYPE_I8 == 2,
              "OUT_TYPE codes");

int fakeRuntime;
void *const kThreaded = &fakeRuntime;

const Isa kIsas[] = {IsaScalar, IsaAvx2, IsaAvx512};

double refAct(double x, int act, float alpha, float beta) {
  switch (act) {
  case LOPPER_ACT_RELU:
    return x > 0 ? x : 0;
  case LOPPER_ACT_CLIP:
    return std::fmin(std::fmax(x, alpha), beta);
  case LOPPER_ACT_SIGMOID:
    return 1 / (1 + std::exp(-x));
  case LOPPER_ACT_SILU:
    return x / (1 + std::exp(-x));
  case LOPPER_ACT_GELU:
    return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  case LOPPER_ACT_HARD_SWISH:
    return x * std::fmin(std::fmax(x / 6 + 0.5, 0.0), 1.0);
  case LOPPER_ACT_LEAKY_RELU:
    return x >= 0 ? x : alpha * x;
  case LOPPER_ACT_TANH:
    return std::tanh(x);
  default:
    return x;
  }
}

// A 64-byte aligned byte buffer (the packed weights are stored so).
struct Blob {
  int8_t *p = nullptr;
  explicit Blob(int64_t bytes) {
    if (posix_memalign(reinterpret_cast<void **>(&p), 64,
                       static_cast<size_t>(bytes > 0 ? bytes : 64)))
      std::abort();
  }
  ~Blob() { std::free(p); }
  Blob(const Blob &) = delete;
  Blob &operator=(const Blob &) = delete;
};

// Quantization of the expected real output, as the ABI says.
int64_t requant(double y, float outScale, int32_t zp, int outType) {
  const double lo = outType == LOPPER_QTYPE_U8 ? 0 : -128;
  const double hi = outType == LOPPER_QTYPE_U8 ? 255 : 127;
  double q = std::nearbyint(y / outScale) + zp;
  return static_cast<int64_t>(std::fmin(hi, std::fmax(lo, q)));
}

// ONNX DynamicQuantizeLinear as onnxruntime computes it (independent of
// the kernels' code).
void refDynamic(const std::vector<float> &x, float *scale, int32_t *zp,
                std::vector<int64_t> &q) {
  float mn = 0, mx = 0;
  for (float v : x) {
    mn = std::min(mn, v);
    mx = std::max(mx, v);
  }
  *scale = mx == mn ? 1.0f : (mx - mn) / 255.0f;
  float z = 0.0f - mn / *scale;
  *zp =
      static_cast<int32_t>(std::nearbyint(std::max(0.0f, std::min(255.0f, z))));
  q.resize(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    float f = std::nearbyint(x[i] / *scale) + static_cast<float>(*zp);
    q[i] = static_cast<int64_t>(std::min(255.0f, std::max(0.0f, f)));
  }
}

// Runs `call` on every level the CPU has; returns the outputs (bytes).
std::vector<std::vector<uint8_t>>
onEveryIsa(size_t bytes, const std::function<void(void *)> &call,
           std::vector<Isa> *levels) {
  const Isa saved = activeIsa();
  std::vector<std::vector<uint8_t>> outs;
  for (Isa isa : kIsas) {
    if (isa > detectedIsa())
      continue;
    setIsaForTesting(isa);
    std::vector<uint8_t> out(bytes, 0xa5);
    call(out.data());
    outs.push_back(out);
    levels->push_back(isa);
  }
  setIsaForTesting(saved);
  return outs;
}

// Checks every level's output: against the reference (f32 within 1e-5 of
// the largest max(1, |want|), integers within 1 of the double reference),
// the levels against each other (integers identical, f32 within 1e-6 of
// max(1, |y|)), and the bytes outside the output untouched.
void checkOutputs(const std::vector<std::vector<uint8_t>> &outs,
                  const std::vector<Isa> &levels,
                  const std::vector<double> &want,
                  const std::vector<int64_t> &where, int outType,
                  float outScale, int32_t outZp, const std::string &what) {
  const size_t elem = outType == LOPPER_QTYPE_F32 ? 4 : 1;
  std::vector<bool> written(outs[0].size() / elem, false);
  for (int64_t o : where)
    written[static_cast<size_t>(o)] = true;
  double scale = 1;
  for (double w : want)
    scale = std::fmax(scale, std::fabs(w));
  for (size_t l = 0; l < outs.size(); ++l) {
    const std::vector<uint8_t> &out = outs[l];
    int bad = 0;
    for (size_t e = 0; e < want.size() && bad < 5; ++e) {
      const size_t o = static_cast<size_t>(where[e]);
      if (outType == LOPPER_QTYPE_F32) {
        float got;
        std::memcpy(&got, out.data() + 4 * o, 4);
        if (!(std::fabs(got - want[e]) <= 1e-5 * scale)) {
          ADD_FAILURE() << what << " " << isaName(levels[l]) << " element " << e
                        << ": got " << got << ", want " << want[e];
          ++bad;
        }
      } else {
        const int64_t got =
            outType == LOPPER_QTYPE_U8
                ? static_cast<int64_t>(out[o])
                : static_cast<int64_t>(static_cast<int8_t>(out[o]));
        const int64_t ref = requant(want[e], outScale, outZp, outType);
        if (std::llabs(got - ref) > 1) {
          ADD_FAILURE() << what << " " << isaName(levels[l]) << " element " << e
                        << ": got " << got << ", want " << ref << " ("
                        << want[e] / outScale + outZp << ")";
          ++bad;
        }
      }
    }
    for (size_t i = 0; i < written.size(); ++i)
      if (!written[i])
        for (size_t b = 0; b < elem; ++b)
          if (out[i * elem + b] != 0xa5) {
            ADD_FAILURE() << what << " " << isaName(levels[l])
                          << " wrote outside the output at " << i;
            return;
          }
    if (l == 0)
      continue;
    if (outType != LOPPER_QTYPE_F32) {
      EXPECT_EQ(std::memcmp(out.data(), outs[0].data(), out.size()), 0)
          << what << ": " << isaName(levels[l]) << " differs from "
          << isaName(levels[0]);
      continue;
    }
    for (size_t e = 0; e < want.size(); ++e) {
      const size_t o = static_cast<size_t>(where[e]);
      float a, b;
      std::memcpy(&a, out.data() + 4 * o, 4);
      std::memcpy(&b, outs[0].data() + 4 * o, 4);
      // Relative to max(1, |y|): GELU's negative tail (1 + erf near 0)
      // and hard swish (FMA or not) are ill-conditioned near 0.
      if (!(std::fabs(a - b) <=
            1e-6 * std::fmax(1.0f, std::fmax(std::fabs(a), std::fabs(b))))) {
        ADD_FAILURE() << what << ": " << isaName(levels[l]) << " " << a
                      << " vs " << isaName(levels[0]) << " " << b
                      << " at element " << e;
        break;
      }
    }
  }
}

//===--- MatMul --------------------------------------------------------===//

struct MmCase {
  int64_t batch, M, N, K;
  int aType, outType, act;
  bool bias, residual, threaded;
  int64_t aPad, cPad; // extra row stride of A and C
};

std::string mmName(const MmCase &c) {
  return "mm b" + std::to_string(c.batch) + " " + std::to_string(c.M) + "x" +
         std::to_string(c.N) + "x" + std::to_string(c.K) + " a" +
         std::to_string(c.aType) + " out" + std::to_string(c.outType) + " act" +
         std::to_string(c.act) + (c.bias ? " bias" : "") +
         (c.residual ? " res" : "");
}

// bsr: the block-sparse kernel on W with about `density` of its 4 x 16
// blocks kept.
void runMatmul(const MmCase &c, uint32_t seed, bool bsr = false,
               double density = 1.0) {
  std::mt19937 rng(seed);
  const int64_t aRs = c.K + c.aPad, aBs = c.M * aRs + 3;
  const int64_t ldc = c.N + c.cPad, cBs = c.M * ldc + 5;
  const int64_t aElems = (c.batch - 1) * aBs + (c.M - 1) * aRs + c.K;
  const int64_t cElems = (c.batch - 1) * cBs + (c.M - 1) * ldc + c.N;
  // Operands: full ranges (saturation, -128 weights).
  std::uniform_int_distribution<int> u8(0, 255), s8(-128, 127);
  std::uniform_real_distribution<float> f(-2.0f, 3.0f);
  std::vector<uint8_t> aBytes(static_cast<size_t>(aElems));
  std::vector<float> aF(static_cast<size_t>(aElems));
  for (auto &v : aBytes)
    v = static_cast<uint8_t>(u8(rng));
  for (auto &v : aF)
    v = f(rng);
  std::vector<int8_t> w(static_cast<size_t>(c.K * c.N));
  for (auto &v : w)
    v = static_cast<int8_t>(s8(rng));
  std::vector<float> wScales(static_cast<size_t>(c.N)), bias(c.N);
  for (auto &v : wScales)
    v = std::uniform_real_distribution<float>(0.5e-3f, 2e-3f)(rng);
  for (auto &v : bias)
    v = f(rng);
  std::vector<float> res(static_cast<size_t>(cElems));
  for (auto &v : res)
    v = f(rng);
  const int32_t aZp = c.aType == LOPPER_QIN_U8 ? 131 : -11;
  const float aScale = c.aType == LOPPER_QIN_F32 ? 0.0f : 0.03f;
  // Small output scales: many outputs saturate.
  const float outScale = 0.02f;
  const int32_t outZp = c.outType == LOPPER_QTYPE_U8 ? 100 : -7;
  float fp[LOPPER_QFP_COUNT] = {-0.5f, 1.5f, aScale, outScale};
  if (c.act == LOPPER_ACT_LEAKY_RELU)
    fp[0] = 0.1f;

  if (bsr) {
    std::bernoulli_distribution keep(density);
    for (int64_t q = 0; q * 4 < c.K; ++q)
      for (int64_t p = 0; p * 16 < c.N; ++p)
        if (!keep(rng))
          for (int64_t k = 4 * q; k < c.K && k < 4 * q + 4; ++k)
            for (int64_t j = 16 * p; j < c.N && j < 16 * p + 16; ++j)
              w[static_cast<size_t>(j * c.K + k)] = 0;
  }
  // K x N with a column stride: w(k, j) = w[j*K + k] (transposed source).
  const int64_t packedSize =
      bsr ? lopper_pack_matmul_bsr_s8_size(c.K, c.N, w.data(), 1, c.K)
          : lopper_pack_matmul_b_s8_size(c.K, c.N);
  EXPECT_EQ(packedSize % 64, 0);
  Blob packed(packedSize + 64);
  std::memset(packed.p, 0x5a, static_cast<size_t>(packedSize + 64));
  if (bsr)
    lopper_pack_matmul_bsr_s8(c.K, c.N, w.data(), 1, c.K, packed.p);
  else
    lopper_pack_matmul_b_s8(c.K, c.N, w.data(), 1, c.K, packed.p);
  for (int64_t i = packedSize; i < packedSize + 64; ++i)
    ASSERT_EQ(packed.p[i], 0x5a) << "packing wrote past its size";

  // The reference.
  std::vector<double> want;
  std::vector<int64_t> where;
  for (int64_t b = 0; b < c.batch; ++b) {
    std::vector<int64_t> qa;
    float dScale = aScale;
    int32_t dZp = aZp;
    if (c.aType == LOPPER_QIN_F32) {
      std::vector<float> mat;
      for (int64_t i = 0; i < c.M; ++i)
        for (int64_t k = 0; k < c.K; ++k)
          mat.push_back(aF[static_cast<size_t>(b * aBs + i * aRs + k)]);
      refDynamic(mat, &dScale, &dZp, qa);
    }
    for (int64_t i = 0; i < c.M; ++i)
      for (int64_t j = 0; j < c.N; ++j) {
        int64_t acc = 0;
        for (int64_t k = 0; k < c.K; ++k) {
          const size_t ai = static_cast<size_t>(b * aBs + i * aRs + k);
          int64_t av = c.aType == LOPPER_QIN_U8 ? aBytes[ai]
                       : c.aType == LOPPER_QIN_I8
                           ? static_cast<int8_t>(aBytes[ai])
                           : qa[static_cast<size_t>(i * c.K + k)];
          acc += (av - dZp) * w[static_cast<size_t>(j * c.K + k)];
        }
        const int64_t o = b * cBs + i * ldc + j;
        double y = static_cast<double>(dScale) * wScales[j] * acc;
        if (c.bias)
          y += bias[j];
        if (c.residual)
          y += res[static_cast<size_t>(o)];
        want.push_back(refAct(y, c.act, fp[0], fp[1]));
        where.push_back(o);
      }
  }

  std::vector<int64_t> ip(LOPPER_QMM_IP_COUNT);
  ip[LOPPER_QMM_IP_BATCH] = c.batch;
  ip[LOPPER_QMM_IP_M] = c.M;
  ip[LOPPER_QMM_IP_N] = c.N;
  ip[LOPPER_QMM_IP_K] = c.K;
  ip[LOPPER_QMM_IP_A_BS] = aBs;
  ip[LOPPER_QMM_IP_A_RS] = aRs;
  ip[LOPPER_QMM_IP_A_TYPE] = c.aType;
  ip[LOPPER_QMM_IP_A_ZP] = aZp;
  ip[LOPPER_QMM_IP_R_BS] = cBs;
  ip[LOPPER_QMM_IP_C_BS] = cBs;
  ip[LOPPER_QMM_IP_LDC] = ldc;
  ip[LOPPER_QMM_IP_ACT] = c.act;
  ip[LOPPER_QMM_IP_OUT_TYPE] = c.outType;
  ip[LOPPER_QMM_IP_OUT_ZP] = outZp;
  const void *a = c.aType == LOPPER_QIN_F32
                      ? static_cast<const void *>(aF.data())
                      : static_cast<const void *>(aBytes.data());
  const size_t elem = c.outType == LOPPER_QTYPE_F32 ? 4 : 1;
  std::vector<Isa> levels;
  auto outs = onEveryIsa(
      static_cast<size_t>(cElems) * elem,
      [&](void *out) {
        (bsr ? lopper_k_matmul_bsr_q8_v1 : lopper_k_matmul_q8_v1)(
            c.threaded ? kThreaded : nullptr, ip.data(), fp, a, packed.p,
            wScales.data(), c.bias ? bias.data() : nullptr,
            c.residual ? res.data() : nullptr, out);
      },
      &levels);
  checkOutputs(outs, levels, want, where, c.outType, outScale, outZp,
               (bsr ? "bsr " : "") + mmName(c));
}

const int kActs[] = {LOPPER_ACT_NONE,       LOPPER_ACT_RELU,    LOPPER_ACT_CLIP,
                     LOPPER_ACT_LEAKY_RELU, LOPPER_ACT_SIGMOID, LOPPER_ACT_GELU,
                     LOPPER_ACT_HARD_SWISH, LOPPER_ACT_TANH};

TEST(QuantMatmul, SizesTailsAndTypes) {
  // M, N, K not multiples of the 8 x 48 tile or of 4 (K).
  const int64_t sizes[][3] = {{1, 1, 1},     {3, 17, 5},    {8, 16, 4},
                              {9, 47, 13},   {17, 49, 35},  {2, 97, 3},
                              {33, 100, 64}, {13, 33, 130}, {4, 20, 0}};
  uint32_t seed = 1;
  for (const auto &s : sizes)
    for (int aType = 0; aType < 3; ++aType)
      for (int outType = 0; outType < 3; ++outType) {
        MmCase c = {1,    s[0],  s[1],  s[2], aType, outType, LOPPER_ACT_NONE,
                    true, false, false, 0,    0};
        runMatmul(c, seed++);
      }
}

TEST(QuantMatmul, ActivationsBiasResidual) {
  uint32_t seed = 100;
  for (int act : kActs)
    for (int outType = 0; outType < 3; ++outType)
      for (int br = 0; br < 4; ++br) {
        MmCase c = {1,
                    11,
                    37,
                    21,
                    LOPPER_QIN_U8,
                    outType,
                    act,
                    (br & 1) != 0,
                    (br & 2) != 0,
                    false,
                    0,
                    0};
        runMatmul(c, seed++);
      }
}

TEST(QuantMatmul, BatchesStridesAndThreads) {
  uint32_t seed = 200;
  for (int aType = 0; aType < 3; ++aType)
    for (int outType = 0; outType < 3; ++outType) {
      MmCase c = {3,    19,   70,   45, aType, outType, LOPPER_ACT_RELU,
                  true, true, true, 7,  9};
      runMatmul(c, seed++);
    }
  // Many tasks: blocks split in both directions.
  MmCase big = {2,
                300,
                600,
                260,
                LOPPER_QIN_I8,
                LOPPER_QTYPE_U8,
                LOPPER_ACT_CLIP,
                true,
                true,
                true,
                0,
                3};
  runMatmul(big, 300);
  MmCase bigF = {1,
                 270,
                 520,
                 129,
                 LOPPER_QIN_F32,
                 LOPPER_QTYPE_F32,
                 LOPPER_ACT_GELU,
                 true,
                 false,
                 true,
                 1,
                 0};
  runMatmul(bigF, 301);
}

TEST(QuantMatmul, BlockSparse) {
  const int64_t sizes[][3] = {{1, 1, 1},    {3, 17, 5},    {9, 47, 13},
                              {17, 49, 35}, {1, 100, 130}, {33, 70, 64}};
  uint32_t seed = 400;
  for (const auto &s : sizes)
    for (double density : {0.0, 0.2, 1.0})
      for (int aType = 0; aType < 3; ++aType) {
        MmCase c = {1,
                    s[0],
                    s[1],
                    s[2],
                    aType,
                    (aType + 1) % 3,
                    LOPPER_ACT_RELU,
                    true,
                    aType == 2,
                    false,
                    0,
                    0};
        runMatmul(c, seed++, true, density);
      }
  MmCase big = {2,
                130,
                300,
                260,
                LOPPER_QIN_U8,
                LOPPER_QTYPE_I8,
                LOPPER_ACT_NONE,
                true,
                true,
                true,
                5,
                3};
  runMatmul(big, 450, true, 0.1);
}

// Dynamic quantization of an all-zero A: scale 1, zero point 0 (as
// onnxruntime; ONNX's formula would divide by 0).
TEST(QuantMatmul, DynamicAllZero) {
  std::vector<float> a(6 * 10, 0.0f);
  std::vector<int8_t> w(10 * 5, 3);
  Blob packed(lopper_pack_matmul_b_s8_size(10, 5));
  lopper_pack_matmul_b_s8(10, 5, w.data(), 5, 1, packed.p);
  std::vector<float> scales(5, 1.0f), bias = {1, 2, 3, 4, 5};
  std::vector<int64_t> ip(LOPPER_QMM_IP_COUNT);
  ip[LOPPER_QMM_IP_BATCH] = 1;
  ip[LOPPER_QMM_IP_M] = 6;
  ip[LOPPER_QMM_IP_N] = 5;
  ip[LOPPER_QMM_IP_K] = 10;
  ip[LOPPER_QMM_IP_A_RS] = 10;
  ip[LOPPER_QMM_IP_A_TYPE] = LOPPER_QIN_F32;
  ip[LOPPER_QMM_IP_LDC] = 5;
  float fp[LOPPER_QFP_COUNT] = {0, 0, 0, 1};
  std::vector<float> c(30, -1.0f);
  lopper_k_matmul_q8_v1(nullptr, ip.data(), fp, a.data(), packed.p,
                        scales.data(), bias.data(), nullptr, c.data());
  for (int i = 0; i < 30; ++i)
    EXPECT_EQ(c[static_cast<size_t>(i)], bias[static_cast<size_t>(i % 5)]);
}

//===--- Conv ----------------------------------------------------------===//

struct QConvShape {
  int64_t C, H, W, M, KH, KW, sh, sw, pt, pl, pb, pr, dh, dw, G;
};

void runConv(const QConvShape &s, int64_t N, int xType, int outType, int act,
             bool withBias, bool withRes, bool threaded, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int64_t> ip(LOPPER_QCONV_IP_COUNT);
  const int64_t OH = (s.H + s.pt + s.pb - s.dh * (s.KH - 1) - 1) / s.sh + 1;
  const int64_t OW = (s.W + s.pl + s.pr - s.dw * (s.KW - 1) - 1) / s.sw + 1;
  ip[LOPPER_CONV_IP_N] = N;
  ip[LOPPER_CONV_IP_C] = s.C;
  ip[LOPPER_CONV_IP_H] = s.H;
  ip[LOPPER_CONV_IP_W] = s.W;
  ip[LOPPER_CONV_IP_M] = s.M;
  ip[LOPPER_CONV_IP_OH] = OH;
  ip[LOPPER_CONV_IP_OW] = OW;
  ip[LOPPER_CONV_IP_KH] = s.KH;
  ip[LOPPER_CONV_IP_KW] = s.KW;
  ip[LOPPER_CONV_IP_STRIDE_H] = s.sh;
  ip[LOPPER_CONV_IP_STRIDE_W] = s.sw;
  ip[LOPPER_CONV_IP_PAD_TOP] = s.pt;
  ip[LOPPER_CONV_IP_PAD_LEFT] = s.pl;
  ip[LOPPER_CONV_IP_PAD_BOTTOM] = s.pb;
  ip[LOPPER_CONV_IP_PAD_RIGHT] = s.pr;
  ip[LOPPER_CONV_IP_DIL_H] = s.dh;
  ip[LOPPER_CONV_IP_DIL_W] = s.dw;
  ip[LOPPER_CONV_IP_GROUP] = s.G;
  ip[LOPPER_CONV_IP_ACT] = act;
  const int32_t xZp = xType == LOPPER_QIN_U8 ? 121 : 9;
  const int32_t outZp = outType == LOPPER_QTYPE_U8 ? 90 : -3;
  ip[LOPPER_QCONV_IP_X_TYPE] = xType;
  ip[LOPPER_QCONV_IP_X_ZP] = xZp;
  ip[LOPPER_QCONV_IP_OUT_TYPE] = outType;
  ip[LOPPER_QCONV_IP_OUT_ZP] = outZp;
  const float xScale = 0.04f, outScale = 0.03f;
  float fp[LOPPER_QFP_COUNT] = {-0.5f, 1.5f, xScale, outScale};
  if (act == LOPPER_ACT_LEAKY_RELU)
    fp[0] = 0.1f;

  const int64_t xElems = N * s.C * s.H * s.W;
  const int64_t yElems = N * s.M * OH * OW;
  const int64_t Cg = s.C / s.G, Mg = s.M / s.G;
  std::uniform_int_distribution<int> u8(0, 255), s8(-128, 127);
  std::uniform_real_distribution<float> f(-2.0f, 2.5f);
  std::vector<uint8_t> xb(static_cast<size_t>(xElems));
  std::vector<float> xf(static_cast<size_t>(xElems));
  for (auto &v : xb)
    v = static_cast<uint8_t>(u8(rng));
  for (auto &v : xf)
    v = f(rng);
  std::vector<int8_t> w(static_cast<size_t>(s.M * Cg * s.KH * s.KW));
  for (auto &v : w)
    v = static_cast<int8_t>(s8(rng));
  std::vector<float> wScales(static_cast<size_t>(s.M)), bias(s.M);
  for (auto &v : wScales)
    v = std::uniform_real_distribution<float>(0.5e-3f, 2e-3f)(rng);
  for (auto &v : bias)
    v = f(rng);
  std::vector<float> res(static_cast<size_t>(yElems));
  for (auto &v : res)
    v = f(rng);

  // Reference.
  std::vector<int64_t> xq(static_cast<size_t>(xElems));
  float dScale = xScale;
  int32_t dZp = xZp;
  if (xType == LOPPER_QIN_F32)
    refDynamic(xf, &dScale, &dZp, xq);
  else
    for (size_t i = 0; i < xq.size(); ++i)
      xq[i] = xType == LOPPER_QIN_U8 ? xb[i] : static_cast<int8_t>(xb[i]);
  std::vector<double> want;
  std::vector<int64_t> where;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < s.M; ++m) {
      const int64_t g = m / Mg;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          int64_t acc = 0;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < s.KH; ++kh)
              for (int64_t kw = 0; kw < s.KW; ++kw) {
                const int64_t ih = oh * s.sh - s.pt + kh * s.dh;
                const int64_t iw = ow * s.sw - s.pl + kw * s.dw;
                if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W)
                  continue; // the zero point: real 0
                acc += (xq[static_cast<size_t>(
                            ((n * s.C + g * Cg + c) * s.H + ih) * s.W + iw)] -
                        dZp) *
                       w[static_cast<size_t>(((m * Cg + c) * s.KH + kh) * s.KW +
                                             kw)];
              }
          const int64_t o = ((n * s.M + m) * OH + oh) * OW + ow;
          double y = static_cast<double>(dScale) * wScales[m] * acc;
          if (withBias)
            y += bias[m];
          if (withRes)
            y += res[static_cast<size_t>(o)];
          want.push_back(refAct(y, act, fp[0], fp[1]));
          where.push_back(o);
        }
    }

  const int64_t size = lopper_pack_conv2d_s8_size(ip.data());
  ASSERT_EQ(size % 64, 0);
  Blob packed(size + 64);
  std::memset(packed.p, 0x5a, static_cast<size_t>(size + 64));
  lopper_pack_conv2d_s8(ip.data(), w.data(), packed.p);
  for (int64_t i = size; i < size + 64; ++i)
    ASSERT_EQ(packed.p[i], 0x5a) << "packing wrote past its size";
  const void *x = xType == LOPPER_QIN_F32
                      ? static_cast<const void *>(xf.data())
                      : static_cast<const void *>(xb.data());
  const size_t elem = outType == LOPPER_QTYPE_F32 ? 4 : 1;
  std::vector<Isa> levels;
  auto outs = onEveryIsa(
      static_cast<size_t>(yElems) * elem,
      [&](void *out) {
        lopper_k_conv2d_q8_v1(threaded ? kThreaded : nullptr, ip.data(), fp, x,
                              packed.p, wScales.data(),
                              withBias ? bias.data() : nullptr,
                              withRes ? res.data() : nullptr, out);
      },
      &levels);
  const std::string what =
      "conv C" + std::to_string(s.C) + " " + std::to_string(s.H) + "x" +
      std::to_string(s.W) + " M" + std::to_string(s.M) + " k" +
      std::to_string(s.KH) + "x" + std::to_string(s.KW) + " s" +
      std::to_string(s.sh) + "," + std::to_string(s.sw) + " G" +
      std::to_string(s.G) + " x" + std::to_string(xType) + " out" +
      std::to_string(outType) + " act" + std::to_string(act);
  checkOutputs(outs, levels, want, where, outType, outScale, outZp, what);
}

// C, H, W, M, KH, KW, sh, sw, pt, pl, pb, pr, dh, dw, G
const QConvShape kQShapes[] = {
    {5, 7, 9, 13, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},     // 1x1 (GEMM)
    {16, 10, 10, 24, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1},  // 1x1 stride 2
    {6, 11, 10, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    // 3x3 padded
    {7, 13, 12, 17, 3, 3, 2, 2, 1, 0, 1, 2, 1, 1, 1},   // asymmetric pad
    {4, 12, 11, 8, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1},    // dilation
    {8, 9, 9, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4},     // groups
    {3, 20, 19, 16, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1},   // 7x7 stem
    {32, 14, 14, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // several blocks
    {10, 12, 13, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 10}, // depthwise
    {6, 11, 12, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 6},   // dw x2, stride 2
    {5, 10, 10, 5, 3, 3, 1, 2, 2, 2, 2, 2, 2, 2, 5},    // dw dilated
    {3, 9, 70, 5, 1, 5, 1, 3, 0, 4, 0, 1, 1, 1, 1},     // wide, stride 3
};

TEST(QuantConv, ShapesAndTypes) {
  uint32_t seed = 1000;
  for (const QConvShape &s : kQShapes)
    for (int xType = 0; xType < 3; ++xType)
      for (int outType = 0; outType < 3; ++outType)
        runConv(s, 2, xType, outType, LOPPER_ACT_NONE, true, false,
                seed % 2 == 0, seed),
            ++seed;
}

TEST(QuantConv, ActivationsBiasResidual) {
  uint32_t seed = 2000;
  const QConvShape shapes[] = {kQShapes[2], kQShapes[8]};
  for (const QConvShape &s : shapes)
    for (int act : kActs)
      for (int outType = 0; outType < 3; ++outType)
        runConv(s, 1, LOPPER_QIN_I8, outType, act, act % 2 == 0, act % 3 != 0,
                true, seed++);
}

TEST(QuantConv, ResNetLikeThreaded) {
  // 3x3 256 on 14x14 and 1x1 64->256 on 28x28 (smaller than ResNet-50's
  // 56x56 to keep the reference quick).
  const QConvShape s1 = {64, 14, 14, 72, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  const QConvShape s2 = {64, 28, 28, 256, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1};
  runConv(s1, 1, LOPPER_QIN_U8, LOPPER_QTYPE_U8, LOPPER_ACT_RELU, true, true,
          true, 3000);
  runConv(s2, 1, LOPPER_QIN_U8, LOPPER_QTYPE_I8, LOPPER_ACT_NONE, true, true,
          true, 3001);
  // Deep layer: the channels split into blocks that share one im2col per
  // (image, group) pair.
  const QConvShape s3 = {128, 7, 7, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  runConv(s3, 2, LOPPER_QIN_I8, LOPPER_QTYPE_U8, LOPPER_ACT_RELU, true, false,
          true, 3002);
  const QConvShape s4 = {64, 7, 7, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2};
  runConv(s4, 2, LOPPER_QIN_F32, LOPPER_QTYPE_F32, LOPPER_ACT_NONE, true, true,
          true, 3003);
}

//===--- Packing and dispatch ------------------------------------------===//

TEST(QuantPack, MatmulLayout) {
  // K = 6, N = 18: two panels, K padded to 8.
  const int64_t K = 6, N = 18;
  std::vector<int8_t> w(K * N);
  for (int64_t i = 0; i < K * N; ++i)
    w[static_cast<size_t>(i)] = static_cast<int8_t>(i % 251 - 120);
  const int64_t size = lopper_pack_matmul_b_s8_size(K, N);
  EXPECT_EQ(size, 2 * 64 * (1 + 2));
  Blob out(size);
  lopper_pack_matmul_b_s8(K, N, w.data(), N, 1, out.p);
  const int64_t panel = 64 * 3;
  for (int64_t j = 0; j < 32; ++j) {
    int32_t sum, want = 0;
    std::memcpy(&sum, out.p + j / 16 * panel + j % 16 * 4, 4);
    for (int64_t k = 0; k < 8; ++k) {
      const int8_t got =
          out.p[j / 16 * panel + 64 + ((k / 4) * 16 + j % 16) * 4 + k % 4];
      const int8_t ref =
          k < K && j < N ? w[static_cast<size_t>(k * N + j)] : int8_t(0);
      EXPECT_EQ(got, ref) << "k " << k << " j " << j;
      want += ref;
    }
    EXPECT_EQ(sum, want) << "column sum " << j;
  }
}

TEST(QuantPack, ConvSizes) {
  std::vector<int64_t> ip(LOPPER_QCONV_IP_COUNT, 1);
  ip[LOPPER_CONV_IP_C] = 6;
  ip[LOPPER_CONV_IP_M] = 9;
  ip[LOPPER_CONV_IP_KH] = 3;
  ip[LOPPER_CONV_IP_KW] = 3;
  ip[LOPPER_CONV_IP_GROUP] = 3; // Mg = 3, Kg = 18: 1 panel of 64 + 5*32
  EXPECT_EQ(lopper_pack_conv2d_s8_size(ip.data()), 3 * (64 + 192));
  ip[LOPPER_CONV_IP_GROUP] = 6; // not depthwise: C/G = 1 but M = 9
  ip[LOPPER_CONV_IP_C] = 6;
  EXPECT_EQ(lopper_pack_conv2d_s8_size(ip.data()), 128); // 81 bytes
}

// The requantizing store: halfway cases round to even, saturation at both
// ends, huge values; the same bytes on every level.
TEST(QuantDispatch, QuantizeSameBitsOnEveryLevel) {
  std::vector<float> v = {0.5f,   1.5f,   2.5f,    -0.5f,   -1.5f,  -2.5f,
                          127.5f, 128.5f, -128.5f, 254.5f,  255.5f, 1e20f,
                          -1e20f, 0.0f,   -0.0f,   3.49999f};
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> d(-400.0f, 400.0f);
  for (int i = 0; i < 77; ++i)
    v.push_back(d(rng));
  for (int outType : {LOPPER_QTYPE_U8, LOPPER_QTYPE_I8})
    for (int32_t zp : {0, 5, -3}) {
      std::vector<uint8_t> first;
      for (Isa isa : kIsas) {
        if (isa > detectedIsa())
          continue;
        std::vector<uint8_t> out(v.size());
        q8KernelsFor(isa).quantize(v.data(), static_cast<int64_t>(v.size()),
                                   1.0f, zp, outType, out.data());
        for (size_t i = 0; i < v.size(); ++i) {
          const int64_t got = outType == LOPPER_QTYPE_U8
                                  ? int64_t(out[i])
                                  : int64_t(static_cast<int8_t>(out[i]));
          EXPECT_EQ(got, requant(v[i], 1.0f, zp, outType))
              << isaName(isa) << " " << v[i] << " zp " << zp;
        }
        if (first.empty())
          first = out;
        EXPECT_EQ(out, first) << isaName(isa);
      }
    }
}

TEST(QuantDispatch, Levels) {
  EXPECT_STREQ(q8KernelsFor(IsaScalar).name, "scalar");
  if (detectedIsa() >= IsaAvx2) {
    EXPECT_STREQ(q8KernelsFor(IsaAvx2).name, "avx2");
  }
  if (detectedIsa() >= IsaAvx512) {
    EXPECT_STREQ(q8KernelsFor(IsaAvx512).name,
                 cpuHasVnni() ? "avx512-vnni" : "avx2");
  }
}

} // namespace
