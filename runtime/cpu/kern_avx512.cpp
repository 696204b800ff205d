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

// Lanes j < 16 with lo <= j < hi.
LOPPER_AVX512 inline __mmask16 rangeMask(int64_t lo, int64_t hi) {
  return static_cast<__mmask16>(tailMask(hi) & ~tailMask(lo));
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

// table[idx[i] & 7] per lane (table: 8 floats, 32-byte aligned).
LOPPER_AVX512 inline __m512 lookup8(__m512i idx, const float *table) {
  return _mm512_permutexvar_ps(idx,
                               _mm512_broadcast_f32x8(_mm256_load_ps(table)));
}

// erf(x) from the piecewise polynomial of cpu_internal.h (kErfPoly);
// NaN propagates.
LOPPER_AVX512 inline __m512 erf512(__m512 x) {
  // min returns its second operand when either is NaN.
  const __m512 ax = _mm512_min_ps(_mm512_set1_ps(4.0f), _mm512_abs_ps(x));
  const __m512i idx = _mm512_min_epi32(
      _mm512_cvttps_epi32(_mm512_add_ps(ax, ax)), _mm512_set1_epi32(7));
  const __m512 t = _mm512_sub_ps(ax, lookup8(idx, kErfCenter));
  __m512 p = lookup8(idx, kErfPoly[kErfDegree]);
#pragma GCC unroll 8
  for (int j = kErfDegree - 1; j >= 0; --j)
    p = _mm512_fmadd_ps(p, t, lookup8(idx, kErfPoly[j]));
  p = _mm512_abs_ps(_mm512_min_ps(_mm512_set1_ps(1.0f), p));
  const __m512i signBit = _mm512_set1_epi32(static_cast<int>(0x80000000u));
  return _mm512_castsi512_ps(
      _mm512_or_si512(_mm512_castps_si512(p),
                      _mm512_and_si512(_mm512_castps_si512(x), signBit)));
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
  case LOPPER_ACT_GELU:
    // 0.5 x (1 + erf(x / sqrt 2)), in the order of activateScalar.
    return _mm512_mul_ps(
        _mm512_mul_ps(v, _mm512_set1_ps(0.5f)),
        _mm512_add_ps(one, erf512(_mm512_mul_ps(
                               v, _mm512_set1_ps(0.70710678118654752f)))));
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

// Width stride 1: accumulates R output rows x NV vectors at (r0, x0).
template <int R, int NV>
LOPPER_AVX512 void dwStride1Acc512(const DwPlaneArgs &d, int64_t r0, int64_t x0,
                                   int64_t lanes, __m512 (&acc)[R][NV]) {
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
}

// Width stride 2, unit height dilation: accumulates R output rows x NV
// vectors at (r0, x0). The 32 input columns behind a vector of taps kw are
// loaded (masked to [0, W)) and split in registers: the even ones feed tap
// kw, the odd ones tap kw + 1 when dw == 1. Input row i of the window
// feeds output row r with kh = i - r*sh, so each load serves every row.
// K3 (KW == 3, dw == 1, the common case): both windows in one pass.
template <int R, int NV, bool K3>
LOPPER_AVX512 void dwStride2Acc512(const DwPlaneArgs &d, int64_t r0, int64_t x0,
                                   __m512 (&acc)[R][NV]) {
  const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20,
                                       22, 24, 26, 28, 30);
  const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21,
                                       23, 25, 27, 29, 31);
  const int64_t rows = (R - 1) * d.sh + d.KH;
  // Window w (K3: w = 0 for taps 0 and 1, w = 1 for tap 2) of vector v
  // starts at column c0 + kw(w)*dw + 32v.
  constexpr int NW = K3 ? 2 : 1;
  for (int64_t kw = 0; kw < d.KW;) {
    const bool pair = K3 || (d.dw == 1 && kw + 1 < d.KW);
    __mmask16 ma[NW][NV], mb[NW][NV];
    int64_t off[NW];
#pragma GCC unroll 2
    for (int w = 0; w < NW; ++w) {
      off[w] = 2 * x0 - d.pl + (kw + 2 * w) * d.dw;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        const int64_t c = off[w] + 32 * v;
        ma[w][v] = rangeMask(-c, d.W - c);
        mb[w][v] = rangeMask(-c - 16, d.W - c - 16);
      }
    }
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t ih = r0 * d.sh - d.pt + i;
      if (ih < 0 || ih >= d.H)
        continue;
      const float *row = d.x + ih * d.W;
      __m512 ev[NW][NV], od[NV];
#pragma GCC unroll 2
      for (int w = 0; w < NW; ++w)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          const float *p = row + off[w] + 32 * v;
          const __m512 a = _mm512_maskz_loadu_ps(ma[w][v], p);
          const __m512 b = _mm512_maskz_loadu_ps(mb[w][v], p + 16);
          ev[w][v] = _mm512_permutex2var_ps(a, ie, b);
          if (w == 0)
            od[v] = pair ? _mm512_permutex2var_ps(a, io, b) : ev[0][v];
        }
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const int64_t kh = i - r * d.sh;
        if (kh < 0 || kh >= d.KH)
          continue;
        const float *wk = d.w + kh * d.KW + kw;
        const __m512 w0 = _mm512_set1_ps(wk[0]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          acc[r][v] = _mm512_fmadd_ps(w0, ev[0][v], acc[r][v]);
        if (pair) {
          const __m512 w1 = _mm512_set1_ps(wk[1]);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v)
            acc[r][v] = _mm512_fmadd_ps(w1, od[v], acc[r][v]);
        }
        if (K3) {
          const __m512 w2 = _mm512_set1_ps(wk[2]);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v)
            acc[r][v] = _mm512_fmadd_ps(w2, ev[NW - 1][v], acc[r][v]);
        }
      }
    }
    kw += K3 ? 3 : pair ? 2 : 1;
  }
}

// R output rows x NV vectors at (r0, x0) of a depthwise conv with width
// stride 1 (or 2, S2: dwStride2Acc512); `lanes` valid outputs in the last
// vector.
template <int R, int NV, bool S2>
LOPPER_AVX512 void dwPlaneBlock512(const DwPlaneArgs &d, int64_t r0, int64_t x0,
                                   int64_t lanes) {
  __m512 acc[R][NV];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[r][v] = _mm512_setzero_ps();
  if (S2 && d.KW == 3 && d.dw == 1)
    dwStride2Acc512<R, NV, true>(d, r0, x0, acc);
  else if (S2)
    dwStride2Acc512<R, NV, false>(d, r0, x0, acc);
  else
    dwStride1Acc512<R, NV>(d, r0, x0, lanes, acc);
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

template <int R, bool S2>
LOPPER_AVX512 void dwPlaneRows512(const DwPlaneArgs &d, int64_t r0) {
  for (int64_t x0 = 0; x0 < d.OW; x0 += 64) {
    const int64_t n = d.OW - x0 < 64 ? d.OW - x0 : 64;
    const int64_t lanes = n - (n - 1) / 16 * 16;
    switch ((n + 15) / 16) {
    case 1:
      dwPlaneBlock512<R, 1, S2>(d, r0, x0, lanes);
      break;
    case 2:
      dwPlaneBlock512<R, 2, S2>(d, r0, x0, lanes);
      break;
    case 3:
      dwPlaneBlock512<R, 3, S2>(d, r0, x0, lanes);
      break;
    default:
      dwPlaneBlock512<R, 4, S2>(d, r0, x0, lanes);
      break;
    }
  }
}

template <bool S2> LOPPER_AVX512 void dwPlaneAll512(const DwPlaneArgs &d) {
  int64_t r0 = 0;
  for (; r0 + 4 <= d.OH; r0 += 4)
    dwPlaneRows512<4, S2>(d, r0);
  switch (d.OH - r0) {
  case 3:
    dwPlaneRows512<3, S2>(d, r0);
    break;
  case 2:
    dwPlaneRows512<2, S2>(d, r0);
    break;
  case 1:
    dwPlaneRows512<1, S2>(d, r0);
    break;
  default:
    break;
  }
}

LOPPER_AVX512 void dwPlaneAvx512(const DwPlaneArgs &d) {
  if (d.sw == 2)
    dwPlaneAll512<true>(d);
  else
    dwPlaneAll512<false>(d);
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

// Masked loads never touch (nor fault on) the lanes they leave out, so
// each segment is one masked load per vector it overlaps.
LOPPER_AVX512 void gatherPanelAvx512(const GatherArgs &g) {
  static_assert(NR == 32, "two vectors per panel row");
  float *out = g.out;
  if (g.nseg == 1 && g.lo[0] == 0 && g.hi[0] == NR) {
    const int64_t d = g.delta[0];
    for (int64_t k = 0; k < g.kc; ++k, out += NR) {
      const float *src = g.base + (g.kOff[k] - g.kAdj + d);
      _mm512_storeu_ps(out, _mm512_loadu_ps(src));
      _mm512_storeu_ps(out + 16, _mm512_loadu_ps(src + 16));
    }
    return;
  }
  // The segments overlapping vector v: masks and source offsets.
  __mmask16 m[2][NR];
  int64_t d[2][NR];
  int n[2] = {0, 0};
  for (int s = 0; s < g.nseg; ++s)
    for (int v = 0; v < 2; ++v) {
      const __mmask16 mk = rangeMask(g.lo[s] - 16 * v, g.hi[s] - 16 * v);
      if (mk) {
        m[v][n[v]] = mk;
        d[v][n[v]] = g.delta[s] + 16 * v;
        ++n[v];
      }
    }
  for (int64_t k = 0; k < g.kc; ++k, out += NR) {
    const float *row = g.base + (g.kOff[k] - g.kAdj);
    __m512 v0 = _mm512_setzero_ps(), v1 = _mm512_setzero_ps();
    for (int i = 0; i < n[0]; ++i)
      v0 = _mm512_mask_loadu_ps(v0, m[0][i], row + d[0][i]);
    for (int i = 0; i < n[1]; ++i)
      v1 = _mm512_mask_loadu_ps(v1, m[1][i], row + d[1][i]);
    _mm512_storeu_ps(out, v0);
    _mm512_storeu_ps(out + 16, v1);
  }
}

// NP panels x C columns: NP*C accumulators of 8 rows (256-bit: one MR
// panel row per load; with AVX-512VL all 32 vector registers are usable,
// and on current cores two 256-bit FMAs issue per cycle like one 512-bit).
template <int NP, int C> LOPPER_AVX512 void tileT512(const TileTArgs &t) {
  __m256 acc[NP][C];
#pragma GCC unroll 4
  for (int p = 0; p < NP; ++p)
#pragma GCC unroll 6
    for (int j = 0; j < C; ++j)
      acc[p][j] = _mm256_setzero_ps();
  const float *a = t.a, *b = t.b;
  const int64_t ap = t.aPanel, ldb = t.ldb;
  for (int64_t k = 0; k < t.kc; ++k) {
    __m256 w[NP];
#pragma GCC unroll 4
    for (int p = 0; p < NP; ++p)
      w[p] = _mm256_loadu_ps(a + p * ap);
#pragma GCC unroll 6
    for (int j = 0; j < C; ++j) {
      const __m256 bv = _mm256_broadcast_ss(b + j);
#pragma GCC unroll 4
      for (int p = 0; p < NP; ++p)
        acc[p][j] = _mm256_fmadd_ps(w[p], bv, acc[p][j]);
    }
    a += MR;
    b += ldb;
  }
#pragma GCC unroll 6
  for (int j = 0; j < C; ++j)
#pragma GCC unroll 4
    for (int p = 0; p < NP; ++p) {
      float *c = t.ct + j * t.ldct + p * MR;
      __m256 v = acc[p][j];
      if (t.accumulate)
        v = _mm256_add_ps(v, _mm256_loadu_ps(c));
      _mm256_storeu_ps(c, v);
    }
}

using TileTFn = void (*)(const TileTArgs &);

#define LOPPER_TILET_COLS(NP)                                                  \
  {                                                                            \
    tileT512<NP, 1>, tileT512<NP, 2>, tileT512<NP, 3>, tileT512<NP, 4>,        \
        tileT512<NP, 5>, tileT512<NP, 6>                                       \
  }
static_assert(kTileTCols == 6, "tileTTable covers 1..6 columns");
const TileTFn tileTTable[4][kTileTCols] = {
    LOPPER_TILET_COLS(1), LOPPER_TILET_COLS(2), LOPPER_TILET_COLS(3),
    LOPPER_TILET_COLS(4)};
#undef LOPPER_TILET_COLS

void tileTAvx512(const TileTArgs &t) { tileTTable[t.npan - 1][t.nc - 1](t); }

LOPPER_AVX512 void erfAvx512(const float *x, float *y, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tailMask(n - i);
    _mm512_mask_storeu_ps(y + i, m, erf512(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

} // namespace

const Kernels avx512Kernels = {IsaAvx512,
                               192,
                               tileAvx512,
                               epilogueAvx512,
                               dwRowsAvx512,
                               dwPlaneAvx512,
                               deinterleave2Avx512,
                               gatherPanelAvx512,
                               tileTAvx512,
                               erfAvx512,
                               2};

} // namespace cpu
} // namespace lopper

#endif // __x86_64__
