// ISA selection, per-thread scratch memory and the scalar activation.
#include "cpu_internal.h"

#include "lopper/artifact_abi.h"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace lopper {
namespace cpu {

namespace {

Isa detectOnce() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  // GCC and clang check that the OS saves the AVX / AVX-512 state too.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma"))
    return IsaAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return IsaAvx2;
#endif
  return IsaScalar;
}

std::atomic<int> active{-1};

} // namespace

Isa isaFromString(const char *value, Isa detected) {
  if (!value)
    return detected;
  Isa want = detected;
  if (!std::strcmp(value, "scalar"))
    want = IsaScalar;
  else if (!std::strcmp(value, "avx2"))
    want = IsaAvx2;
  else if (!std::strcmp(value, "avx512"))
    want = IsaAvx512;
  return want < detected ? want : detected;
}

Isa detectedIsa() {
  static const Isa detected = detectOnce();
  return detected;
}

Isa activeIsa() {
  int isa = active.load(std::memory_order_relaxed);
  if (isa < 0) {
    isa = isaFromString(std::getenv("LOPPER_CPU_ISA"), detectedIsa());
    int expected = -1;
    if (!active.compare_exchange_strong(expected, isa))
      isa = expected;
  }
  return static_cast<Isa>(isa);
}

Isa setIsaForTesting(Isa isa) {
  if (isa > detectedIsa())
    isa = detectedIsa();
  active.store(isa);
  return isa;
}

const char *isaName(Isa isa) {
  switch (isa) {
  case IsaAvx512:
    return "avx512";
  case IsaAvx2:
    return "avx2";
  default:
    return "scalar";
  }
}

const Kernels &kernelsFor(Isa isa) {
#if defined(__x86_64__)
  if (isa == IsaAvx512)
    return avx512Kernels;
  if (isa == IsaAvx2)
    return avx2Kernels;
#else
  (void)isa;
#endif
  return scalarKernels;
}

bool cpuHasVnni() {
#if defined(__x86_64__)
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") &&
           __builtin_cpu_supports("avx512bw");
  }();
  return has;
#else
  return false;
#endif
}

const Q8Kernels &q8KernelsFor(Isa isa) {
#if defined(__x86_64__)
  if (isa == IsaAvx512 && cpuHasVnni())
    return q8Avx512Kernels;
  if (isa >= IsaAvx2)
    return q8Avx2Kernels;
#else
  (void)isa;
#endif
  return q8ScalarKernels;
}

float activateScalar(float x, int act, float alpha, float beta) {
  switch (act) {
  case LOPPER_ACT_RELU:
    return x > 0.0f ? x : 0.0f;
  case LOPPER_ACT_CLIP:
    return std::fmin(std::fmax(x, alpha), beta);
  case LOPPER_ACT_SIGMOID:
    return 1.0f / (1.0f + std::exp(-x));
  case LOPPER_ACT_SILU:
    return x / (1.0f + std::exp(-x));
  case LOPPER_ACT_GELU:
    return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
  case LOPPER_ACT_GELU_TANH: {
    float u = 0.79788456080286536f * (x + 0.044715f * x * x * x);
    return 0.5f * x * (1.0f + std::tanh(u));
  }
  case LOPPER_ACT_HARD_SWISH:
    return x * std::fmin(std::fmax(x * (1.0f / 6.0f) + 0.5f, 0.0f), 1.0f);
  case LOPPER_ACT_LEAKY_RELU:
    return x >= 0.0f ? x : alpha * x;
  case LOPPER_ACT_TANH:
    return std::tanh(x);
  default:
    return x;
  }
}

float erfPoly(float x) {
  float ax = std::fmin(std::fabs(x), 4.0f);
  if (std::isnan(x))
    return x;
  int i = static_cast<int>(ax * 2.0f);
  if (i > 7)
    i = 7;
  const float t = ax - kErfCenter[i];
  float p = kErfPoly[kErfDegree][i];
  for (int j = kErfDegree - 1; j >= 0; --j)
    p = std::fma(p, t, kErfPoly[j][i]);
  return std::copysign(std::fmin(p, 1.0f), x);
}

namespace {
struct ScratchSlots {
  float *ptr[kScratchSlots] = {};
  size_t cap[kScratchSlots] = {};
  ~ScratchSlots() {
    for (float *p : ptr)
      std::free(p);
  }
};
thread_local ScratchSlots slots;
} // namespace

float *scratch(int slot, size_t floats) {
  ScratchSlots &s = slots;
  if (floats > s.cap[slot]) {
    std::free(s.ptr[slot]);
    // Grow geometrically; round to whole cache lines and add one line of
    // slack so that kernels may over-read a vector at the end.
    size_t cap = floats + floats / 2 + 16;
    cap = (cap + 15) / 16 * 16;
    void *p = nullptr;
    if (posix_memalign(&p, 64, cap * sizeof(float)) != 0)
      std::abort();
    s.ptr[slot] = static_cast<float *>(p);
    s.cap[slot] = cap;
  }
  return s.ptr[slot];
}

} // namespace cpu
} // namespace lopper
