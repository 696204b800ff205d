// AVX2 + FMA micro-kernels. Compiled with the default flags: every function
// that uses AVX2 carries the target attribute and is only called after
// CPUID said yes (see dispatch.cpp).
#include "cpu_internal.h"

#include "lopper/artifact_abi.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define LOPPER_AVX2 __attribute__((target("avx2,fma")))

namespace lopper {
namespace cpu {

namespace {

alignas(64) const int32_t maskTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                           0,  0,  0,  0,  0,  0,  0,  0};

// Lane mask for the first min(max(n, 0), 8) lanes.
LOPPER_AVX2 inline __m256i tailMask(int64_t n) {
  if (n < 0)
    n = 0;
  if (n > 8)
    n = 8;
  return _mm256_loadu_si256(
      reinterpret_cast<const __m256i *>(maskTable + 8 - n));
}

// The first n lanes (all when n >= 8) of p / into p. Full vectors use plain
// loads and stores; vmaskmovps stores are microcoded and slow on AMD cores,
// so partial stores go through a buffer.
LOPPER_AVX2 inline __m256 loadN(const float *p, int64_t n) {
  return n >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, tailMask(n));
}
LOPPER_AVX2 inline void storeN(float *p, __m256 v, int64_t n) {
  if (n >= 8) {
    _mm256_storeu_ps(p, v);
    return;
  }
  alignas(32) float tmp[8];
  _mm256_store_ps(tmp, v);
  for (int64_t i = 0; i < n; ++i)
    p[i] = tmp[i];
}

// exp(x) for x clamped to [-87, 88], ~1 ulp (Cephes polynomial).
LOPPER_AVX2 inline __m256 exp256(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)),
                    _mm256_set1_ps(88.0f));
  __m256 n =
      _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  __m256 r2 = _mm256_mul_ps(r, r);
  p = _mm256_fmadd_ps(p, r2, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // n is in [-126, 127]: build 2^n in the exponent field.
  __m256i e = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

LOPPER_AVX2 inline __m256 tanh256(__m256 v) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 signBit = _mm256_set1_ps(-0.0f);
  __m256 ax = _mm256_andnot_ps(signBit, v);
  __m256 t = exp256(_mm256_mul_ps(ax, _mm256_set1_ps(-2.0f)));
  __m256 big = _mm256_div_ps(_mm256_sub_ps(one, t), _mm256_add_ps(one, t));
  // Odd Taylor series below 0.25, where 1 - exp(-2x) cancels.
  __m256 x2 = _mm256_mul_ps(ax, ax);
  __m256 p = _mm256_set1_ps(62.0f / 2835.0f);
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-17.0f / 315.0f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(2.0f / 15.0f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-1.0f / 3.0f));
  p = _mm256_mul_ps(p, x2);
  __m256 small = _mm256_fmadd_ps(p, ax, ax);
  __m256 isSmall = _mm256_cmp_ps(ax, _mm256_set1_ps(0.25f), _CMP_LT_OQ);
  __m256 r = _mm256_blendv_ps(big, small, isSmall);
  return _mm256_or_ps(r, _mm256_and_ps(v, signBit));
}

// erf(x) from the piecewise polynomial of cpu_internal.h (kErfPoly);
// NaN propagates.
LOPPER_AVX2 inline __m256 erf256(__m256 x) {
  const __m256 signBit = _mm256_set1_ps(-0.0f);
  // min returns its second operand when either is NaN.
  const __m256 ax =
      _mm256_min_ps(_mm256_set1_ps(4.0f), _mm256_andnot_ps(signBit, x));
  // NaN converts to INT_MIN: any index (only the low 3 bits are used).
  const __m256i idx = _mm256_min_epi32(
      _mm256_cvttps_epi32(_mm256_add_ps(ax, ax)), _mm256_set1_epi32(7));
  const __m256 t = _mm256_sub_ps(
      ax, _mm256_permutevar8x32_ps(_mm256_load_ps(kErfCenter), idx));
  __m256 p =
      _mm256_permutevar8x32_ps(_mm256_load_ps(kErfPoly[kErfDegree]), idx);
#pragma GCC unroll 8
  for (int j = kErfDegree - 1; j >= 0; --j)
    p = _mm256_fmadd_ps(
        p, t, _mm256_permutevar8x32_ps(_mm256_load_ps(kErfPoly[j]), idx));
  p = _mm256_andnot_ps(signBit, _mm256_min_ps(_mm256_set1_ps(1.0f), p));
  return _mm256_or_ps(p, _mm256_and_ps(x, signBit));
}

LOPPER_AVX2 inline __m256 act256(__m256 v, int act, float alpha, float beta) {
  const __m256 one = _mm256_set1_ps(1.0f);
  switch (act) {
  case LOPPER_ACT_RELU:
    return _mm256_max_ps(v, _mm256_setzero_ps());
  case LOPPER_ACT_CLIP:
    return _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(alpha)),
                         _mm256_set1_ps(beta));
  case LOPPER_ACT_SIGMOID:
    return _mm256_div_ps(
        one, _mm256_add_ps(one, exp256(_mm256_sub_ps(_mm256_setzero_ps(), v))));
  case LOPPER_ACT_SILU:
    return _mm256_div_ps(
        v, _mm256_add_ps(one, exp256(_mm256_sub_ps(_mm256_setzero_ps(), v))));
  case LOPPER_ACT_GELU:
    // 0.5 x (1 + erf(x / sqrt 2)), in the order of activateScalar.
    return _mm256_mul_ps(
        _mm256_mul_ps(v, _mm256_set1_ps(0.5f)),
        _mm256_add_ps(one, erf256(_mm256_mul_ps(
                               v, _mm256_set1_ps(0.70710678118654752f)))));
  case LOPPER_ACT_GELU_TANH: {
    // 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u))
    __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(v, v), v);
    __m256 u = _mm256_mul_ps(_mm256_fmadd_ps(x3, _mm256_set1_ps(0.044715f), v),
                             _mm256_set1_ps(-2.0f * 0.79788456080286536f));
    return _mm256_div_ps(v, _mm256_add_ps(one, exp256(u)));
  }
  case LOPPER_ACT_HARD_SWISH: {
    __m256 h =
        _mm256_fmadd_ps(v, _mm256_set1_ps(1.0f / 6.0f), _mm256_set1_ps(0.5f));
    h = _mm256_min_ps(_mm256_max_ps(h, _mm256_setzero_ps()), one);
    return _mm256_mul_ps(v, h);
  }
  case LOPPER_ACT_LEAKY_RELU: {
    __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
    return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(alpha)), neg);
  }
  case LOPPER_ACT_TANH:
    return tanh256(v);
  default:
    return v;
  }
}

// R rows (<= 4) x (8*NV) columns (<= 16) of a tile; see TileArgs.
template <int R, int NV, bool ROWS, bool MASKED>
LOPPER_AVX2 void sub256(const float *a, int64_t as, const float *b, int64_t ldb,
                        int64_t kc, const float *cin, int64_t ldcin, float *c,
                        int64_t ldc, bool cFull, int nc) {
  __m256 acc[R][NV];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      acc[r][v] = _mm256_setzero_ps();
  const __m256i m0 = tailMask(nc);
  const __m256i m1 = tailMask(nc - 8);
  for (int64_t k = 0; k < kc; ++k) {
    __m256 b0, b1;
    if (MASKED) {
      b0 = _mm256_maskload_ps(b, m0);
      b1 = NV == 2 ? _mm256_maskload_ps(b + 8, m1) : b0;
    } else {
      b0 = _mm256_loadu_ps(b);
      b1 = NV == 2 ? _mm256_loadu_ps(b + 8) : b0;
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      __m256 av = _mm256_broadcast_ss(ROWS ? &a[r * as + k] : &a[r]);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      if (NV == 2)
        acc[r][NV - 1] = _mm256_fmadd_ps(av, b1, acc[r][NV - 1]);
    }
    b += ldb;
    if (!ROWS)
      a += as;
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    float *cr = c + r * ldc;
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      __m256 x = acc[r][v];
      if (cin)
        x = _mm256_add_ps(x, loadN(cin + r * ldcin + 8 * v, nc - 8 * v));
      if (cFull)
        _mm256_store_ps(cr + 8 * v, x);
      else
        storeN(cr + 8 * v, x, nc - 8 * v);
    }
  }
}

using SubFn = void (*)(const float *, int64_t, const float *, int64_t, int64_t,
                       const float *, int64_t, float *, int64_t, bool, int);

#define LOPPER_SUB_ROWS(NV, ROWS, MASKED)                                      \
  {                                                                            \
    sub256<1, NV, ROWS, MASKED>, sub256<2, NV, ROWS, MASKED>,                  \
        sub256<3, NV, ROWS, MASKED>, sub256<4, NV, ROWS, MASKED>               \
  }
#define LOPPER_SUB_NV(ROWS, MASKED)                                            \
  { LOPPER_SUB_ROWS(1, ROWS, MASKED), LOPPER_SUB_ROWS(2, ROWS, MASKED) }

// [aRows][bMasked][nv - 1][r - 1]
const SubFn subTable[2][2][2][4] = {
    {LOPPER_SUB_NV(false, false), LOPPER_SUB_NV(false, true)},
    {LOPPER_SUB_NV(true, false), LOPPER_SUB_NV(true, true)}};

#undef LOPPER_SUB_NV
#undef LOPPER_SUB_ROWS

// An MR x NR tile as up to 2 x 2 blocks of 4 rows x 16 columns.
void tileAvx2(const TileArgs &t) {
  for (int r0 = 0; r0 < t.mr; r0 += 4) {
    int rows = t.mr - r0 < 4 ? t.mr - r0 : 4;
    const float *a = t.aRows ? t.a + r0 * t.as : t.a + r0;
    for (int j0 = 0; j0 < t.nc; j0 += 16) {
      int cols = t.nc - j0 < 16 ? t.nc - j0 : 16;
      subTable[t.aRows][t.bMasked][cols > 8][rows - 1](
          a, t.as, t.b + j0, t.ldb, t.kc,
          t.cin ? t.cin + r0 * t.ldcin + j0 : nullptr, t.ldcin,
          t.c + r0 * t.ldc + j0, t.ldc, t.cFull, cols);
    }
  }
}

LOPPER_AVX2 void epilogueAvx2(const float *tile, float *c, int64_t ldc,
                              int64_t mr, int64_t nc, const Epilogue &e) {
  for (int64_t i = 0; i < mr; ++i) {
    float *row = c + i * ldc;
    const float *src = tile + i * NR;
    __m256 rb = e.rowBias ? _mm256_set1_ps(e.rowBias[i * e.rowBiasStride])
                          : _mm256_setzero_ps();
    const float *a0 = e.add0 ? e.add0 + i * e.ld0 : nullptr;
    const float *a1 = e.add1 ? e.add1 + i * e.ld1 : nullptr;
    for (int64_t j = 0; j < nc; j += 8) {
      const int64_t n = nc - j;
      __m256 v = _mm256_add_ps(_mm256_load_ps(src + j), rb);
      if (e.colBias)
        v = _mm256_add_ps(v, loadN(e.colBias + j, n));
      if (a0)
        v = _mm256_add_ps(v, loadN(a0 + j, n));
      if (a1)
        v = _mm256_add_ps(v, loadN(a1 + j, n));
      storeN(row + j, act256(v, e.act, e.alpha, e.beta), n);
    }
  }
}

// R rows x NV vectors of output starting at column x0; the last vector of
// each row masked with `last`.
template <int R, int NV>
LOPPER_AVX2 void dwBlock256(const DwRowArgs &d, int64_t r0, int64_t x0,
                            int64_t lanes) {
  const __m256i last = tailMask(lanes);
  __m256 acc[R][NV];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[r][v] = _mm256_setzero_ps();
  const int64_t step = d.rowStep;
  for (int64_t t = 0; t < d.ntaps; ++t) {
    __m256 w = _mm256_broadcast_ss(&d.w[t]);
    const float *p = d.taps[t] + r0 * step + x0;
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
      for (int v = 0; v < NV - 1; ++v)
        acc[r][v] = _mm256_fmadd_ps(w, _mm256_loadu_ps(p + r * step + 8 * v),
                                    acc[r][v]);
      acc[r][NV - 1] = _mm256_fmadd_ps(
          w, _mm256_maskload_ps(p + r * step + 8 * (NV - 1), last),
          acc[r][NV - 1]);
    }
  }
  __m256 bias = d.bias ? _mm256_set1_ps(*d.bias) : _mm256_setzero_ps();
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    float *y = d.y + (r0 + r) * d.ldy + x0;
    const float *res = d.res ? d.res + (r0 + r) * d.ldy + x0 : nullptr;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const int64_t n = v == NV - 1 ? lanes : 8;
      __m256 x = _mm256_add_ps(acc[r][v], bias);
      if (res)
        x = _mm256_add_ps(x, loadN(res + 8 * v, n));
      storeN(y + 8 * v, act256(x, d.act, d.alpha, d.beta), n);
    }
  }
}

template <int R>
LOPPER_AVX2 void dwRowGroup256(const DwRowArgs &d, int64_t r0) {
  for (int64_t x0 = 0; x0 < d.ow; x0 += 32) {
    int64_t n = d.ow - x0 < 32 ? d.ow - x0 : 32;
    const int64_t lanes = n - (n - 1) / 8 * 8;
    switch ((n + 7) / 8) {
    case 1:
      dwBlock256<R, 1>(d, r0, x0, lanes);
      break;
    case 2:
      dwBlock256<R, 2>(d, r0, x0, lanes);
      break;
    case 3:
      dwBlock256<R, 3>(d, r0, x0, lanes);
      break;
    default:
      dwBlock256<R, 4>(d, r0, x0, lanes);
      break;
    }
  }
}

// Two rows at a time: 8 independent accumulators.
LOPPER_AVX2 void dwRowsAvx2(const DwRowArgs &d) {
  int64_t r0 = 0;
  for (; r0 + 2 <= d.rows; r0 += 2)
    dwRowGroup256<2>(d, r0);
  if (r0 < d.rows)
    dwRowGroup256<1>(d, r0);
}

// Lanes j < 8 with lo <= j < hi.
LOPPER_AVX2 inline __m256i rangeMask(int64_t lo, int64_t hi) {
  return _mm256_andnot_si256(tailMask(lo), tailMask(hi));
}

// R output rows x NV vectors at (r0, x0) of a unit-width-stride depthwise
// conv; `lanes` valid outputs in the last vector.
template <int R, int NV>
LOPPER_AVX2 void dwPlaneBlock256(const DwPlaneArgs &d, int64_t r0, int64_t x0,
                                 int64_t lanes) {
  __m256 acc[R][NV];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[r][v] = _mm256_setzero_ps();
  const bool shared = d.sh == 1 && d.dh == 1;
  const __m256i full = _mm256_set1_epi32(-1);
  for (int64_t kw = 0; kw < d.KW; ++kw) {
    const int64_t c0 = x0 - d.pl + kw * d.dw;
    __m256i m[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      m[v] = _mm256_and_si256(rangeMask(-(c0 + 8 * v), d.W - (c0 + 8 * v)),
                              v == NV - 1 ? tailMask(lanes) : full);
    // vmaskmovps is slower than a plain load: use it only where needed.
    bool allFull = true;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      allFull =
          allFull && _mm256_movemask_ps(_mm256_castsi256_ps(m[v])) == 0xff;
    const float *wk = d.w + kw;
    if (shared) {
      const int64_t ih0 = r0 - d.pt;
      for (int64_t i = 0; i < R + d.KH - 1; ++i) {
        const int64_t ih = ih0 + i;
        if (ih < 0 || ih >= d.H)
          continue;
        const float *p = d.x + ih * d.W + c0;
        __m256 in[NV];
        if (allFull) {
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v)
            in[v] = _mm256_loadu_ps(p + 8 * v);
        } else {
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v)
            in[v] = _mm256_maskload_ps(p + 8 * v, m[v]);
        }
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          const int64_t kh = i - r;
          if (kh < 0 || kh >= d.KH)
            continue;
          const __m256 w = _mm256_broadcast_ss(&wk[kh * d.KW]);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v)
            acc[r][v] = _mm256_fmadd_ps(w, in[v], acc[r][v]);
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
          const __m256 w = _mm256_broadcast_ss(&wk[kh * d.KW]);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v)
            acc[r][v] = _mm256_fmadd_ps(w, _mm256_maskload_ps(p + 8 * v, m[v]),
                                        acc[r][v]);
        }
    }
  }
  const __m256 bias = d.bias ? _mm256_set1_ps(*d.bias) : _mm256_setzero_ps();
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    const int64_t o = (r0 + r) * d.OW + x0;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const int64_t n = v == NV - 1 ? lanes : 8;
      __m256 x = _mm256_add_ps(acc[r][v], bias);
      if (d.res)
        x = _mm256_add_ps(x, loadN(d.res + o + 8 * v, n));
      storeN(d.y + o + 8 * v, act256(x, d.act, d.alpha, d.beta), n);
    }
  }
}

template <int R>
LOPPER_AVX2 void dwPlaneRows256(const DwPlaneArgs &d, int64_t r0) {
  for (int64_t x0 = 0; x0 < d.OW; x0 += 32) {
    const int64_t n = d.OW - x0 < 32 ? d.OW - x0 : 32;
    const int64_t lanes = n - (n - 1) / 8 * 8;
    switch ((n + 7) / 8) {
    case 1:
      dwPlaneBlock256<R, 1>(d, r0, x0, lanes);
      break;
    case 2:
      dwPlaneBlock256<R, 2>(d, r0, x0, lanes);
      break;
    case 3:
      dwPlaneBlock256<R, 3>(d, r0, x0, lanes);
      break;
    default:
      dwPlaneBlock256<R, 4>(d, r0, x0, lanes);
      break;
    }
  }
}

// Two rows at a time: 8 accumulators.
LOPPER_AVX2 void dwPlaneAvx2(const DwPlaneArgs &d) {
  int64_t r0 = 0;
  for (; r0 + 2 <= d.OH; r0 += 2)
    dwPlaneRows256<2>(d, r0);
  if (r0 < d.OH)
    dwPlaneRows256<1>(d, r0);
}

LOPPER_AVX2 void deinterleave2Avx2(const float *src, int64_t lo, int64_t hi,
                                   int64_t n, float *even, float *odd) {
  for (int64_t j = 0; j < n; j += 8) {
    const int64_t i = 2 * j;
    const __m256 a = _mm256_maskload_ps(src + i, rangeMask(lo - i, hi - i));
    const __m256 b =
        _mm256_maskload_ps(src + i + 8, rangeMask(lo - i - 8, hi - i - 8));
    // Within 128-bit lanes: a0 a2 b0 b2 | a4 a6 b4 b6, then fix the order.
    __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    __m256 o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    e = _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
    o = _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
    storeN(even + j, e, n - j);
    storeN(odd + j, o, n - j);
  }
}

// vmaskmovps loads never touch (nor fault on) the lanes they leave out:
// each segment is one masked load (a plain one when it covers the vector)
// per vector it overlaps, OR-ed into the zeroed row.
LOPPER_AVX2 void gatherPanelAvx2(const GatherArgs &g) {
  constexpr int V = NR / 8;
  float *out = g.out;
  // The segments overlapping vector v: masks and source offsets; full[v]
  // when one segment covers all of it.
  __m256i m[V][NR];
  int64_t d[V][NR];
  int n[V] = {};
  bool full[V];
  for (int v = 0; v < V; ++v) {
    for (int s = 0; s < g.nseg; ++s) {
      const int64_t lo = g.lo[s] - 8 * v, hi = g.hi[s] - 8 * v;
      if (hi <= 0 || lo >= 8)
        continue;
      m[v][n[v]] = rangeMask(lo, hi);
      d[v][n[v]] = g.delta[s] + 8 * v;
      full[v] = lo <= 0 && hi >= 8;
      ++n[v];
    }
    full[v] = n[v] == 1 && full[v];
  }
  for (int64_t k = 0; k < g.kc; ++k, out += NR) {
    const float *row = g.base + (g.kOff[k] - g.kAdj);
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      __m256 acc;
      if (full[v]) {
        acc = _mm256_loadu_ps(row + d[v][0]);
      } else {
        acc = _mm256_setzero_ps();
        for (int i = 0; i < n[v]; ++i)
          acc = _mm256_or_ps(acc, _mm256_maskload_ps(row + d[v][i], m[v][i]));
      }
      _mm256_storeu_ps(out + 8 * v, acc);
    }
  }
}

// NP (<= 2) panels x C columns: 12 accumulators at most (16 registers).
template <int NP, int C>
LOPPER_AVX2 void tileT256(const TileTArgs &t, const float *a0, float *ct) {
  __m256 acc[NP][C];
#pragma GCC unroll 2
  for (int p = 0; p < NP; ++p)
#pragma GCC unroll 6
    for (int j = 0; j < C; ++j)
      acc[p][j] = _mm256_setzero_ps();
  const float *a = a0, *b = t.b;
  const int64_t ap = t.aPanel, ldb = t.ldb;
  for (int64_t k = 0; k < t.kc; ++k) {
    __m256 w[NP];
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p)
      w[p] = _mm256_loadu_ps(a + p * ap);
#pragma GCC unroll 6
    for (int j = 0; j < C; ++j) {
      const __m256 bv = _mm256_broadcast_ss(b + j);
#pragma GCC unroll 2
      for (int p = 0; p < NP; ++p)
        acc[p][j] = _mm256_fmadd_ps(w[p], bv, acc[p][j]);
    }
    a += MR;
    b += ldb;
  }
#pragma GCC unroll 6
  for (int j = 0; j < C; ++j)
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p) {
      float *c = ct + j * t.ldct + p * MR;
      __m256 v = acc[p][j];
      if (t.accumulate)
        v = _mm256_add_ps(v, _mm256_loadu_ps(c));
      _mm256_storeu_ps(c, v);
    }
}

using TileTFn = void (*)(const TileTArgs &, const float *, float *);

#define LOPPER_TILET_COLS(NP)                                                  \
  {                                                                            \
    tileT256<NP, 1>, tileT256<NP, 2>, tileT256<NP, 3>, tileT256<NP, 4>,        \
        tileT256<NP, 5>, tileT256<NP, 6>                                       \
  }
static_assert(kTileTCols == 6, "tileTTable covers 1..6 columns");
const TileTFn tileTTable[2][kTileTCols] = {LOPPER_TILET_COLS(1),
                                           LOPPER_TILET_COLS(2)};
#undef LOPPER_TILET_COLS

// Two panels per pass.
void tileTAvx2(const TileTArgs &t) {
  for (int p = 0; p < t.npan; p += 2)
    tileTTable[t.npan - p >= 2][t.nc - 1](t, t.a + p * t.aPanel, t.ct + p * MR);
}

LOPPER_AVX2 void erfAvx2(const float *x, float *y, int64_t n) {
  for (int64_t i = 0; i < n; i += 8)
    storeN(y + i, erf256(loadN(x + i, n - i)), n - i);
}

} // namespace

const Kernels avx2Kernels = {IsaAvx2,
                             192,
                             tileAvx2,
                             epilogueAvx2,
                             dwRowsAvx2,
                             dwPlaneAvx2,
                             deinterleave2Avx2,
                             gatherPanelAvx2,
                             tileTAvx2,
                             erfAvx2,
                             1};

} // namespace cpu
} // namespace lopper

#endif // __x86_64__
