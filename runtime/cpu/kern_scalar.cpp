// Portable scalar micro-kernels (the fallback and the reference for the
// vector levels).
#include "cpu_internal.h"
#include "q8.h"

namespace lopper {
namespace cpu {

namespace {

void tileScalar(const TileArgs &t) {
  float acc[MR][NR];
  for (int i = 0; i < t.mr; ++i)
    for (int j = 0; j < t.nc; ++j)
      acc[i][j] = 0.0f;
  const float *b = t.b;
  for (int64_t k = 0; k < t.kc; ++k, b += t.ldb) {
    for (int i = 0; i < t.mr; ++i) {
      float a = t.aRows ? t.a[i * t.as + k] : t.a[k * t.as + i];
      for (int j = 0; j < t.nc; ++j)
        acc[i][j] += a * b[j];
    }
  }
  for (int i = 0; i < t.mr; ++i) {
    float *c = t.c + i * t.ldc;
    const float *cin = t.cin ? t.cin + i * t.ldcin : nullptr;
    for (int j = 0; j < t.nc; ++j)
      c[j] = cin ? cin[j] + acc[i][j] : acc[i][j];
  }
}

void epilogueScalar(const float *tile, float *c, int64_t ldc, int64_t mr,
                    int64_t nc, const Epilogue &e) {
  for (int64_t i = 0; i < mr; ++i) {
    float *row = c + i * ldc;
    const float *src = tile + i * NR;
    float rb = e.rowBias ? e.rowBias[i * e.rowBiasStride] : 0.0f;
    for (int64_t j = 0; j < nc; ++j) {
      float v = src[j] + rb;
      if (e.colBias)
        v += e.colBias[j];
      if (e.add0)
        v += e.add0[i * e.ld0 + j];
      if (e.add1)
        v += e.add1[i * e.ld1 + j];
      row[j] = activateScalar(v, e.act, e.alpha, e.beta);
    }
  }
}

void dwRowsScalar(const DwRowArgs &d) {
  float bias = d.bias ? *d.bias : 0.0f;
  for (int64_t r = 0; r < d.rows; ++r)
    for (int64_t x = 0; x < d.ow; ++x) {
      float acc = 0.0f;
      for (int64_t t = 0; t < d.ntaps; ++t)
        acc += d.w[t] * d.taps[t][r * d.rowStep + x];
      acc += bias;
      if (d.res)
        acc += d.res[r * d.ldy + x];
      d.y[r * d.ldy + x] = activateScalar(acc, d.act, d.alpha, d.beta);
    }
}

void dwPlaneScalar(const DwPlaneArgs &d) {
  float bias = d.bias ? *d.bias : 0.0f;
  for (int64_t oh = 0; oh < d.OH; ++oh)
    for (int64_t ow = 0; ow < d.OW; ++ow) {
      float acc = 0.0f;
      for (int64_t kh = 0; kh < d.KH; ++kh) {
        const int64_t ih = oh * d.sh - d.pt + kh * d.dh;
        if (ih < 0 || ih >= d.H)
          continue;
        for (int64_t kw = 0; kw < d.KW; ++kw) {
          const int64_t iw = ow * d.sw - d.pl + kw * d.dw;
          if (iw >= 0 && iw < d.W)
            acc += d.w[kh * d.KW + kw] * d.x[ih * d.W + iw];
        }
      }
      acc += bias;
      const int64_t o = oh * d.OW + ow;
      if (d.res)
        acc += d.res[o];
      d.y[o] = activateScalar(acc, d.act, d.alpha, d.beta);
    }
}

void deinterleave2Scalar(const float *src, int64_t lo, int64_t hi, int64_t n,
                         float *even, float *odd) {
  for (int64_t j = 0; j < n; ++j) {
    const int64_t i = 2 * j;
    even[j] = i >= lo && i < hi ? src[i] : 0.0f;
    odd[j] = i + 1 >= lo && i + 1 < hi ? src[i + 1] : 0.0f;
  }
}

void gatherPanelScalar(const GatherArgs &g) {
  float *out = g.out;
  for (int64_t k = 0; k < g.kc; ++k, out += NR) {
    const float *row = g.base + (g.kOff[k] - g.kAdj);
    int j = 0;
    for (int s = 0; s < g.nseg; ++s) {
      for (; j < g.lo[s]; ++j)
        out[j] = 0.0f;
      for (; j < g.hi[s]; ++j)
        out[j] = row[g.delta[s] + j];
    }
    for (; j < NR; ++j)
      out[j] = 0.0f;
  }
}

void tileTScalar(const TileTArgs &t) {
  const int rows = t.npan * static_cast<int>(MR);
  float acc[kTileTCols][4 * MR];
  for (int j = 0; j < t.nc; ++j)
    for (int i = 0; i < rows; ++i)
      acc[j][i] = 0.0f;
  for (int64_t k = 0; k < t.kc; ++k) {
    const float *b = t.b + k * t.ldb;
    for (int p = 0; p < t.npan; ++p) {
      const float *a = t.a + p * t.aPanel + k * MR;
      for (int j = 0; j < t.nc; ++j)
        for (int r = 0; r < MR; ++r)
          acc[j][p * MR + r] += a[r] * b[j];
    }
  }
  for (int j = 0; j < t.nc; ++j) {
    float *c = t.ct + j * t.ldct;
    for (int i = 0; i < rows; ++i)
      c[i] = t.accumulate ? c[i] + acc[j][i] : acc[j][i];
  }
}

void erfScalar(const float *x, float *y, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = erfPoly(x[i]);
}

void tileQ8Scalar(const Q8TileArgs &t) {
  const int cols = 16 * t.nv;
  int32_t acc[kQ8Mr][16 * kQ8MaxNv] = {};
  for (int64_t q = 0; q < t.kq; ++q) {
    const uint8_t *bc = t.bc + q * 32;
    for (int j = 0; j < cols; ++j) {
      const uint8_t *v = t.vec + (j / 16) * t.vecStride + q * 64 + (j % 16) * 4;
      for (int i = 0; i < kQ8Mr; ++i) {
        const uint8_t *b = bc + i * 4;
        int32_t s = 0;
        for (int e = 0; e < 4; ++e)
          s += t.bcSigned
                   ? static_cast<int8_t>(b[e]) * static_cast<int32_t>(v[e])
                   : static_cast<int32_t>(b[e]) * static_cast<int8_t>(v[e]);
        acc[i][j] += s;
      }
    }
  }
  for (int i = 0; i < kQ8Mr; ++i)
    for (int j = 0; j < cols; ++j) {
      const int32_t c = t.perRow ? t.corr[i] : t.corr[j];
      const float s = t.perRow ? t.scale[i] : t.scale[j];
      t.out[(j / 32) * 256 + i * 32 + j % 32] =
          static_cast<float>(acc[i][j] - c) * s;
    }
}

} // namespace

void q8SparseTileScalar(const Q8SparseArgs &t) {
  int32_t acc[kQ8Mr][16] = {};
  for (int64_t b = 0; b < t.nb; ++b) {
    const uint8_t *a = t.bc + static_cast<int64_t>(t.q[b]) * 32;
    const int8_t *w = t.blocks + b * 64;
    for (int i = 0; i < kQ8Mr; ++i)
      for (int j = 0; j < 16; ++j)
        for (int r = 0; r < 4; ++r)
          acc[i][j] += static_cast<int32_t>(a[i * 4 + r]) * w[j * 4 + r];
  }
  for (int i = 0; i < kQ8Mr; ++i)
    for (int j = 0; j < 16; ++j)
      t.out[i * 32 + j] =
          static_cast<float>(acc[i][j] - t.corr[j]) * t.scale[j];
}

const Q8Kernels q8ScalarKernels = {"scalar", tileQ8Scalar, q8SparseTileScalar,
                                   q8Quantize, nullptr};

const Kernels scalarKernels = {IsaScalar,
                               256,
                               tileScalar,
                               epilogueScalar,
                               dwRowsScalar,
                               dwPlaneScalar,
                               deinterleave2Scalar,
                               gatherPanelScalar,
                               tileTScalar,
                               erfScalar,
                               2};

} // namespace cpu
} // namespace lopper
