// The running CPU's features as LOPPER_CPU_* bits.
#include "internal.h"

#include <atomic>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace lopper {
namespace rt {

namespace {
std::atomic<bool> overrideOn{false};
std::atomic<uint64_t> overrideMask{0};

#if defined(__x86_64__) || defined(__i386__)
uint64_t xgetbv0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

uint64_t detect() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d))
    return 0;
  uint64_t f = 0;
  if (c & (1u << 20))
    f |= LOPPER_CPU_SSE42;
  // AVX state (XMM and YMM) must be enabled by the OS; AVX-512 also needs
  // the opmask, ZMM_Hi256 and Hi16_ZMM state.
  bool osxsave = c & (1u << 27);
  uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  bool avxState = (xcr0 & 0x6) == 0x6;
  bool avx512State = avxState && (xcr0 & 0xe0) == 0xe0;
  if (avxState) {
    if (c & (1u << 28))
      f |= LOPPER_CPU_AVX;
    if (c & (1u << 12))
      f |= LOPPER_CPU_FMA;
    if (c & (1u << 29))
      f |= LOPPER_CPU_F16C;
  }
  unsigned maxLeaf = __get_cpuid_max(0, nullptr);
  if (maxLeaf >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    unsigned maxSub = a;
    if (b & (1u << 8))
      f |= LOPPER_CPU_BMI2;
    // AMX tile state (XTILECFG, XTILEDATA) must be enabled by the OS.
    if ((d & (1u << 24)) && (xcr0 & 0x60000) == 0x60000)
      f |= LOPPER_CPU_AMX_TILE;
    if (avxState && (b & (1u << 5)))
      f |= LOPPER_CPU_AVX2;
    if (avx512State) {
      if (b & (1u << 16))
        f |= LOPPER_CPU_AVX512F;
      if (b & (1u << 17))
        f |= LOPPER_CPU_AVX512DQ;
      if (b & (1u << 30))
        f |= LOPPER_CPU_AVX512BW;
      if (b & (1u << 31))
        f |= LOPPER_CPU_AVX512VL;
      if (c & (1u << 11))
        f |= LOPPER_CPU_AVX512VNNI;
      if (d & (1u << 23))
        f |= LOPPER_CPU_AVX512FP16;
      if (maxSub >= 1) {
        __cpuid_count(7, 1, a, b, c, d);
        if (a & (1u << 5))
          f |= LOPPER_CPU_AVX512BF16;
      }
    }
  }
  return f;
}
#elif defined(__aarch64__)
uint64_t detect() { return LOPPER_CPU_NEON; }
#else
uint64_t detect() { return 0; }
#endif
} // namespace

uint64_t hostCpuFeatures() {
  if (overrideOn.load(std::memory_order_acquire))
    return overrideMask.load(std::memory_order_relaxed);
  static const uint64_t features = detect();
  return features;
}

void overrideCpuFeaturesForTesting(bool enable, uint64_t mask) {
  overrideMask.store(mask, std::memory_order_relaxed);
  overrideOn.store(enable, std::memory_order_release);
}

std::string cpuFeatureNames(uint64_t mask) {
  static const struct {
    uint64_t bit;
    const char *name;
  } names[] = {
      {LOPPER_CPU_SSE42, "sse4.2"},
      {LOPPER_CPU_AVX, "avx"},
      {LOPPER_CPU_AVX2, "avx2"},
      {LOPPER_CPU_FMA, "fma"},
      {LOPPER_CPU_BMI2, "bmi2"},
      {LOPPER_CPU_F16C, "f16c"},
      {LOPPER_CPU_AVX512F, "avx512f"},
      {LOPPER_CPU_AVX512BW, "avx512bw"},
      {LOPPER_CPU_AVX512DQ, "avx512dq"},
      {LOPPER_CPU_AVX512VL, "avx512vl"},
      {LOPPER_CPU_AVX512VNNI, "avx512vnni"},
      {LOPPER_CPU_AVX512BF16, "avx512bf16"},
      {LOPPER_CPU_AVX512FP16, "avx512fp16"},
      {LOPPER_CPU_AMX_TILE, "amx-tile"},
      {LOPPER_CPU_NEON, "neon"},
  };
  std::string s;
  for (int bit = 0; bit < 64; ++bit) {
    uint64_t b = 1ull << bit;
    if (!(mask & b))
      continue;
    if (!s.empty())
      s += ", ";
    const char *name = nullptr;
    for (const auto &n : names)
      if (n.bit == b)
        name = n.name;
    s += name ? std::string(name) : "bit" + std::to_string(bit);
  }
  return s;
}

} // namespace rt
} // namespace lopper
