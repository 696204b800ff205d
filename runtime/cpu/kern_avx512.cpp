// AVX-512 micro-kernels (AVX-512F/VL/DQ + FMA). Compiled with the default
// flags: every function that uses AVX-512 carries the target attribute and
// is only called after CPUID said yes (see dispatch.cpp).
#include "cpu_internal.h"

#include "lopper/artifact_abi.h"

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 intrinsics pass _mm512_undefined_ps() (a self-initialized
// variable) as the unused merge source: spurious -Wmaybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#define LOPPER_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,fma")))

namespace lopper {
namespace cpu {

namespace {

// The first min(max(n, 0), 16) lanes.
LOPPER_AVX512 inline __mmask16 tailMask(int64_t n) {
  if (n <= 0)
    return 0;
  return n >= 16 ? static_cast<__mmask16>(0xffff)
                 : static_cast<__mmask16>((1u << n) - 1u);
}

// exp(x) for x clamped to [-87, 88], ~1 ulp (Cephes polynomial).
LOPPER_AVX512 inline __m512 exp512(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)),
                    _mm512_set1_ps(88.0f));
  __m512 n = _mm512_roundscale_ps(
      _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  __m512 r2 = _mm512_mul_ps(r, r);
  p = _mm512_fmadd_ps(p, r2, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

LOPPER_AVX512 inline __m512 tanh512(__m512 v) {
  const __m512 one = _mm512_set1_ps(1.0f);
  __m512 ax = _mm512_abs_ps(v);
  __m512 t = exp512(_mm512_mul_ps(ax, _mm512_set1_ps(-2.0f)));
  __m512 big = _mm512_div_ps(_mm512_sub_ps(one, t), _mm512_add_ps(one, t));
  // Odd Taylor series below 0.25, where 1 - exp(-2x) cancels.
  __m512 x2 = _mm512_mul_ps(ax, ax);
  __m512 p = _mm512_set1_ps(62.0f / 2835.0f);
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(-17.0f / 315.0f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(2.0f / 15.0f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(-1.0f / 3.0f));
  p = _mm512_mul_ps(p, x2);
  __m512 small = _mm512_fmadd_ps(p, ax, ax);
  __mmask16 isSmall = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.25f), _CMP_LT_OQ);
  __m512 r = _mm512_mask_blend_ps(isSmall, big, small);
  const __m512i signBit = _mm512_set1_epi32(static_cast<int>(0x80000000u));
  return _mm512_castsi512_ps(
      _mm512_or_si512(_mm512_castps_si512(r),
                      _mm512_and_si512(_mm512_castps_si512(v), signBit)));
}

LOPPER_AVX512 inline __m512 act512(__m512 v, int act, float alpha, float beta) {
  const __m512 one = _mm512_set1_ps(1.0f);
  switch (act) {
  case LOPPER_ACT_RELU:
    return _mm512_max_ps(v, _mm512_setzero_ps());
  case LOPPER_ACT_CLIP:
    return _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(alpha)),
                         _mm512_set1_ps(beta));
  case LOPPER_ACT_SIGMOID:
    return _mm512_div_ps(
        one, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), v))));
  case LOPPER_ACT_SILU:
    return _mm512_div_ps(
        v, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), v))));
  case LOPPER_ACT_GELU: {
    alignas(64) float tmp[16];
    _mm512_store_ps(tmp, v);
    for (float &x : tmp)
      x = activateScalar(x, LOPPER_ACT_GELU, alpha, beta);
    return _mm512_load_ps(tmp);
  }
  case LOPPER_ACT_GELU_TANH: {
    // 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u))
    __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(v, v), v);
    __m512 u = _mm512_mul_ps(_mm512_fmadd_ps(x3, _mm512_set1_ps(0.044715f), v),
                             _mm512_set1_ps(-2.0f * 0.79788456080286536f));
    return _mm512_div_ps(v, _mm512_add_ps(one, exp512(u)));
  }
  case LOPPER_ACT_HARD_SWISH: {
    __m512 h =
        _mm512_fmadd_ps(v, _mm512_set1_ps(1.0f / 6.0f), _mm512_set1_ps(0.5f));
    h = _mm512_min_ps(_mm512_max_ps(h, _mm512_setzero_ps()), one);
    return _mm512_mul_ps(v, h);
  }
  case LOPPER_ACT_LEAKY_RELU: {
    __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_mul_ps(v, neg, v, _mm512_set1_ps(alpha));
  }
  case LOPPER_ACT_TANH:
    return tanh512(v);
  default:
    return v;
  }
}

// R rows x (16*NV) columns; see TileArgs.
template <int R, int NV, bool ROWS, bool MASKED>
LOPPER_AVX512 void tile512(const TileArgs &t) {
  __m512 acc[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      acc[r][v] = _mm512_setzero_ps();
  const __mmask16 m0 = tailMask(t.nc);
  const __mmask16 m1 = tailMask(t.nc - 16);
  const float *a = t.a;
  const float *b = t.b;
  const int64_t as = t.as, ldb = t.ldb;
  for (int64_t k = 0; k < t.kc; ++k) {
    __m512 b0, b1;
    if (MASKED) {
      b0 = _mm512_maskz_loadu_ps(m0, b);
      b1 = NV == 2 ? _mm512_maskz_loadu_ps(m1, b + 16) : b0;
    } else {
      b0 = _mm512_loadu_ps(b);
      b1 = NV == 2 ? _mm512_loadu_ps(b + 16) : b0;
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      __m512 av = _mm512_set1_ps(ROWS ? a[r * as + k] : a[r]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      if (NV == 2)
        acc[r][NV - 1] = _mm512_fmadd_ps(av, b1, acc[r][NV - 1]);
    }
    b += ldb;
    if (!ROWS)
      a += as;
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    float *c = t.c + r * t.ldc;
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      const __mmask16 m = v == 0 ? m0 : m1;
      __m512 x = acc[r][v];
      if (t.cin)
        x = _mm512_add_ps(
            x, _mm512_maskz_loadu_ps(m, t.cin + r * t.ldcin + 16 * v));
      if (t.cFull)
        _mm512_store_ps(c + 16 * v, x);
      else
        _mm512_mask_storeu_ps(c + 16 * v, m, x);
    }
  }
}

template <int R, bool ROWS, bool MASKED>
LOPPER_AVX512 void tileRows(const TileArgs &t) {
  if (t.nc > 16)
    tile512<R, 2, ROWS, MASKED>(t);
  else
    tile512<R, 1, ROWS, MASKED>(t);
}

using TileFn = void (*)(const TileArgs &);

#define LOPPER_TILE_ROWS(ROWS, MASKED)                                         \
  {                                                                            \
    tileRows<1, ROWS, MASKED>, tileRows<2, ROWS, MASKED>,                      \
        tileRows<3, ROWS, MASKED>, tileRows<4, ROWS, MASKED>,                  \
        tileRows<5, ROWS, MASKED>, tileRows<6, ROWS, MASKED>,                  \
        tileRows<7, ROWS, MASKED>, tileRows<8, ROWS, MASKED>                   \
  }

const TileFn tileTable[2][2][8] = {
    {LOPPER_TILE_ROWS(false, false), LOPPER_TILE_ROWS(false, true)},
    {LOPPER_TILE_ROWS(true, false), LOPPER_TILE_ROWS(true, true)}};

#undef LOPPER_TILE_ROWS

void tileAvx512(const TileArgs &t) {
  tileTable[t.aRows][t.bMasked][t.mr - 1](t);
}

LOPPER_AVX512 void epilogueAvx512(const float *tile, float *c, int64_t ldc,
                                  int64_t mr, int64_t nc, const Epilogue &e) {
  for (int64_t i = 0; i < mr; ++i) {
    float *row = c + i * ldc;
    const float *src = tile + i * NR;
    __m512 rb = e.rowBias ? _mm512_set1_ps(e.rowBias[i * e.rowBiasStride])
                          : _mm512_setzero_ps();
    const float *a0 = e.add0 ? e.add0 + i * e.ld0 : nullptr;
    const float *a1 = e.add1 ? e.add1 + i * e.ld1 : nullptr;
    for (int64_t j = 0; j < nc; j += 16) {
      __mmask16 m = tailMask(nc - j);
      __m512 v = _mm512_add_ps(_mm512_load_ps(src + j), rb);
      if (e.colBias)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, e.colBias + j));
      if (a0)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, a0 + j));
      if (a1)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, a1 + j));
      _mm512_mask_storeu_ps(row + j, m, act512(v, e.act, e.alpha, e.beta));
    }
  }
}

// R rows x NV vectors of output starting at column x0; the last vector of
// each row masked with `last`.
template <int R, int NV>
LOPPER_AVX512 void dwBlock512(const DwRowArgs &d, int64_t r0, int64_t x0,
                              __mmask16 last) {
  __m512 acc[R][NV];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[r][v] = _mm512_setzero_ps();
  const int64_t step = d.rowStep;
  for (int64_t t = 0; t < d.ntaps; ++t) {
    __m512 w = _mm512_set1_ps(d.w[t]);
    const float *p = d.taps[t] + r0 * step + x0;
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
      for (int v = 0; v < NV - 1; ++v)
        acc[r][v] = _mm512_fmadd_ps(w, _mm512_loadu_ps(p + r * step + 16 * v),
                                    acc[r][v]);
      acc[r][NV - 1] = _mm512_fmadd_ps(
          w, _mm512_maskz_loadu_ps(last, p + r * step + 16 * (NV - 1)),
          acc[r][NV - 1]);
    }
  }
  __m512 bias = d.bias ? _mm512_set1_ps(*d.bias) : _mm512_setzero_ps();
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    float *y = d.y + (r0 + r) * d.ldy + x0;
    const float *res = d.res ? d.res + (r0 + r) * d.ldy + x0 : nullptr;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      __mmask16 m = v == NV - 1 ? last : static_cast<__mmask16>(0xffff);
      __m512 x = _mm512_add_ps(acc[r][v], bias);
      if (res)
        x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m, res + 16 * v));
      _mm512_mask_storeu_ps(y + 16 * v, m, act512(x, d.act, d.alpha, d.beta));
    }
  }
}

template <int R>
LOPPER_AVX512 void dwRowGroup512(const DwRowArgs &d, int64_t r0) {
  for (int64_t x0 = 0; x0 < d.ow; x0 += 64) {
    int64_t n = d.ow - x0 < 64 ? d.ow - x0 : 64;
    __mmask16 last = tailMask(n - (n - 1) / 16 * 16);
    switch ((n + 15) / 16) {
    case 1:
      dwBlock512<R, 1>(d, r0, x0, last);
      break;
    case 2:
      dwBlock512<R, 2>(d, r0, x0, last);
      break;
    case 3:
      dwBlock512<R, 3>(d, r0, x0, last);
      break;
    default:
      dwBlock512<R, 4>(d, r0, x0, last);
      break;
    }
  }
}

// Four rows at a time: 16 independent accumulators keep the FMA pipes busy.
LOPPER_AVX512 void dwRowsAvx512(const DwRowArgs &d) {
  int64_t r0 = 0;
  for (; r0 + 4 <= d.rows; r0 += 4)
    dwRowGroup512<4>(d, r0);
  switch (d.rows - r0) {
  case 3:
    dwRowGroup512<3>(d, r0);
    break;
  case 2:
    dwRowGroup512<2>(d, r0);
    break;
  case 1:
    dwRowGroup512<1>(d, r0);
    break;
  default:
    break;
  }
}

// Lanes j < 16 with lo <= j < hi.
LOPPER_AVX512 inline __mmask16 rangeMask(int64_t lo, int64_t hi) {
  return static_cast<__mmask16>(tailMask(hi) & ~tailMask(lo));
}

// R output rows x NV vectors at (r0, x0) of a unit-width-stride depthwise
// conv; `lanes` valid outputs in the last vector.
template <int R, int NV>
LOPPER_AVX512 void dwPlaneBlock512(const DwPlaneArgs &d, int64_t r0, int64_t x0,
                                   int64_t lanes) {
  __m512 acc[R][NV];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[r][v] = _mm512_setzero_ps();
  // Unit strides and dilation: input row i of the window feeds output row
  // r with kh = i - r, so each loaded vector serves up to R rows.
  const bool shared = d.sh == 1 && d.dh == 1;
  for (int64_t kw = 0; kw < d.KW; ++kw) {
    // Column of lane 0 of vector v: c0 + 16v; lanes outside [0, W) and
    // past the outputs are masked (and never touched in memory).
    const int64_t c0 = x0 - d.pl + kw * d.dw;
    __mmask16 m[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      m[v] = rangeMask(-(c0 + 16 * v), d.W - (c0 + 16 * v)) &
             (v == NV - 1 ? tailMask(lanes) : static_cast<__mmask16>(0xffff));
    const float *wk = d.w + kw;
    if (shared) {
      const int64_t ih0 = r0 - d.pt;
      for (int64_t i = 0; i < R + d.KH - 1; ++i) {
        const int64_t ih = ih0 + i;
        if (ih < 0 || ih >= d.H)
          continue;
        const float *p = d.x + ih * d.W + c0;
        __m512 in[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          in[v] = _mm512_maskz_loadu_ps(m[v], p + 16 * v);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          const int64_t kh = i - r;
          if (kh < 0 || kh >= d.KH)
            continue;
          const __m512 w = _mm512_set1_ps(wk[kh * d.KW]);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v)
            acc[r][v] = _mm512_fmadd_ps(w, in[v], acc[r][v]);
        }
      }
    } else {
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r)
        for (int64_t kh = 0; kh < d.KH; ++kh) {
          const int64_t ih = (r0 + r) * d.sh - d.pt + kh * d.dh;
          if (ih < 0 || ih >= d.H)
            continue;
          const float *p = d.x + ih * d.W + c0;
          const __m512 w = _mm512_set1_ps(wk[kh * d.KW]);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v)
            acc[r][v] = _mm512_fmadd_ps(
                w, _mm512_maskz_loadu_ps(m[v], p + 16 * v), acc[r][v]);
        }
    }
  }
  const __m512 bias = d.bias ? _mm512_set1_ps(*d.bias) : _mm512_setzero_ps();
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    const int64_t o = (r0 + r) * d.OW + x0;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const __mmask16 m =
          v == NV - 1 ? tailMask(lanes) : static_cast<__mmask16>(0xffff);
      __m512 x = _mm512_add_ps(acc[r][v], bias);
      if (d.res)
        x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m, d.res + o + 16 * v));
      _mm512_mask_storeu_ps(d.y + o + 16 * v, m,
                            act512(x, d.act, d.alpha, d.beta));
    }
  }
}

template <int R>
LOPPER_AVX512 void dwPlaneRows512(const DwPlaneArgs &d, int64_t r0) {
  for (int64_t x0 = 0; x0 < d.OW; x0 += 64) {
    const int64_t n = d.OW - x0 < 64 ? d.OW - x0 : 64;
    const int64_t lanes = n - (n - 1) / 16 * 16;
    switch ((n + 15) / 16) {
    case 1:
      dwPlaneBlock512<R, 1>(d, r0, x0, lanes);
      break;
    case 2:
      dwPlaneBlock512<R, 2>(d, r0, x0, lanes);
      break;
    case 3:
      dwPlaneBlock512<R, 3>(d, r0, x0, lanes);
      break;
    default:
      dwPlaneBlock512<R, 4>(d, r0, x0, lanes);
      break;
    }
  }
}

LOPPER_AVX512 void dwPlaneAvx512(const DwPlaneArgs &d) {
  int64_t r0 = 0;
  for (; r0 + 4 <= d.OH; r0 += 4)
    dwPlaneRows512<4>(d, r0);
  switch (d.OH - r0) {
  case 3:
    dwPlaneRows512<3>(d, r0);
    break;
  case 2:
    dwPlaneRows512<2>(d, r0);
    break;
  case 1:
    dwPlaneRows512<1>(d, r0);
    break;
  default:
    break;
  }
}

LOPPER_AVX512 void deinterleave2Avx512(const float *src, int64_t lo, int64_t hi,
                                       int64_t n, float *even, float *odd) {
  const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20,
                                       22, 24, 26, 28, 30);
  const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21,
                                       23, 25, 27, 29, 31);
  for (int64_t j = 0; j < n; j += 16) {
    const int64_t i = 2 * j;
    const __m512 a = _mm512_maskz_loadu_ps(rangeMask(lo - i, hi - i), src + i);
    const __m512 b = _mm512_maskz_loadu_ps(rangeMask(lo - i - 16, hi - i - 16),
                                           src + i + 16);
    const __mmask16 m = tailMask(n - j);
    _mm512_mask_storeu_ps(even + j, m, _mm512_permutex2var_ps(a, ie, b));
    _mm512_mask_storeu_ps(odd + j, m, _mm512_permutex2var_ps(a, io, b));
  }
}

} // namespace

const Kernels avx512Kernels = {IsaAvx512,          192,          tileAvx512,
                               epilogueAvx512,     dwRowsAvx512, dwPlaneAvx512,
                               deinterleave2Avx512};

} // namespace cpu
} // namespace lopper

#endif // __x86_64__
