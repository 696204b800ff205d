// AVX-512 VNNI int8 tile (vpdpbusd: u8 x s8, 4 products summed into each
// int32 lane). Compiled with the default flags: the functions carry the
// target attribute and run only after CPUID said yes (q8KernelsFor).
#include "cpu_internal.h"

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 intrinsics pass a self-initialized variable as the
// unused merge source: spurious warnings (see kern_avx512.cpp).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstring>

#define LOPPER_VNNI                                                            \
  __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx512vnni")))

namespace lopper {
namespace cpu {

namespace {

template <int NV, bool BCS> LOPPER_VNNI void tileVnni(const Q8TileArgs &t) {
  __m512i acc[8][NV];
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r)
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v)
      acc[r][v] = _mm512_setzero_si512();
  const uint8_t *bc = t.bc;
  const uint8_t *vec = t.vec;
  const int64_t vs = t.vecStride;
  for (int64_t q = 0; q < t.kq; ++q, bc += 32, vec += 64) {
    __m512i w[NV];
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v)
      w[v] = _mm512_loadu_si512(vec + v * vs);
#pragma GCC unroll 8
    for (int r = 0; r < 8; ++r) {
      int32_t word;
      std::memcpy(&word, bc + 4 * r, 4);
      const __m512i b = _mm512_set1_epi32(word);
#pragma GCC unroll 3
      for (int v = 0; v < NV; ++v)
        acc[r][v] = BCS ? _mm512_dpbusd_epi32(acc[r][v], w[v], b)
                        : _mm512_dpbusd_epi32(acc[r][v], b, w[v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r) {
    __m512i rc = _mm512_setzero_si512();
    __m512 rs = _mm512_setzero_ps();
    if (t.perRow) {
      rc = _mm512_set1_epi32(t.corr[r]);
      rs = _mm512_set1_ps(t.scale[r]);
    }
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) {
      const __m512i c = t.perRow ? rc : _mm512_loadu_si512(t.corr + 16 * v);
      const __m512 s = t.perRow ? rs : _mm512_loadu_ps(t.scale + 16 * v);
      const __m512 f =
          _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][v], c)), s);
      _mm512_storeu_ps(t.out + (v / 2) * 256 + r * 32 + (v % 2) * 16, f);
    }
  }
}

void tileQ8Avx512(const Q8TileArgs &t) {
  if (t.bcSigned) {
    if (t.nv == 3)
      tileVnni<3, true>(t);
    else if (t.nv == 2)
      tileVnni<2, true>(t);
    else
      tileVnni<1, true>(t);
  } else {
    if (t.nv == 3)
      tileVnni<3, false>(t);
    else if (t.nv == 2)
      tileVnni<2, false>(t);
    else
      tileVnni<1, false>(t);
  }
}

} // namespace

const Q8Kernels q8Avx512Kernels = {"avx512-vnni", tileQ8Avx512};

} // namespace cpu
} // namespace lopper

#endif // __x86_64__
