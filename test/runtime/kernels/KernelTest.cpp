// Tests of the CPU kernels (lopper_k_conv2d_f32_v1, lopper_k_matmul_f32_v1)
// and the weight packing against a naive double-precision reference, on
// every ISA level this machine has. DISABLED_Bench* print GFLOP/s.
#include "cpu_internal.h"
#include "kernels.h"

#include "lopper/artifact_abi.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace lopper::cpu;

namespace {

// Non-null rt: the kernels then split work into many tasks (the test
// lopper_rt_parallel_for still runs them serially). nullptr: one task.
int fakeRuntime;
void *const kThreaded = &fakeRuntime;

const char *const kActNames[] = {
    "none", "relu",      "clip",       "sigmoid",    "silu",
    "gelu", "gelu_tanh", "hard_swish", "leaky_relu", "tanh"};
constexpr int kActCount = 10;
constexpr float kAlphaClip = -0.5f, kBetaClip = 0.7f, kAlphaLeaky = 0.1f;

void actParams(int act, float fp[2]) {
  fp[0] = act == LOPPER_ACT_CLIP ? kAlphaClip : kAlphaLeaky;
  fp[1] = act == LOPPER_ACT_CLIP ? kBetaClip : 0.0f;
}

double refAct(double x, int act, const float fp[2]) {
  switch (act) {
  case LOPPER_ACT_RELU:
    return x > 0 ? x : 0;
  case LOPPER_ACT_CLIP:
    return std::fmin(std::fmax(x, fp[0]), fp[1]);
  case LOPPER_ACT_SIGMOID:
    return 1 / (1 + std::exp(-x));
  case LOPPER_ACT_SILU:
    return x / (1 + std::exp(-x));
  case LOPPER_ACT_GELU:
    return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  case LOPPER_ACT_GELU_TANH:
    return 0.5 * x *
           (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
  case LOPPER_ACT_HARD_SWISH:
    return x * std::fmin(std::fmax(x / 6 + 0.5, 0.0), 1.0);
  case LOPPER_ACT_LEAKY_RELU:
    return x >= 0 ? x : fp[0] * x;
  case LOPPER_ACT_TANH:
    return std::tanh(x);
  default:
    return x;
  }
}

std::vector<float> randomVector(size_t n, std::mt19937 &rng, float scale) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

// |got - want| <= 1e-5 * max(1, max |want|) everywhere.
::testing::AssertionResult closeTo(const std::vector<float> &got,
                                   const std::vector<double> &want) {
  double scale = 1.0;
  for (double w : want)
    scale = std::fmax(scale, std::fabs(w));
  const double tol = 1e-5 * scale;
  for (size_t i = 0; i < want.size(); ++i) {
    double err = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(err <= tol))
      return ::testing::AssertionFailure()
             << "element " << i << ": got " << got[i] << ", want " << want[i]
             << " (err " << err << ", tol " << tol << ")";
  }
  return ::testing::AssertionSuccess();
}

const Isa kAllIsas[] = {IsaScalar, IsaAvx2, IsaAvx512};

// Runs the test body on one ISA level (skipped when the CPU lacks it) and
// restores the level afterwards.
class IsaTest : public ::testing::TestWithParam<Isa> {
protected:
  void SetUp() override {
    saved_ = activeIsa();
    if (GetParam() > detectedIsa())
      GTEST_SKIP() << isaName(GetParam()) << " not supported by this CPU";
    ASSERT_EQ(setIsaForTesting(GetParam()), GetParam());
  }
  void TearDown() override { setIsaForTesting(saved_); }
  Isa saved_ = IsaScalar;
};

std::string isaParamName(const ::testing::TestParamInfo<Isa> &info) {
  return isaName(info.param);
}

//===--- Conv ----------------------------------------------------------===//

struct ConvShape {
  int64_t C, H, W, M, KH, KW, sh, sw, pt, pl, pb, pr, dh, dw, G;
};

std::vector<int64_t> convIp(const ConvShape &s, int64_t N, int act) {
  std::vector<int64_t> ip(LOPPER_CONV_IP_COUNT);
  ip[LOPPER_CONV_IP_N] = N;
  ip[LOPPER_CONV_IP_C] = s.C;
  ip[LOPPER_CONV_IP_H] = s.H;
  ip[LOPPER_CONV_IP_W] = s.W;
  ip[LOPPER_CONV_IP_M] = s.M;
  ip[LOPPER_CONV_IP_OH] =
      (s.H + s.pt + s.pb - s.dh * (s.KH - 1) - 1) / s.sh + 1;
  ip[LOPPER_CONV_IP_OW] =
      (s.W + s.pl + s.pr - s.dw * (s.KW - 1) - 1) / s.sw + 1;
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
  return ip;
}

std::vector<double> refConv(const std::vector<int64_t> &ip,
                            const std::vector<float> &x,
                            const std::vector<float> &w, const float *bias,
                            const float *res, const float fp[2]) {
  const int64_t N = ip[LOPPER_CONV_IP_N], C = ip[LOPPER_CONV_IP_C],
                H = ip[LOPPER_CONV_IP_H], W = ip[LOPPER_CONV_IP_W],
                M = ip[LOPPER_CONV_IP_M], OH = ip[LOPPER_CONV_IP_OH],
                OW = ip[LOPPER_CONV_IP_OW], KH = ip[LOPPER_CONV_IP_KH],
                KW = ip[LOPPER_CONV_IP_KW], sh = ip[LOPPER_CONV_IP_STRIDE_H],
                sw = ip[LOPPER_CONV_IP_STRIDE_W],
                pt = ip[LOPPER_CONV_IP_PAD_TOP],
                pl = ip[LOPPER_CONV_IP_PAD_LEFT], dh = ip[LOPPER_CONV_IP_DIL_H],
                dw = ip[LOPPER_CONV_IP_DIL_W], G = ip[LOPPER_CONV_IP_GROUP];
  const int act = static_cast<int>(ip[LOPPER_CONV_IP_ACT]);
  const int64_t Cg = C / G, Mg = M / G;
  std::vector<double> y(static_cast<size_t>(N * M * OH * OW));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m) {
      const int64_t g = m / Mg;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = 0;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                int64_t ih = oh * sh - pt + kh * dh;
                int64_t iw = ow * sw - pl + kw * dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                  continue;
                acc += static_cast<double>(
                           x[((n * C + g * Cg + c) * H + ih) * W + iw]) *
                       w[((m * Cg + c) * KH + kh) * KW + kw];
              }
          const size_t o =
              static_cast<size_t>(((n * M + m) * OH + oh) * OW + ow);
          if (bias)
            acc += bias[m];
          if (res)
            acc += res[o];
          y[o] = refAct(acc, act, fp);
        }
    }
  return y;
}

// Packs with a guard zone on both sides and checks that exactly the
// reported size was written.
std::vector<float> packConvChecked(const std::vector<int64_t> &ip,
                                   const std::vector<float> &w) {
  const int64_t size = lopper_pack_conv2d_f32_size(ip.data());
  const size_t guard = 64;
  const float sentinel = -12345.5f;
  std::vector<float> buf(static_cast<size_t>(size) + 2 * guard, sentinel);
  // The kernels expect 64-byte aligned blobs, as the compiler stores them.
  float *aligned = nullptr;
  EXPECT_EQ(posix_memalign(reinterpret_cast<void **>(&aligned), 64,
                           buf.size() * sizeof(float)),
            0);
  std::copy(buf.begin(), buf.end(), aligned);
  lopper_pack_conv2d_f32(ip.data(), w.data(), aligned + guard);
  for (size_t i = 0; i < guard; ++i) {
    EXPECT_EQ(aligned[i], sentinel) << "write before the packed blob";
    EXPECT_EQ(aligned[guard + static_cast<size_t>(size) + i], sentinel)
        << "write after the packed blob (size " << size << ")";
  }
  size_t unwritten = 0;
  for (int64_t i = 0; i < size; ++i)
    unwritten += aligned[guard + static_cast<size_t>(i)] == sentinel;
  EXPECT_EQ(unwritten, 0u) << "packed size larger than what is written";
  std::vector<float> out(aligned + guard, aligned + guard + size);
  std::free(aligned);
  return out;
}

// Aligned copy of a packed blob (the kernels read it 64-byte aligned).
struct AlignedBuf {
  float *p = nullptr;
  explicit AlignedBuf(const std::vector<float> &v) {
    size_t n = v.size() ? v.size() : 1;
    if (posix_memalign(reinterpret_cast<void **>(&p), 64, n * sizeof(float)))
      std::abort();
    std::copy(v.begin(), v.end(), p);
  }
  ~AlignedBuf() { std::free(p); }
  AlignedBuf(const AlignedBuf &) = delete;
  AlignedBuf &operator=(const AlignedBuf &) = delete;
};

// inPlace: the residual is the output buffer itself (y holds it on entry).
void checkConv(const ConvShape &s, int64_t N, int act, bool withBias,
               bool withRes, void *rt, unsigned seed, bool inPlace = false) {
  SCOPED_TRACE(::testing::Message()
               << "conv N=" << N << " C=" << s.C << " H=" << s.H << " W=" << s.W
               << " M=" << s.M << " K=" << s.KH << "x" << s.KW << " s=" << s.sh
               << "," << s.sw << " pads=" << s.pt << "," << s.pl << "," << s.pb
               << "," << s.pr << " d=" << s.dh << "," << s.dw << " G=" << s.G
               << " act=" << kActNames[act] << " bias=" << withBias
               << " res=" << withRes << " threaded=" << (rt != nullptr));
  std::mt19937 rng(seed);
  std::vector<int64_t> ip = convIp(s, N, act);
  const int64_t OH = ip[LOPPER_CONV_IP_OH], OW = ip[LOPPER_CONV_IP_OW];
  ASSERT_GT(OH, 0);
  ASSERT_GT(OW, 0);
  const int64_t K = s.C / s.G * s.KH * s.KW;
  std::vector<float> x =
      randomVector(static_cast<size_t>(N * s.C * s.H * s.W), rng, 1.0f);
  std::vector<float> w =
      randomVector(static_cast<size_t>(s.M * K), rng,
                   static_cast<float>(2.0 / std::sqrt(static_cast<double>(K))));
  std::vector<float> bias = randomVector(static_cast<size_t>(s.M), rng, 0.5f);
  const size_t ysize = static_cast<size_t>(N * s.M * OH * OW);
  std::vector<float> res = randomVector(ysize, rng, 1.0f);
  float fp[2];
  actParams(act, fp);
  std::vector<float> packed = packConvChecked(ip, w);
  AlignedBuf wp(packed);
  std::vector<float> y(ysize, std::nanf(""));
  if (withRes && inPlace)
    y = res;
  lopper_k_conv2d_f32_v1(
      rt, ip.data(), fp, x.data(), wp.p, withBias ? bias.data() : nullptr,
      withRes ? (inPlace ? y.data() : res.data()) : nullptr, y.data());
  std::vector<double> want = refConv(ip, x, w, withBias ? bias.data() : nullptr,
                                     withRes ? res.data() : nullptr, fp);
  EXPECT_TRUE(closeTo(y, want));
}

// C, H, W, M, KH, KW, sh, sw, pt, pl, pb, pr, dh, dw, G
const ConvShape kConvShapes[] = {
    {16, 7, 9, 24, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},    // 1x1 (x read in place)
    {3, 5, 6, 13, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},     // 1x1, C=3, M=13
    {16, 9, 9, 20, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1},    // 1x1 stride 2
    {8, 10, 10, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // 3x3 pad 1
    {5, 11, 9, 13, 3, 3, 2, 2, 0, 1, 1, 0, 1, 1, 1},    // 3x3 s2 asym pads
    {6, 12, 12, 10, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1},   // dilation 2
    {8, 8, 7, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},     // groups 2
    {16, 9, 9, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 4},     // groups 4, s2
    {3, 23, 23, 16, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1},   // 7x7 s2 pad 3
    {8, 3, 3, 13, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1},     // output 1x1
    {64, 12, 12, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // K=576: K blocks
    {4, 40, 40, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    // P=1600: pixel blocks
    {8, 5, 5, 300, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},    // M=300: M blocks
    {6, 7, 13, 11, 1, 5, 1, 2, 0, 2, 0, 1, 1, 1, 1},    // 1x5, strides 1,2
    {12, 17, 17, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 12}, // depthwise 3x3
    {7, 15, 15, 7, 3, 3, 2, 2, 1, 0, 0, 1, 1, 1, 7},    // depthwise s2 asym
    {5, 14, 16, 5, 5, 5, 1, 1, 4, 4, 4, 4, 2, 2, 5},    // depthwise 5x5 d2
    {4, 9, 11, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4},     // depthwise mult 2
    {6, 10, 70, 6, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 6},    // depthwise no pad
    {6, 10, 21, 6, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 6},    // depthwise no pad s2
    {3, 9, 9, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 3},      // depthwise s3
    {1, 9, 10, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},     // C=1: direct path
    {9, 3, 3, 9, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 9},      // depthwise out 1x1
    // Few pixels (P = 49, 25, 16): transposed tiles where K is large.
    {32, 7, 7, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // P=49, M=20
    {32, 7, 7, 44, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // 6 row panels, 2 K blks
    {32, 5, 5, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},   // P=25, groups 2
    {256, 5, 5, 24, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},  // 1x1, P=25, K=256
    {32, 14, 14, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1}, // s2 down to 7x7
    {4, 4, 4, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    // P=16: half a panel
    {8, 8, 8, 264, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // M=264: B packed once
    // Input planes: strides, dilation, padding.
    {4, 11, 13, 6, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1},  // stride 3
    {6, 12, 12, 10, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1}, // dilation 2, stride 2
    {5, 6, 7, 9, 3, 3, 1, 1, 0, 0, 2, 2, 1, 1, 1},    // pads bottom/right only
    {4, 12, 40, 8, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1},  // no padding: x itself
    {3, 6, 6, 5, 3, 3, 1, 1, 4, 3, 4, 3, 1, 1, 1},    // pads wider than 3x3
};

using ConvTest = IsaTest;

TEST_P(ConvTest, Shapes) {
  unsigned seed = 1;
  for (const ConvShape &s : kConvShapes)
    for (int64_t N : {1, 3})
      for (int variant = 0; variant < 4; ++variant) {
        const bool withBias = variant & 1, withRes = variant & 2;
        const int act = static_cast<int>(seed % kActCount);
        checkConv(s, N, act, withBias, withRes,
                  variant == 1 ? nullptr : kThreaded, seed, withRes && N == 3);
        ++seed;
      }
}

// Restores the automatic conv schedule when a test ends.
struct ScopedConvTuning {
  explicit ScopedConvTuning(const ConvTuning &t) { setConvTuningForTesting(t); }
  ~ScopedConvTuning() { setConvTuningForTesting(ConvTuning{0, 0.0, 0}); }
  ScopedConvTuning(const ScopedConvTuning &) = delete;
  ScopedConvTuning &operator=(const ScopedConvTuning &) = delete;
};

// Every GEMM-path shape on each schedule (PerTask, Shared, SharedT), with
// the default task sizes and with tiny ones (many tasks, and one (image,
// group) pair per pass of the shared scratch).
TEST_P(ConvTest, Schedules) {
  const char *const names[] = {"auto", "per-task", "shared", "shared-t"};
  unsigned seed = 5000;
  for (int schedule = 1; schedule <= 3; ++schedule)
    for (bool fine : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "schedule " << names[schedule]
                                        << (fine ? ", tiny tasks" : ""));
      ScopedConvTuning tuning(
          ConvTuning{schedule, fine ? 1e4 : 0.0, fine ? 1 : 0});
      for (const ConvShape &s : kConvShapes) {
        if (s.C == s.G)
          continue; // direct path
        for (int64_t N : {1, 3}) {
          const bool withRes = seed & 2;
          checkConv(s, N, static_cast<int>(seed % kActCount), seed & 1, withRes,
                    seed % 3 == 0 ? nullptr : kThreaded, seed,
                    withRes && (seed & 4));
          ++seed;
        }
      }
    }
}

TEST_P(ConvTest, Activations) {
  const ConvShape gemm = {8, 6, 7, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  const ConvShape dw = {8, 6, 37, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8};
  for (int act = 0; act < kActCount; ++act)
    for (int variant = 0; variant < 4; ++variant) {
      checkConv(gemm, 2, act, variant & 1, variant & 2, kThreaded,
                100 + act * 4 + variant);
      checkConv(dw, 2, act, variant & 1, variant & 2, kThreaded,
                200 + act * 4 + variant);
    }
}

TEST_P(ConvTest, LargeValuesInActivations) {
  // Pre-activations far outside [-1, 1]: exp overflow / underflow paths.
  const ConvShape s = {4, 5, 40, 8, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1};
  std::vector<int64_t> ip = convIp(s, 1, 0);
  std::mt19937 rng(7);
  std::vector<float> x = randomVector(4 * 5 * 40, rng, 1.0f);
  std::vector<float> w = randomVector(8 * 4, rng, 60.0f);
  AlignedBuf wp(packConvChecked(ip, w));
  for (int act = 0; act < kActCount; ++act) {
    SCOPED_TRACE(kActNames[act]);
    ip[LOPPER_CONV_IP_ACT] = act;
    float fp[2];
    actParams(act, fp);
    std::vector<float> y(8 * 5 * 40);
    lopper_k_conv2d_f32_v1(nullptr, ip.data(), fp, x.data(), wp.p, nullptr,
                           nullptr, y.data());
    EXPECT_TRUE(closeTo(y, refConv(ip, x, w, nullptr, nullptr, fp)));
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, ConvTest, ::testing::ValuesIn(kAllIsas),
                         isaParamName);

//===--- MatMul --------------------------------------------------------===//

struct MmCase {
  int64_t batch, M, N, K;
  bool transA, transB; // stored K x M / N x K
  bool stridedA;       // both A strides != 1 (element stride 2)
  bool packB;
  int64_t aBatchStride; // -1: dense, 0: broadcast
  int64_t bBatchStride; // -1: dense, 0: broadcast
  int biasKind;
  bool residual;
  bool residualInPlace; // the residual is C itself (C holds it on entry)
  int64_t ldcPad;       // ldc = N + ldcPad
  int act;
};

void checkMatmul(const MmCase &t, void *rt, unsigned seed) {
  SCOPED_TRACE(::testing::Message()
               << "matmul batch=" << t.batch << " M=" << t.M << " N=" << t.N
               << " K=" << t.K << " transA=" << t.transA << " transB="
               << t.transB << " stridedA=" << t.stridedA << " packB=" << t.packB
               << " a_bs=" << t.aBatchStride << " b_bs=" << t.bBatchStride
               << " bias=" << t.biasKind << " res=" << t.residual
               << " ldcPad=" << t.ldcPad << " act=" << kActNames[t.act]
               << " threaded=" << (rt != nullptr));
  std::mt19937 rng(seed);
  const int64_t M = t.M, N = t.N, K = t.K, B = t.batch;
  // A: one matrix is M*K elements (x2 when strided), dense batches.
  const int64_t aElem = t.stridedA ? 2 : 1;
  const int64_t aMat = M * K * aElem + (t.stridedA ? 3 : 0);
  const int64_t aBs = t.aBatchStride < 0 ? aMat : 0;
  int64_t aRs, aCs;
  if (t.stridedA) {
    aRs = 2 * K;
    aCs = 2;
  } else if (t.transA) {
    aRs = 1;
    aCs = M;
  } else {
    aRs = K;
    aCs = 1;
  }
  const int64_t bMat = K * N;
  const int64_t bBs = t.bBatchStride < 0 ? bMat : 0;
  const int64_t bRs = t.transB ? 1 : N, bCs = t.transB ? K : 1;
  std::vector<float> a =
      randomVector(static_cast<size_t>(aBs ? B * aMat : aMat), rng, 1.0f);
  std::vector<float> b = randomVector(
      static_cast<size_t>(bBs ? B * bMat : bMat), rng,
      static_cast<float>(2.0 / std::sqrt(static_cast<double>(K ? K : 1))));
  const int64_t ldc = N + t.ldcPad;
  const int64_t cBs = M * ldc + 5;
  const size_t cSize = static_cast<size_t>(B * cBs);
  std::vector<float> res = randomVector(cSize, rng, 1.0f);
  size_t biasSize = t.biasKind == 1   ? static_cast<size_t>(N)
                    : t.biasKind == 2 ? static_cast<size_t>(M)
                    : t.biasKind == 3 ? 1u
                    : t.biasKind == 4 ? static_cast<size_t>(M * N)
                                      : 0u;
  std::vector<float> bias = randomVector(biasSize, rng, 0.5f);

  std::vector<int64_t> ip(LOPPER_MM_IP_COUNT);
  ip[LOPPER_MM_IP_BATCH] = B;
  ip[LOPPER_MM_IP_M] = M;
  ip[LOPPER_MM_IP_N] = N;
  ip[LOPPER_MM_IP_K] = K;
  ip[LOPPER_MM_IP_A_BS] = aBs;
  ip[LOPPER_MM_IP_A_RS] = aRs;
  ip[LOPPER_MM_IP_A_CS] = aCs;
  ip[LOPPER_MM_IP_B_BS] = bBs;
  ip[LOPPER_MM_IP_B_RS] = bRs;
  ip[LOPPER_MM_IP_B_CS] = bCs;
  ip[LOPPER_MM_IP_B_PACKED] = t.packB;
  ip[LOPPER_MM_IP_BIAS_KIND] = t.biasKind;
  ip[LOPPER_MM_IP_R_BS] = cBs;
  ip[LOPPER_MM_IP_C_BS] = cBs;
  ip[LOPPER_MM_IP_LDC] = ldc;
  ip[LOPPER_MM_IP_ACT] = t.act;
  float fp[2];
  actParams(t.act, fp);

  // Packed B: one packed matrix per batch (or one shared), with guards.
  std::vector<float> packedHost;
  const float *bArg = b.data();
  const int64_t psize = lopper_pack_matmul_b_f32_size(K, N);
  if (t.packB) {
    const int64_t nb = bBs ? B : 1;
    const size_t guard = 32;
    const float sentinel = -777.25f;
    packedHost.assign(static_cast<size_t>(nb * psize) + guard, sentinel);
    for (int64_t i = 0; i < nb; ++i)
      lopper_pack_matmul_b_f32(K, N, b.data() + i * bBs, bRs, bCs,
                               packedHost.data() + i * psize);
    for (size_t i = 0; i < guard; ++i)
      ASSERT_EQ(packedHost[static_cast<size_t>(nb * psize) + i], sentinel);
    for (int64_t i = 0; i < nb * psize; ++i)
      ASSERT_NE(packedHost[static_cast<size_t>(i)], sentinel);
    ip[LOPPER_MM_IP_B_BS] = bBs ? psize : 0;
  }
  AlignedBuf packed(packedHost);
  if (t.packB)
    bArg = packed.p;

  const float sentinel = 4242.0f;
  std::vector<float> c(cSize, sentinel);
  const bool inPlace = t.residual && t.residualInPlace;
  if (inPlace)
    for (int64_t bi = 0; bi < B; ++bi)
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          const size_t o = static_cast<size_t>(bi * cBs + i * ldc + j);
          c[o] = res[o];
        }
  lopper_k_matmul_f32_v1(
      rt, ip.data(), fp, a.data(), bArg, t.biasKind ? bias.data() : nullptr,
      t.residual ? (inPlace ? c.data() : res.data()) : nullptr, c.data());

  std::vector<float> got;
  std::vector<double> want;
  for (int64_t bi = 0; bi < B; ++bi)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k)
          acc += static_cast<double>(a[bi * aBs + i * aRs + k * aCs]) *
                 b[bi * bBs + k * bRs + j * bCs];
        switch (t.biasKind) {
        case 1:
          acc += bias[j];
          break;
        case 2:
          acc += bias[i];
          break;
        case 3:
          acc += bias[0];
          break;
        case 4:
          acc += bias[i * N + j];
          break;
        default:
          break;
        }
        const size_t o = static_cast<size_t>(bi * cBs + i * ldc + j);
        if (t.residual)
          acc += res[o];
        want.push_back(refAct(acc, t.act, fp));
        got.push_back(c[o]);
      }
  EXPECT_TRUE(closeTo(got, want));
  // Nothing outside the output rows' first N columns is written.
  size_t touched = 0;
  for (int64_t bi = 0; bi < B; ++bi)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = N; j < ldc; ++j)
        touched += c[static_cast<size_t>(bi * cBs + i * ldc + j)] != sentinel;
  for (int64_t bi = 0; bi < B; ++bi)
    for (int64_t j = M * ldc; j < cBs; ++j)
      touched += c[static_cast<size_t>(bi * cBs + j)] != sentinel;
  EXPECT_EQ(touched, 0u) << "wrote outside C";
}

MmCase mm(int64_t batch, int64_t M, int64_t N, int64_t K) {
  MmCase t = {};
  t.batch = batch;
  t.M = M;
  t.N = N;
  t.K = K;
  t.aBatchStride = -1;
  t.bBatchStride = -1;
  return t;
}

using MatmulTest = IsaTest;

TEST_P(MatmulTest, Sizes) {
  const int64_t sizes[][3] = {
      {1, 1, 1},    {1, 37, 19},    {29, 1, 33},   {17, 45, 1},   {8, 32, 16},
      {13, 45, 70}, {100, 70, 300}, {257, 33, 20}, {40, 600, 10}, {7, 16, 5},
      {9, 17, 8},   {3, 48, 200},   {64, 64, 64},  {5, 37, 0}};
  unsigned seed = 1000;
  for (const auto &s : sizes)
    for (int variant = 0; variant < 8; ++variant) {
      MmCase t = mm(1, s[0], s[1], s[2]);
      t.transA = variant & 1;
      t.transB = variant & 2;
      t.packB = variant & 4;
      t.act = static_cast<int>(seed % kActCount);
      t.biasKind = static_cast<int>(seed % 5);
      t.residual = seed % 3 == 0;
      checkMatmul(t, variant % 3 ? kThreaded : nullptr, seed);
      ++seed;
    }
}

TEST_P(MatmulTest, StridesAndBatches) {
  unsigned seed = 2000;
  for (bool packB : {false, true})
    for (bool transB : {false, true})
      for (int64_t aBs : {-1, 0})
        for (int64_t bBs : {-1, 0}) {
          MmCase t = mm(3, 21, 35, 27);
          t.packB = packB;
          t.transB = transB;
          t.aBatchStride = aBs;
          t.bBatchStride = bBs;
          t.stridedA = seed % 2 == 0;
          t.ldcPad = seed % 3;
          t.residual = true;
          t.biasKind = static_cast<int>(seed % 5);
          t.act = static_cast<int>(seed % kActCount);
          checkMatmul(t, seed % 2 ? kThreaded : nullptr, seed);
          ++seed;
        }
}

TEST_P(MatmulTest, BiasKindsAndResidual) {
  unsigned seed = 3000;
  for (int biasKind = 0; biasKind <= 4; ++biasKind)
    for (int residual = 0; residual < 3; ++residual)
      for (bool packB : {false, true}) {
        MmCase t = mm(2, 19, 41, residual == 2 ? 300 : 23);
        t.biasKind = biasKind;
        t.residual = residual > 0;
        t.residualInPlace = residual == 2;
        t.packB = packB;
        t.ldcPad = 3;
        checkMatmul(t, kThreaded, seed++);
      }
}

TEST_P(MatmulTest, Activations) {
  for (int act = 0; act < kActCount; ++act) {
    MmCase t = mm(1, 11, 50, 30);
    t.act = act;
    t.biasKind = 1;
    checkMatmul(t, kThreaded, 4000 + act);
    t.packB = true;
    t.residual = true;
    checkMatmul(t, nullptr, 4100 + act);
  }
}

TEST_P(MatmulTest, AttentionScores) {
  // Q . K^T per head from an interleaved [S][3][H][D] qkv tensor: batch =
  // heads, A = Q rows (stride 3*H*D), B(k, j) = K[j][k] (b_rs 1, b_cs 3*H*D).
  const int64_t S = 37, H = 3, D = 24;
  std::mt19937 rng(5);
  std::vector<float> qkv =
      randomVector(static_cast<size_t>(S * 3 * H * D), rng, 0.5f);
  std::vector<int64_t> ip(LOPPER_MM_IP_COUNT);
  ip[LOPPER_MM_IP_BATCH] = H;
  ip[LOPPER_MM_IP_M] = S;
  ip[LOPPER_MM_IP_N] = S;
  ip[LOPPER_MM_IP_K] = D;
  ip[LOPPER_MM_IP_A_BS] = D;
  ip[LOPPER_MM_IP_A_RS] = 3 * H * D;
  ip[LOPPER_MM_IP_A_CS] = 1;
  ip[LOPPER_MM_IP_B_BS] = D;
  ip[LOPPER_MM_IP_B_RS] = 1;
  ip[LOPPER_MM_IP_B_CS] = 3 * H * D;
  ip[LOPPER_MM_IP_C_BS] = S * S;
  ip[LOPPER_MM_IP_LDC] = S;
  std::vector<float> c(static_cast<size_t>(H * S * S));
  const float *k = qkv.data() + H * D;
  lopper_k_matmul_f32_v1(kThreaded, ip.data(), nullptr, qkv.data(), k, nullptr,
                         nullptr, c.data());
  std::vector<double> want;
  for (int64_t h = 0; h < H; ++h)
    for (int64_t i = 0; i < S; ++i)
      for (int64_t j = 0; j < S; ++j) {
        double acc = 0;
        for (int64_t d = 0; d < D; ++d)
          acc += static_cast<double>(qkv[(i * 3 * H + h) * D + d]) *
                 qkv[((j * 3 + 1) * H + h) * D + d];
        want.push_back(acc);
      }
  EXPECT_TRUE(closeTo(c, want));
}

INSTANTIATE_TEST_SUITE_P(Isa, MatmulTest, ::testing::ValuesIn(kAllIsas),
                         isaParamName);

//===--- erf (GELU) ----------------------------------------------------===//

using ErfTest = IsaTest;

float bitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Max |erf - erff| over the bit patterns u = first, first + step, ... < 2^32
// (NaN patterns must give NaN).
double maxErfError(uint64_t first, uint64_t step, float *worstAt) {
  const Kernels &kr = activeKernels();
  constexpr int kChunk = 4096;
  std::vector<float> x(kChunk), y(kChunk);
  double worst = 0;
  for (uint64_t u = first; u < (uint64_t(1) << 32);) {
    int n = 0;
    for (; n < kChunk && u < (uint64_t(1) << 32); ++n, u += step)
      x[n] = bitsToFloat(static_cast<uint32_t>(u));
    kr.erf(x.data(), y.data(), n);
    for (int i = 0; i < n; ++i) {
      if (std::isnan(x[i])) {
        if (!std::isnan(y[i]))
          return 1e30;
        continue;
      }
      const double err = std::fabs(static_cast<double>(y[i]) -
                                   static_cast<double>(std::erf(x[i])));
      if (!(err <= worst)) {
        worst = err;
        *worstAt = x[i];
      }
    }
  }
  return worst;
}

TEST_P(ErfTest, MatchesErff) {
  // Every 251st float (about 17 million, all binades and both signs).
  float at = 0;
  const double worst = maxErfError(0, 251, &at);
  std::printf("%s: max |erf - erff| = %.3g at %.9g\n", isaName(activeIsa()),
              worst, at);
  EXPECT_LE(worst, 2e-7) << "at x = " << at;
  // Dense around the interval boundaries and the clamp.
  const Kernels &kr = activeKernels();
  std::vector<float> x;
  for (float b : {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.5f, 3.0f, 3.5f, 3.92f, 4.0f})
    for (float v = b, i = 0; i < 10000; ++i, v = std::nextafter(v, 10.0f)) {
      x.push_back(v);
      x.push_back(-v);
      const float below = std::nextafter(b - (v - b), -10.0f);
      x.push_back(below);
      x.push_back(-below);
    }
  for (float v : {std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity(),
                  std::numeric_limits<float>::max(),
                  std::numeric_limits<float>::denorm_min(), -0.0f, 1e-30f})
    x.push_back(v);
  std::vector<float> y(x.size());
  kr.erf(x.data(), y.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_LE(std::fabs(static_cast<double>(y[i]) - std::erf(x[i])), 2e-7)
        << "x = " << x[i];
  // Odd, with full relative accuracy near 0.
  for (float v : {1e-30f, 3e-8f, 1e-5f, 0.3f, 2.2f}) {
    float p[2] = {v, -v}, q[2];
    kr.erf(p, q, 2);
    EXPECT_EQ(q[0], -q[1]);
    EXPECT_NEAR(q[0], std::erf(v), 2e-7 * std::fabs(std::erf(v)) + 1e-37);
  }
  float nan = std::nanf(""), r;
  kr.erf(&nan, &r, 1);
  EXPECT_TRUE(std::isnan(r));
}

// All 2^32 floats (about a minute per level): the bound in cpu_internal.h.
TEST_P(ErfTest, DISABLED_Exhaustive) {
  float at = 0;
  const double worst = maxErfError(0, 1, &at);
  std::printf("%s: max |erf - erff| over all floats = %.4g at %.9g\n",
              isaName(activeIsa()), worst, at);
  EXPECT_LE(worst, 2e-7) << "at x = " << at;
}

// The GELU epilogue against a double reference over [-12, 12].
TEST_P(ErfTest, GeluEpilogue) {
  const Kernels &kr = activeKernels();
  alignas(64) float tile[MR * NR];
  std::vector<float> c(MR * NR);
  Epilogue e = {};
  e.act = LOPPER_ACT_GELU;
  for (int start = 0; start < 12000; start += MR * NR) {
    for (int i = 0; i < MR * NR; ++i)
      tile[i] = -12.0f + 0.001f * static_cast<float>(start + i);
    for (int nc : {static_cast<int>(NR), 13}) {
      std::fill(c.begin(), c.end(), 7.0f);
      kr.epilogue(tile, c.data(), NR, MR, nc, e);
      for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) {
          const float v = tile[i * NR + j];
          const double want =
              j < nc ? 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))) : 7.0;
          EXPECT_LE(std::fabs(c[i * NR + j] - want),
                    2e-7 * std::fmax(1.0, std::fabs(v)))
              << "x = " << v;
        }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, ErfTest, ::testing::ValuesIn(kAllIsas),
                         isaParamName);

//===--- Packing and dispatch -------------------------------------------===//

TEST(Pack, MatmulLayout) {
  // out[(p*K + k)*NR + j] = B(k, p*NR + j), zero past N.
  const int64_t K = 5, N = 40;
  std::vector<float> b(static_cast<size_t>(K * N));
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = static_cast<float>(i + 1);
  std::vector<float> out(
      static_cast<size_t>(lopper_pack_matmul_b_f32_size(K, N)), -1.0f);
  ASSERT_EQ(out.size(), static_cast<size_t>(2 * K * LOPPER_CPU_NR));
  lopper_pack_matmul_b_f32(K, N, b.data(), N, 1, out.data());
  for (int64_t p = 0; p < 2; ++p)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < LOPPER_CPU_NR; ++j) {
        int64_t col = p * LOPPER_CPU_NR + j;
        float want = col < N ? b[static_cast<size_t>(k * N + col)] : 0.0f;
        EXPECT_EQ(out[static_cast<size_t>((p * K + k) * LOPPER_CPU_NR + j)],
                  want);
      }
}

TEST(Pack, ConvSizesMatchWrites) {
  // C, H, W, M, KH, KW, ..., G: only C, M, KH, KW, G matter for packing.
  const int64_t shapes[][5] = {
      {3, 13, 3, 3, 1}, {16, 24, 1, 1, 1},  {8, 12, 3, 3, 2},
      {16, 8, 3, 3, 4}, {12, 12, 3, 3, 12}, {4, 8, 5, 5, 4},
      {1, 6, 3, 3, 1},  {64, 64, 3, 3, 1},  {6, 9, 1, 7, 3}};
  std::mt19937 rng(9);
  for (const auto &s : shapes) {
    ConvShape cs = {s[0], 8, 8, s[1], s[2], s[3], 1, 1, 0, 0, 0, 0, 1, 1, s[4]};
    std::vector<int64_t> ip = convIp(cs, 1, 0);
    std::vector<float> w = randomVector(
        static_cast<size_t>(s[1] * s[0] / s[4] * s[2] * s[3]), rng, 1.0f);
    packConvChecked(ip, w);
  }
}

TEST(Pack, MatmulSizesMatchWrites) {
  const int64_t shapes[][2] = {{1, 1}, {7, 31}, {16, 32}, {3, 33}, {64, 100}};
  std::mt19937 rng(11);
  for (const auto &s : shapes)
    for (bool trans : {false, true}) {
      const int64_t K = s[0], N = s[1];
      const int64_t size = lopper_pack_matmul_b_f32_size(K, N);
      const size_t guard = 40;
      const float sentinel = -3.5e7f;
      std::vector<float> buf(static_cast<size_t>(size) + 2 * guard, sentinel);
      std::vector<float> b =
          randomVector(static_cast<size_t>(K * N), rng, 1.0f);
      lopper_pack_matmul_b_f32(K, N, b.data(), trans ? 1 : N, trans ? K : 1,
                               buf.data() + guard);
      for (size_t i = 0; i < guard; ++i) {
        EXPECT_EQ(buf[i], sentinel);
        EXPECT_EQ(buf[guard + static_cast<size_t>(size) + i], sentinel);
      }
      for (int64_t i = 0; i < size; ++i)
        EXPECT_NE(buf[guard + static_cast<size_t>(i)], sentinel);
    }
}

// The level chosen at first use, before any test forces one: honours
// LOPPER_CPU_ISA (run e.g. `LOPPER_CPU_ISA=avx2 lopper-kernel-tests
// --gtest_filter='Dispatch.*'`).
const Isa kStartupIsa = activeIsa();

TEST(Dispatch, StartupLevelFollowsEnvironment) {
  const char *env = std::getenv("LOPPER_CPU_ISA");
  EXPECT_EQ(kStartupIsa, isaFromString(env, detectedIsa()));
  std::printf("LOPPER_CPU_ISA=%s: detected %s, chosen at startup %s\n",
              env ? env : "(unset)", isaName(detectedIsa()),
              isaName(kStartupIsa));
}

TEST(Dispatch, EnvironmentValues) {
  EXPECT_EQ(isaFromString(nullptr, IsaAvx512), IsaAvx512);
  EXPECT_EQ(isaFromString("scalar", IsaAvx512), IsaScalar);
  EXPECT_EQ(isaFromString("avx2", IsaAvx512), IsaAvx2);
  EXPECT_EQ(isaFromString("avx512", IsaAvx512), IsaAvx512);
  // Never raises the level; unknown values keep the detected one.
  EXPECT_EQ(isaFromString("avx512", IsaAvx2), IsaAvx2);
  EXPECT_EQ(isaFromString("avx2", IsaScalar), IsaScalar);
  EXPECT_EQ(isaFromString("sse9", IsaAvx2), IsaAvx2);
  EXPECT_LE(activeIsa(), detectedIsa());
}

//===--- Benchmarks (single thread: rt = NULL) --------------------------===//

// The fastest of many calls (at least 0.5 s and 20 calls): the machine may
// be shared, and the minimum is what the kernel costs when it has a core.
template <typename F> double secondsPerCall(F &&f) {
  f(); // warm-up
  double best = 1e30, total = 0;
  for (int calls = 0; total < 0.5 || calls < 20; ++calls) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    best = std::fmin(best, s);
    total += s;
  }
  return best;
}

void benchConv(const char *name, const ConvShape &s) {
  std::vector<int64_t> ip = convIp(s, 1, LOPPER_ACT_RELU);
  const int64_t OH = ip[LOPPER_CONV_IP_OH], OW = ip[LOPPER_CONV_IP_OW];
  std::mt19937 rng(1);
  std::vector<float> x =
      randomVector(static_cast<size_t>(s.C * s.H * s.W), rng, 1.0f);
  std::vector<float> w = randomVector(
      static_cast<size_t>(s.M * s.C / s.G * s.KH * s.KW), rng, 0.1f);
  std::vector<float> bias = randomVector(static_cast<size_t>(s.M), rng, 0.1f);
  std::vector<float> packed(
      static_cast<size_t>(lopper_pack_conv2d_f32_size(ip.data())));
  lopper_pack_conv2d_f32(ip.data(), w.data(), packed.data());
  AlignedBuf wp(packed);
  std::vector<float> y(static_cast<size_t>(s.M * OH * OW));
  float fp[2] = {0, 0};
  double sec = secondsPerCall([&] {
    lopper_k_conv2d_f32_v1(nullptr, ip.data(), fp, x.data(), wp.p, bias.data(),
                           nullptr, y.data());
  });
  double flops =
      2.0 * static_cast<double>(s.M * OH * OW * s.C / s.G * s.KH * s.KW);
  std::printf("%-8s %-40s %8.3f ms %8.1f GFLOP/s\n", isaName(activeIsa()), name,
              sec * 1e3, flops / sec * 1e-9);
}

void benchMatmul(const char *name, int64_t M, int64_t N, int64_t K, bool packB,
                 bool transB) {
  std::mt19937 rng(1);
  std::vector<float> a = randomVector(static_cast<size_t>(M * K), rng, 1.0f);
  std::vector<float> b = randomVector(static_cast<size_t>(K * N), rng, 1.0f);
  std::vector<float> c(static_cast<size_t>(M * N));
  std::vector<int64_t> ip(LOPPER_MM_IP_COUNT);
  ip[LOPPER_MM_IP_BATCH] = 1;
  ip[LOPPER_MM_IP_M] = M;
  ip[LOPPER_MM_IP_N] = N;
  ip[LOPPER_MM_IP_K] = K;
  ip[LOPPER_MM_IP_A_RS] = K;
  ip[LOPPER_MM_IP_A_CS] = 1;
  ip[LOPPER_MM_IP_B_RS] = transB ? 1 : N;
  ip[LOPPER_MM_IP_B_CS] = transB ? K : 1;
  ip[LOPPER_MM_IP_B_PACKED] = packB;
  ip[LOPPER_MM_IP_LDC] = N;
  std::vector<float> packed;
  if (packB) {
    packed.resize(static_cast<size_t>(lopper_pack_matmul_b_f32_size(K, N)));
    lopper_pack_matmul_b_f32(K, N, b.data(), ip[LOPPER_MM_IP_B_RS],
                             ip[LOPPER_MM_IP_B_CS], packed.data());
  }
  AlignedBuf bp(packed);
  double sec = secondsPerCall([&] {
    lopper_k_matmul_f32_v1(nullptr, ip.data(), nullptr, a.data(),
                           packB ? bp.p : b.data(), nullptr, nullptr, c.data());
  });
  double flops = 2.0 * static_cast<double>(M * N * K);
  std::printf("%-8s %-40s %8.3f ms %8.1f GFLOP/s\n", isaName(activeIsa()), name,
              sec * 1e3, flops / sec * 1e-9);
}

using BenchTest = IsaTest;

TEST_P(BenchTest, DISABLED_BenchMatmul) {
  benchMatmul("gemm 256x256x256 B packed", 256, 256, 256, true, false);
  benchMatmul("gemm 256x256x256 B row-major", 256, 256, 256, false, false);
  benchMatmul("gemm 256x256x256 B transposed", 256, 256, 256, false, true);
  benchMatmul("gemm 1024x1024x1024 B packed", 1024, 1024, 1024, true, false);
  benchMatmul("gemm 512x512x512 B packed", 512, 512, 512, true, false);
  benchMatmul("gemm 768x768x768 B packed", 768, 768, 768, true, false);
  benchMatmul("gemm 384x3072x768 B packed", 384, 3072, 768, true, false);
  benchMatmul("gemv 1x1000x2048 B packed", 1, 1000, 2048, true, false);
}

TEST_P(BenchTest, DISABLED_BenchConv) {
  benchConv("conv 3x3 C=M=64 56x56 pad 1",
            {64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1});
  benchConv("conv 1x1 C=64 M=256 56x56",
            {64, 56, 56, 256, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1});
  benchConv("conv 3x3 C=M=256 14x14 pad 1",
            {256, 14, 14, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1});
  benchConv("conv 3x3 C=M=512 7x7 pad 1",
            {512, 7, 7, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1});
  benchConv("conv 3x3 s2 C=256 M=512 14x14 pad 1",
            {256, 14, 14, 512, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1});
  benchConv("conv 7x7 s2 C=3 M=64 224x224",
            {3, 224, 224, 64, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1});
}

TEST_P(BenchTest, DISABLED_BenchDepthwise) {
  benchConv("depthwise 3x3 C=144 56x56 pad 1",
            {144, 56, 56, 144, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 144});
  benchConv("depthwise 3x3 s2 C=144 56x56 pad 1",
            {144, 56, 56, 144, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 144});
}

INSTANTIATE_TEST_SUITE_P(Isa, BenchTest, ::testing::ValuesIn(kAllIsas),
                         isaParamName);

} // namespace
