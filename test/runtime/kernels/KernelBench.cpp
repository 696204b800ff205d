// lopper-kernel-bench: GFLOP/s of the CPU kernels on the shapes that matter
// (the convolutions of ResNet-18 at batch 1, depthwise, GEMM with and
// without a GELU epilogue), each with rt = NULL (one task), one thread and
// `--threads` threads (ThreadedParallelFor.cpp, scheduled like the runtime's
// pool). Not a test: run it by hand on an idle machine.
//
//   lopper-kernel-bench [--threads=N] [--isa=avx512|avx2|scalar]
//                       [--filter=SUBSTRING] [--seconds=S] [--cpu-time]
#include "BenchPool.h"
#include "cpu_internal.h"
#include "kernels.h"

#include "lopper/artifact_abi.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

using namespace lopper::cpu;

namespace {

double gSeconds = 0.3;

std::vector<float> randomVector(size_t n, std::mt19937 &rng, float scale) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

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

// The fastest of many calls (at least gSeconds and 10 calls): the machine
// may be shared, and the minimum is what the kernel costs when it has the
// cores.
// --cpu-time: the calling thread's CPU time instead of wall time for the
// single-thread columns (a figure that preemption by other processes does
// not inflate); the threads column stays wall time (process CPU time
// misses helper threads' time and would overstate it).
bool gCpuTime = false;

double now() {
  if (gCpuTime) {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) +
           1e-9 * static_cast<double>(ts.tv_nsec);
  }
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

template <typename F> double secondsPerCall(F &&f) {
  f(); // warm-up
  double best = 1e30, total = 0;
  for (int calls = 0; total < gSeconds || calls < 10; ++calls) {
    const double t0 = now();
    f();
    double s = now() - t0;
    best = std::fmin(best, s);
    total += s;
  }
  return best;
}

struct Runner {
  BenchPool *one, *many;
  int threads;
};

struct Times {
  double s[3]; // rt = NULL, 1 thread, N threads
};

// Prints one line: ms and GFLOP/s with rt = NULL, 1 thread, N threads.
template <typename F>
Times report(const Runner &r, const char *name, double flops, F &&call) {
  const double s0 = secondsPerCall([&] { call(nullptr); });
  const double s1 = secondsPerCall([&] { call(r.one); });
  const bool cpuTime = gCpuTime;
  gCpuTime = false;
  const double sn = secondsPerCall([&] { call(r.many); });
  gCpuTime = cpuTime;
  std::printf("%-6s %-44s %8.3f %6.1f | %8.3f %6.1f | %8.3f %6.1f\n",
              isaName(activeIsa()), name, s0 * 1e3, flops / s0 * 1e-9, s1 * 1e3,
              flops / s1 * 1e-9, sn * 1e3, flops / sn * 1e-9);
  std::fflush(stdout);
  return Times{{s0, s1, sn}};
}

struct ConvCase {
  const char *name;
  int64_t C, H, W, M, KH, KW, s, pad, G;
};

Times benchConv(const Runner &r, const ConvCase &c, int act) {
  std::vector<int64_t> ip(LOPPER_CONV_IP_COUNT);
  const int64_t OH = (c.H + 2 * c.pad - c.KH) / c.s + 1;
  const int64_t OW = (c.W + 2 * c.pad - c.KW) / c.s + 1;
  ip[LOPPER_CONV_IP_N] = 1;
  ip[LOPPER_CONV_IP_C] = c.C;
  ip[LOPPER_CONV_IP_H] = c.H;
  ip[LOPPER_CONV_IP_W] = c.W;
  ip[LOPPER_CONV_IP_M] = c.M;
  ip[LOPPER_CONV_IP_OH] = OH;
  ip[LOPPER_CONV_IP_OW] = OW;
  ip[LOPPER_CONV_IP_KH] = c.KH;
  ip[LOPPER_CONV_IP_KW] = c.KW;
  ip[LOPPER_CONV_IP_STRIDE_H] = c.s;
  ip[LOPPER_CONV_IP_STRIDE_W] = c.s;
  ip[LOPPER_CONV_IP_PAD_TOP] = c.pad;
  ip[LOPPER_CONV_IP_PAD_LEFT] = c.pad;
  ip[LOPPER_CONV_IP_PAD_BOTTOM] = c.pad;
  ip[LOPPER_CONV_IP_PAD_RIGHT] = c.pad;
  ip[LOPPER_CONV_IP_DIL_H] = 1;
  ip[LOPPER_CONV_IP_DIL_W] = 1;
  ip[LOPPER_CONV_IP_GROUP] = c.G;
  ip[LOPPER_CONV_IP_ACT] = act;
  std::mt19937 rng(1);
  std::vector<float> x =
      randomVector(static_cast<size_t>(c.C * c.H * c.W), rng, 1.0f);
  std::vector<float> w = randomVector(
      static_cast<size_t>(c.M * c.C / c.G * c.KH * c.KW), rng, 0.1f);
  std::vector<float> bias = randomVector(static_cast<size_t>(c.M), rng, 0.1f);
  std::vector<float> packed(
      static_cast<size_t>(lopper_pack_conv2d_f32_size(ip.data())));
  lopper_pack_conv2d_f32(ip.data(), w.data(), packed.data());
  AlignedBuf wp(packed);
  std::vector<float> y(static_cast<size_t>(c.M * OH * OW));
  float fp[2] = {0, 0};
  const double flops =
      2.0 * static_cast<double>(c.M * OH * OW * c.C / c.G * c.KH * c.KW);
  return report(r, c.name, flops, [&](void *rt) {
    lopper_k_conv2d_f32_v1(rt, ip.data(), fp, x.data(), wp.p, bias.data(),
                           nullptr, y.data());
  });
}

void benchMatmul(const Runner &r, const char *name, int64_t M, int64_t N,
                 int64_t K, int act) {
  std::mt19937 rng(1);
  std::vector<float> a = randomVector(static_cast<size_t>(M * K), rng, 1.0f);
  std::vector<float> b = randomVector(static_cast<size_t>(K * N), rng, 0.1f);
  std::vector<float> bias = randomVector(static_cast<size_t>(N), rng, 0.1f);
  std::vector<float> c(static_cast<size_t>(M * N));
  std::vector<int64_t> ip(LOPPER_MM_IP_COUNT);
  ip[LOPPER_MM_IP_BATCH] = 1;
  ip[LOPPER_MM_IP_M] = M;
  ip[LOPPER_MM_IP_N] = N;
  ip[LOPPER_MM_IP_K] = K;
  ip[LOPPER_MM_IP_A_RS] = K;
  ip[LOPPER_MM_IP_A_CS] = 1;
  ip[LOPPER_MM_IP_B_RS] = N;
  ip[LOPPER_MM_IP_B_CS] = 1;
  ip[LOPPER_MM_IP_B_PACKED] = 1;
  ip[LOPPER_MM_IP_BIAS_KIND] = 1;
  ip[LOPPER_MM_IP_LDC] = N;
  ip[LOPPER_MM_IP_ACT] = act;
  std::vector<float> packed(
      static_cast<size_t>(lopper_pack_matmul_b_f32_size(K, N)));
  lopper_pack_matmul_b_f32(K, N, b.data(), N, 1, packed.data());
  AlignedBuf bp(packed);
  float fp[2] = {0, 0};
  report(r, name, 2.0 * static_cast<double>(M * N * K), [&](void *rt) {
    lopper_k_matmul_f32_v1(rt, ip.data(), fp, a.data(), bp.p, bias.data(),
                           nullptr, c.data());
  });
}

// int8: u8 activations (zero point 3) x packed s8 weights, requantized to
// u8 (or f32 out), bias and ReLU; GOP/s counts 2 ops per product.
std::vector<uint8_t> randomBytes(size_t n, std::mt19937 &rng) {
  std::uniform_int_distribution<int> d(0, 255);
  std::vector<uint8_t> v(n);
  for (uint8_t &x : v)
    x = static_cast<uint8_t>(d(rng));
  return v;
}

struct AlignedBytes {
  int8_t *p = nullptr;
  explicit AlignedBytes(int64_t n) {
    if (posix_memalign(reinterpret_cast<void **>(&p), 64,
                       static_cast<size_t>(n > 0 ? n : 64)))
      std::abort();
  }
  ~AlignedBytes() { std::free(p); }
  AlignedBytes(const AlignedBytes &) = delete;
  AlignedBytes &operator=(const AlignedBytes &) = delete;
};

Times benchConvQ8(const Runner &r, const ConvCase &c) {
  std::vector<int64_t> ip(LOPPER_QCONV_IP_COUNT);
  const int64_t OH = (c.H + 2 * c.pad - c.KH) / c.s + 1;
  const int64_t OW = (c.W + 2 * c.pad - c.KW) / c.s + 1;
  ip[LOPPER_CONV_IP_N] = 1;
  ip[LOPPER_CONV_IP_C] = c.C;
  ip[LOPPER_CONV_IP_H] = c.H;
  ip[LOPPER_CONV_IP_W] = c.W;
  ip[LOPPER_CONV_IP_M] = c.M;
  ip[LOPPER_CONV_IP_OH] = OH;
  ip[LOPPER_CONV_IP_OW] = OW;
  ip[LOPPER_CONV_IP_KH] = c.KH;
  ip[LOPPER_CONV_IP_KW] = c.KW;
  ip[LOPPER_CONV_IP_STRIDE_H] = c.s;
  ip[LOPPER_CONV_IP_STRIDE_W] = c.s;
  ip[LOPPER_CONV_IP_PAD_TOP] = c.pad;
  ip[LOPPER_CONV_IP_PAD_LEFT] = c.pad;
  ip[LOPPER_CONV_IP_PAD_BOTTOM] = c.pad;
  ip[LOPPER_CONV_IP_PAD_RIGHT] = c.pad;
  ip[LOPPER_CONV_IP_DIL_H] = 1;
  ip[LOPPER_CONV_IP_DIL_W] = 1;
  ip[LOPPER_CONV_IP_GROUP] = c.G;
  ip[LOPPER_CONV_IP_ACT] = LOPPER_ACT_RELU;
  ip[LOPPER_QCONV_IP_X_TYPE] = LOPPER_QIN_U8;
  ip[LOPPER_QCONV_IP_X_ZP] = 3;
  ip[LOPPER_QCONV_IP_OUT_TYPE] = LOPPER_QTYPE_U8;
  ip[LOPPER_QCONV_IP_OUT_ZP] = 0;
  std::mt19937 rng(1);
  std::vector<uint8_t> x =
      randomBytes(static_cast<size_t>(c.C * c.H * c.W), rng);
  std::vector<uint8_t> wb =
      randomBytes(static_cast<size_t>(c.M * c.C / c.G * c.KH * c.KW), rng);
  AlignedBytes wp(lopper_pack_conv2d_s8_size(ip.data()));
  lopper_pack_conv2d_s8(ip.data(), reinterpret_cast<const int8_t *>(wb.data()),
                        wp.p);
  std::vector<float> scales(static_cast<size_t>(c.M), 1e-3f);
  std::vector<float> bias = randomVector(static_cast<size_t>(c.M), rng, 0.1f);
  std::vector<uint8_t> y(static_cast<size_t>(c.M * OH * OW));
  float fp[LOPPER_QFP_COUNT] = {0, 0, 0.02f, 0.05f};
  const double ops =
      2.0 * static_cast<double>(c.M * OH * OW * c.C / c.G * c.KH * c.KW);
  return report(r, c.name, ops, [&](void *rt) {
    lopper_k_conv2d_q8_v1(rt, ip.data(), fp, x.data(), wp.p, scales.data(),
                          bias.data(), nullptr, y.data());
  });
}

void benchMatmulQ8(const Runner &r, const char *name, int64_t M, int64_t N,
                   int64_t K, int aType, int outType) {
  std::mt19937 rng(1);
  std::vector<uint8_t> a = randomBytes(static_cast<size_t>(M * K), rng);
  std::vector<float> af = randomVector(static_cast<size_t>(M * K), rng, 1.0f);
  std::vector<uint8_t> wb = randomBytes(static_cast<size_t>(K * N), rng);
  AlignedBytes wp(lopper_pack_matmul_b_s8_size(K, N));
  lopper_pack_matmul_b_s8(K, N, reinterpret_cast<const int8_t *>(wb.data()), N,
                          1, wp.p);
  std::vector<float> scales(static_cast<size_t>(N), 1e-3f);
  std::vector<float> bias = randomVector(static_cast<size_t>(N), rng, 0.1f);
  std::vector<float> c(static_cast<size_t>(M * N));
  std::vector<int64_t> ip(LOPPER_QMM_IP_COUNT);
  ip[LOPPER_QMM_IP_BATCH] = 1;
  ip[LOPPER_QMM_IP_M] = M;
  ip[LOPPER_QMM_IP_N] = N;
  ip[LOPPER_QMM_IP_K] = K;
  ip[LOPPER_QMM_IP_A_RS] = K;
  ip[LOPPER_QMM_IP_A_TYPE] = aType;
  ip[LOPPER_QMM_IP_A_ZP] = 3;
  ip[LOPPER_QMM_IP_LDC] = N;
  ip[LOPPER_QMM_IP_ACT] = LOPPER_ACT_NONE;
  ip[LOPPER_QMM_IP_OUT_TYPE] = outType;
  float fp[LOPPER_QFP_COUNT] = {0, 0, 0.02f, 0.05f};
  const void *ap = aType == LOPPER_QIN_F32
                       ? static_cast<const void *>(af.data())
                       : static_cast<const void *>(a.data());
  report(r, name, 2.0 * static_cast<double>(M * N * K), [&](void *rt) {
    lopper_k_matmul_q8_v1(rt, ip.data(), fp, ap, wp.p, scales.data(),
                          bias.data(), nullptr, c.data());
  });
}

// Block-sparse fp32 (1 x 16 blocks, `density` of them kept) against the
// dense fp32 kernel on the same weights: GFLOP/s-effective counts the
// dense FLOPs (2 M N K).
void benchSparse(const Runner &r, int64_t M, int64_t N, int64_t K,
                 double density) {
  std::mt19937 rng(1);
  std::vector<float> a = randomVector(static_cast<size_t>(M * K), rng, 1.0f);
  std::vector<float> w(static_cast<size_t>(K * N), 0.0f);
  std::bernoulli_distribution keep(density);
  std::uniform_real_distribution<float> u(-0.1f, 0.1f);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t p = 0; p * 16 < N; ++p)
      if (keep(rng))
        for (int64_t j = p * 16; j < N && j < p * 16 + 16; ++j)
          w[static_cast<size_t>(k * N + j)] = u(rng);
  std::vector<float> bias = randomVector(static_cast<size_t>(N), rng, 0.1f);
  std::vector<float> c(static_cast<size_t>(M * N));
  const float fp[2] = {0, 0};
  AlignedBytes sp(lopper_pack_matmul_bsr_f32_size(K, N, w.data(), N, 1));
  lopper_pack_matmul_bsr_f32(K, N, w.data(), N, 1, sp.p);
  std::vector<int64_t> sip(LOPPER_SMM_IP_COUNT);
  sip[LOPPER_SMM_IP_BATCH] = 1;
  sip[LOPPER_SMM_IP_M] = M;
  sip[LOPPER_SMM_IP_N] = N;
  sip[LOPPER_SMM_IP_K] = K;
  sip[LOPPER_SMM_IP_A_RS] = K;
  sip[LOPPER_SMM_IP_LDC] = N;
  const double flops = 2.0 * static_cast<double>(M * N * K);
  char name[96];
  std::snprintf(name, sizeof name, "bsr 1x16 %lldx%lldx%lld %.0f%% sparse",
                static_cast<long long>(M), static_cast<long long>(N),
                static_cast<long long>(K), 100 * (1 - density));
  report(r, name, flops, [&](void *rt) {
    lopper_k_matmul_bsr_f32_v1(rt, sip.data(), fp, a.data(), sp.p, bias.data(),
                               nullptr, c.data());
  });
}

// Block-sparse int8 (4 x 16 blocks, `density` kept; u8 in, u8 out) with
// GOP/s-effective counting the dense ops; density 1 runs the dense int8
// kernel on the same weights.
void benchSparseQ8(const Runner &r, int64_t M, int64_t N, int64_t K,
                   double density) {
  std::mt19937 rng(1);
  std::vector<uint8_t> a = randomBytes(static_cast<size_t>(M * K), rng);
  std::vector<uint8_t> wb = randomBytes(static_cast<size_t>(K * N), rng);
  std::bernoulli_distribution keep(density);
  for (int64_t q = 0; q * 4 < K; ++q)
    for (int64_t p = 0; p * 16 < N; ++p)
      if (!keep(rng))
        for (int64_t k = 4 * q; k < K && k < 4 * q + 4; ++k)
          for (int64_t j = 16 * p; j < N && j < 16 * p + 16; ++j)
            wb[static_cast<size_t>(k * N + j)] = 0;
  const int8_t *w = reinterpret_cast<const int8_t *>(wb.data());
  const bool dense = density >= 1.0;
  AlignedBytes wp(dense ? lopper_pack_matmul_b_s8_size(K, N)
                        : lopper_pack_matmul_bsr_s8_size(K, N, w, N, 1));
  if (dense)
    lopper_pack_matmul_b_s8(K, N, w, N, 1, wp.p);
  else
    lopper_pack_matmul_bsr_s8(K, N, w, N, 1, wp.p);
  std::vector<float> scales(static_cast<size_t>(N), 1e-3f);
  std::vector<float> bias = randomVector(static_cast<size_t>(N), rng, 0.1f);
  std::vector<uint8_t> c(static_cast<size_t>(M * N));
  std::vector<int64_t> ip(LOPPER_QMM_IP_COUNT);
  ip[LOPPER_QMM_IP_BATCH] = 1;
  ip[LOPPER_QMM_IP_M] = M;
  ip[LOPPER_QMM_IP_N] = N;
  ip[LOPPER_QMM_IP_K] = K;
  ip[LOPPER_QMM_IP_A_RS] = K;
  ip[LOPPER_QMM_IP_A_TYPE] = LOPPER_QIN_U8;
  ip[LOPPER_QMM_IP_A_ZP] = 3;
  ip[LOPPER_QMM_IP_LDC] = N;
  ip[LOPPER_QMM_IP_OUT_TYPE] = LOPPER_QTYPE_U8;
  float fp[LOPPER_QFP_COUNT] = {0, 0, 0.02f, 0.05f};
  char name[96];
  if (dense)
    std::snprintf(name, sizeof name, "bsr dense q8 %lldx%lldx%lld",
                  static_cast<long long>(M), static_cast<long long>(N),
                  static_cast<long long>(K));
  else
    std::snprintf(name, sizeof name, "bsr q8 4x16 %lldx%lldx%lld %.0f%% sparse",
                  static_cast<long long>(M), static_cast<long long>(N),
                  static_cast<long long>(K), 100 * (1 - density));
  report(r, name, 2.0 * static_cast<double>(M * N * K), [&](void *rt) {
    (dense ? lopper_k_matmul_q8_v1 : lopper_k_matmul_bsr_q8_v1)(
        rt, ip.data(), fp, a.data(), wp.p, scales.data(), bias.data(), nullptr,
        c.data());
  });
}

void benchDenseRef(const Runner &r, int64_t M, int64_t N, int64_t K) {
  char name[96];
  std::snprintf(name, sizeof name, "bsr dense fp32 %lldx%lldx%lld",
                static_cast<long long>(M), static_cast<long long>(N),
                static_cast<long long>(K));
  benchMatmul(r, name, M, N, K, LOPPER_ACT_NONE);
}

// The distinct convolutions of ResNet-50 (v1.5) at batch 1.
const ConvCase kResNet50[] = {
    {"r50 conv1 7x7 s2 3->64 224", 3, 224, 224, 64, 7, 7, 2, 3, 1},
    {"r50 1x1 64->64 56x56", 64, 56, 56, 64, 1, 1, 1, 0, 1},
    {"r50 3x3 64 56x56", 64, 56, 56, 64, 3, 3, 1, 1, 1},
    {"r50 1x1 64->256 56x56", 64, 56, 56, 256, 1, 1, 1, 0, 1},
    {"r50 1x1 256->64 56x56", 256, 56, 56, 64, 1, 1, 1, 0, 1},
    {"r50 3x3 s2 128 56->28", 128, 56, 56, 128, 3, 3, 2, 1, 1},
    {"r50 3x3 128 28x28", 128, 28, 28, 128, 3, 3, 1, 1, 1},
    {"r50 1x1 512->128 28x28", 512, 28, 28, 128, 1, 1, 1, 0, 1},
    {"r50 3x3 256 14x14", 256, 14, 14, 256, 3, 3, 1, 1, 1},
    {"r50 1x1 1024->256 14x14", 1024, 14, 14, 256, 1, 1, 1, 0, 1},
    {"r50 3x3 512 7x7", 512, 7, 7, 512, 3, 3, 1, 1, 1},
    {"r50 1x1 512->2048 7x7", 512, 7, 7, 2048, 1, 1, 1, 0, 1},
    {"r50 depthwise 3x3 144 56x56 (MobileNet)", 144, 56, 56, 144, 3, 3, 1, 1,
     144},
};

// name, C, H, W, M, KH, KW, stride, pad, group
const ConvCase kResNet18[] = {
    {"r18 conv1 7x7 s2 3->64 224", 3, 224, 224, 64, 7, 7, 2, 3, 1},
    {"r18 3x3 64 56x56", 64, 56, 56, 64, 3, 3, 1, 1, 1},
    {"r18 3x3 s2 64->128 56->28", 64, 56, 56, 128, 3, 3, 2, 1, 1},
    {"r18 1x1 s2 64->128 56->28", 64, 56, 56, 128, 1, 1, 2, 0, 1},
    {"r18 3x3 128 28x28", 128, 28, 28, 128, 3, 3, 1, 1, 1},
    {"r18 3x3 s2 128->256 28->14", 128, 28, 28, 256, 3, 3, 2, 1, 1},
    {"r18 1x1 s2 128->256 28->14", 128, 28, 28, 256, 1, 1, 2, 0, 1},
    {"r18 3x3 256 14x14", 256, 14, 14, 256, 3, 3, 1, 1, 1},
    {"r18 3x3 s2 256->512 14->7", 256, 14, 14, 512, 3, 3, 2, 1, 1},
    {"r18 1x1 s2 256->512 14->7", 256, 14, 14, 512, 1, 1, 2, 0, 1},
    {"r18 3x3 512 7x7", 512, 7, 7, 512, 3, 3, 1, 1, 1},
};
// How often each of kResNet18 occurs in the network.
const int kResNet18Count[] = {1, 4, 1, 1, 3, 1, 1, 3, 1, 1, 3};

const ConvCase kOther[] = {
    {"1x1 64->256 56x56", 64, 56, 56, 256, 1, 1, 1, 0, 1},
    {"1x1 512->2048 7x7", 512, 7, 7, 2048, 1, 1, 1, 0, 1},
    {"3x3 g32 256 14x14 (ResNeXt)", 256, 14, 14, 256, 3, 3, 1, 1, 32},
    {"depthwise 3x3 144 56x56", 144, 56, 56, 144, 3, 3, 1, 1, 144},
    {"depthwise 3x3 s2 144 56->28", 144, 56, 56, 144, 3, 3, 2, 1, 144},
    {"depthwise 3x3 s2 96 112->56", 96, 112, 112, 96, 3, 3, 2, 1, 96},
    {"depthwise 5x5 s2 240 28->14", 240, 28, 28, 240, 5, 5, 2, 2, 240},
};

} // namespace

int main(int argc, char **argv) {
  int threads = 2;
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (!std::strncmp(a, "--threads=", 10))
      threads = std::atoi(a + 10);
    else if (!std::strncmp(a, "--isa=", 6))
      setIsaForTesting(isaFromString(a + 6, detectedIsa()));
    else if (!std::strncmp(a, "--filter=", 9))
      filter = a + 9;
    else if (!std::strncmp(a, "--seconds=", 10))
      gSeconds = std::atof(a + 10);
    else if (!std::strcmp(a, "--cpu-time"))
      gCpuTime = true;
    else {
      std::fprintf(stderr,
                   "usage: %s [--threads=N] [--isa=avx512|avx2|scalar] "
                   "[--filter=SUBSTRING] [--seconds=S] [--cpu-time]\n",
                   argv[0]);
      return 2;
    }
  }
  Runner r;
  r.one = benchPoolCreate(1);
  r.many = benchPoolCreate(threads);
  r.threads = threads;
  std::printf("%-6s %-44s %15s | %15s | %15s\n", "isa", "case",
              "rt=NULL ms GF/s", "1 thread", "threads");
  std::printf("%-6s %-44s %15s | %15s | %12d thr%s\n", "", "", "", "", threads,
              gCpuTime ? " (wall time)" : "");
  auto want = [&](const char *name) {
    return filter.empty() || std::strstr(name, filter.c_str());
  };
  // The convolutions of ResNet-18, then their total per inference.
  double total[3] = {0, 0, 0};
  bool all = true;
  for (size_t i = 0; i < sizeof kResNet18 / sizeof kResNet18[0]; ++i) {
    if (!want(kResNet18[i].name)) {
      all = false;
      continue;
    }
    const Times t = benchConv(r, kResNet18[i], LOPPER_ACT_RELU);
    for (int j = 0; j < 3; ++j)
      total[j] += kResNet18Count[i] * t.s[j];
  }
  if (all)
    std::printf("%-6s %-44s %8.3f %6s | %8.3f %6s | %8.3f %6s\n", "",
                "r18 all 20 convs (sum of the above x count)", total[0] * 1e3,
                "", total[1] * 1e3, "", total[2] * 1e3, "");
  for (const ConvCase &c : kOther)
    if (want(c.name))
      benchConv(r, c, LOPPER_ACT_RELU);
  if (want("gemm")) {
    benchMatmul(r, "gemm 256x256x256", 256, 256, 256, LOPPER_ACT_NONE);
    benchMatmul(r, "gemm 512x512x512", 512, 512, 512, LOPPER_ACT_NONE);
    benchMatmul(r, "gemv 1x1000x512 (r18 fc)", 1, 1000, 512, LOPPER_ACT_NONE);
    benchMatmul(r, "gemm 128x3072x32 none", 128, 3072, 32, LOPPER_ACT_NONE);
    benchMatmul(r, "gemm 128x3072x32 gelu", 128, 3072, 32, LOPPER_ACT_GELU);
    benchMatmul(r, "gemm 128x3072x32 gelu_tanh", 128, 3072, 32,
                LOPPER_ACT_GELU_TANH);
  }
  if (filter.empty() || filter.find("q8") != std::string::npos) {
    std::printf("int8 (%s): GOP/s\n", q8KernelsFor(activeIsa()).name);
    struct {
      const char *name;
      int64_t M, N, K;
      int aType, outType;
    } const mm[] = {
        {"q8 gemm 1024^3 u8 -> f32", 1024, 1024, 1024, LOPPER_QIN_U8,
         LOPPER_QTYPE_F32},
        {"q8 gemm 1024^3 u8 -> u8", 1024, 1024, 1024, LOPPER_QIN_U8,
         LOPPER_QTYPE_U8},
        {"q8 gemm 1024^3 f32 dynamic -> f32", 1024, 1024, 1024, LOPPER_QIN_F32,
         LOPPER_QTYPE_F32},
        {"q8 gemm 128x768x768 u8 -> u8", 128, 768, 768, LOPPER_QIN_U8,
         LOPPER_QTYPE_U8},
    };
    for (const auto &m : mm)
      if (want(m.name))
        benchMatmulQ8(r, m.name, m.M, m.N, m.K, m.aType, m.outType);
    for (const ConvCase &c : kResNet50)
      if (want(c.name) || std::strstr("q8", filter.c_str()))
        benchConvQ8(r, c);
  }
  if (filter.empty() || filter.find("bsr") != std::string::npos) {
    // Densities from 0.7 down: where block-sparse overtakes dense (the
    // cost model's rates in lib/Conversion/LopToCPU/CostModel.cpp).
    for (int64_t M : {128, 1}) {
      benchDenseRef(r, M, 1024, 1024);
      for (double d : {0.7, 0.5, 0.3, 0.2, 0.1})
        benchSparse(r, M, 1024, 1024, d);
    }
    for (int64_t M : {128, 1}) {
      benchSparseQ8(r, M, 1024, 1024, 1.0);
      for (double d : {0.7, 0.5, 0.3, 0.2, 0.1})
        benchSparseQ8(r, M, 1024, 1024, d);
    }
  }
  benchPoolDestroy(r.many);
  benchPoolDestroy(r.one);
  return 0;
}
