// AVX-512 VNNI int8 tile (vpdpbusd: u8 x s8, 4 products summed into each
// int32 lane). Compiled with the default flags: the functions carry the
// target attribute and run only after CPUID said yes (q8KernelsFor).
#include "cpu_internal.h"

#include "lopper/artifact_abi.h"

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

// acc += dpbusd(u, s): 16 lanes of 4 u8 x 4 s8 products. Inline asm: with
// GCC 12's builtin the accumulators are copied through low registers and
// the stack on every use (the "v" constraint allows all 32 zmm).
LOPPER_VNNI inline __m512i dpbusd(__m512i acc, __m512i u, __m512i s) {
#if defined(__GNUC__) && !defined(__clang__)
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(s));
  return acc;
#else
  return _mm512_dpbusd_epi32(acc, u, s);
#endif
}

// The scaled store of one accumulator (row r, vector v) into the tile.
LOPPER_VNNI inline void storeScaled(const Q8TileArgs &t, int r, int v,
                                    __m512i acc) {
  const __m512i c = t.perRow ? _mm512_set1_epi32(t.corr[r])
                             : _mm512_loadu_si512(t.corr + 16 * v);
  const __m512 s =
      t.perRow ? _mm512_set1_ps(t.scale[r]) : _mm512_loadu_ps(t.scale + 16 * v);
  _mm512_storeu_ps(
      t.out + (v / 2) * 256 + r * 32 + (v % 2) * 16,
      _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc, c)), s));
}

// One array of accumulators per vector column: GCC keeps arrays of up to
// 8 zmm in registers, but not one of 24 (it would spill every iteration).
template <int NV, bool BCS> LOPPER_VNNI void tileVnni(const Q8TileArgs &t) {
  __m512i a0[8], a1[8], a2[8];
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r) {
    a0[r] = _mm512_setzero_si512();
    a1[r] = _mm512_setzero_si512();
    a2[r] = _mm512_setzero_si512();
  }
  const uint8_t *bc = t.bc;
  const uint8_t *vec = t.vec;
  const int64_t vs = t.vecStride;
  for (int64_t q = 0; q < t.kq; ++q, bc += 32, vec += 64) {
    const __m512i w0 = _mm512_loadu_si512(vec);
    const __m512i w1 = NV > 1 ? _mm512_loadu_si512(vec + vs) : w0;
    const __m512i w2 = NV > 2 ? _mm512_loadu_si512(vec + 2 * vs) : w0;
#pragma GCC unroll 8
    for (int r = 0; r < 8; ++r) {
      int32_t word;
      std::memcpy(&word, bc + 4 * r, 4);
      const __m512i b = _mm512_set1_epi32(word);
      if (BCS) {
        a0[r] = dpbusd(a0[r], w0, b);
        if (NV > 1)
          a1[r] = dpbusd(a1[r], w1, b);
        if (NV > 2)
          a2[r] = dpbusd(a2[r], w2, b);
      } else {
        a0[r] = dpbusd(a0[r], b, w0);
        if (NV > 1)
          a1[r] = dpbusd(a1[r], b, w1);
        if (NV > 2)
          a2[r] = dpbusd(a2[r], b, w2);
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r) {
    storeScaled(t, r, 0, a0[r]);
    if (NV > 1)
      storeScaled(t, r, 1, a1[r]);
    if (NV > 2)
      storeScaled(t, r, 2, a2[r]);
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

LOPPER_VNNI void sparseTileVnni(const Q8SparseArgs &t) {
  __m512i acc[8];
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r)
    acc[r] = _mm512_setzero_si512();
  for (int64_t b = 0; b < t.nb; ++b) {
    const __m512i w = _mm512_loadu_si512(t.blocks + b * 64);
    const uint8_t *a = t.bc + static_cast<int64_t>(t.q[b]) * 32;
#pragma GCC unroll 8
    for (int r = 0; r < 8; ++r) {
      int32_t word;
      std::memcpy(&word, a + 4 * r, 4);
      acc[r] = dpbusd(acc[r], _mm512_set1_epi32(word), w);
    }
  }
  const __m512i c = _mm512_loadu_si512(t.corr);
  const __m512 s = _mm512_loadu_ps(t.scale);
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r)
    _mm512_storeu_ps(
        t.out + r * 32,
        _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r], c)), s));
}

// q8Quantize 16 lanes at a time: the same operations (IEEE division,
// clamp, round half to even, add, saturate) as the SSE2 and scalar forms.
LOPPER_VNNI void quantizeAvx512(const float *src, int64_t n, float scale,
                                int32_t zp, int outType, void *dst) {
  const bool u8 = outType == LOPPER_QTYPE_U8;
  const __m512 vs = _mm512_set1_ps(scale);
  const __m512 flo = _mm512_set1_ps(-1e9f), fhi = _mm512_set1_ps(1e9f);
  const __m512i vzp = _mm512_set1_epi32(zp);
  const __m512i lo = _mm512_set1_epi32(u8 ? 0 : -128);
  const __m512i hi = _mm512_set1_epi32(u8 ? 255 : 127);
  int8_t *out = static_cast<int8_t *>(dst);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16
                            ? static_cast<__mmask16>(0xffff)
                            : static_cast<__mmask16>((1u << (n - i)) - 1);
    __m512 f = _mm512_div_ps(_mm512_maskz_loadu_ps(m, src + i), vs);
    f = _mm512_min_ps(_mm512_max_ps(f, flo), fhi);
    __m512i q =
        _mm512_add_epi32(_mm512_cvt_roundps_epi32(f, _MM_FROUND_TO_NEAREST_INT |
                                                         _MM_FROUND_NO_EXC),
                         vzp);
    q = _mm512_min_epi32(_mm512_max_epi32(q, lo), hi);
    _mm512_mask_cvtepi32_storeu_epi8(out + i, m, q);
  }
}

// The float epilogue (epilogueAvx512's operations, exact activations
// only) and quantizeAvx512 without the float round trip.
LOPPER_VNNI void requantAvx512(const float *tile, int64_t mr, int64_t nc,
                               const Epilogue &e, float scale, int32_t zp,
                               int outType, void *dst, int64_t ldc) {
  const bool u8 = outType == LOPPER_QTYPE_U8;
  const __m512 vs = _mm512_set1_ps(scale);
  const __m512 flo = _mm512_set1_ps(-1e9f), fhi = _mm512_set1_ps(1e9f);
  const __m512i vzp = _mm512_set1_epi32(zp);
  const __m512i lo = _mm512_set1_epi32(u8 ? 0 : -128);
  const __m512i hi = _mm512_set1_epi32(u8 ? 255 : 127);
  const __m512 zero = _mm512_setzero_ps();
  const __m512 alpha = _mm512_set1_ps(e.alpha), beta = _mm512_set1_ps(e.beta);
  for (int64_t i = 0; i < mr; ++i) {
    int8_t *out = static_cast<int8_t *>(dst) + i * ldc;
    const float *src = tile + i * 32;
    const __m512 rb =
        e.rowBias ? _mm512_set1_ps(e.rowBias[i * e.rowBiasStride]) : zero;
    const float *a0 = e.add0 ? e.add0 + i * e.ld0 : nullptr;
    const float *a1 = e.add1 ? e.add1 + i * e.ld1 : nullptr;
    for (int64_t j = 0; j < nc; j += 16) {
      const __mmask16 m = nc - j >= 16
                              ? static_cast<__mmask16>(0xffff)
                              : static_cast<__mmask16>((1u << (nc - j)) - 1);
      __m512 v = _mm512_add_ps(_mm512_load_ps(src + j), rb);
      if (e.colBias)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, e.colBias + j));
      if (a0)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, a0 + j));
      if (a1)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, a1 + j));
      switch (e.act) {
      case LOPPER_ACT_RELU:
        v = _mm512_max_ps(v, zero);
        break;
      case LOPPER_ACT_CLIP:
        v = _mm512_min_ps(_mm512_max_ps(v, alpha), beta);
        break;
      case LOPPER_ACT_LEAKY_RELU:
        v = _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), v,
                               alpha);
        break;
      default:
        break;
      }
      __m512 f = _mm512_div_ps(v, vs);
      f = _mm512_min_ps(_mm512_max_ps(f, flo), fhi);
      __m512i q = _mm512_add_epi32(
          _mm512_cvt_roundps_epi32(f, _MM_FROUND_TO_NEAREST_INT |
                                          _MM_FROUND_NO_EXC),
          vzp);
      q = _mm512_min_epi32(_mm512_max_epi32(q, lo), hi);
      _mm512_mask_cvtepi32_storeu_epi8(out + j, m, q);
    }
  }
}

} // namespace

const Q8Kernels q8Avx512Kernels = {"avx512-vnni", tileQ8Avx512, sparseTileVnni,
                                   quantizeAvx512, requantAvx512};

} // namespace cpu
} // namespace lopper

#endif // __x86_64__
