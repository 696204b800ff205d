// lopper_k_conv2d_q8_v1: an int8 GEMM per (image, group) whose broadcast
// rows are the packed weights (8 output channels per panel) and whose
// vector columns are 16-pixel panels of the u8 im2col (gathered from
// zero-point-padded input planes, per task or shared); or
// the direct path for convs with one input channel per group (depthwise).
// Padding reads as the activation zero point (real 0).
#include "kernels.h"
#include "parallel.h"
#include "q8.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#define LOPPER_EXPORT __attribute__((visibility("default")))

namespace lopper {
namespace cpu {

namespace {

inline int64_t minI(int64_t a, int64_t b) { return a < b ? a : b; }

struct QConv {
  int64_t N, C, H, W, M, OH, OW, KH, KW, sh, sw, pt, pl, dh, dw, G;
  int64_t Mg, Cg, Kg, kq, P;
  int act, outType;
  int32_t zp, outZp; // zp: of the u8 activations (after the flip)
  uint8_t flip;      // 0x80 for i8 activations
  float alpha, beta, xScale, outScale;
  const Kernels *kr;
  const Q8Kernels *qk;
  const uint8_t *x; // u8 or i8 activations (A_TYPE 2: the quantized copy)
  const int8_t *w;
  int64_t panelBytes, panels; // GEMM layout: per panel, panels per group
  const float *wScales, *bias, *residual;
  void *y;
  // GEMM path: pixel blocks of pb, channel blocks of cb (pt_, ct_ of
  // them); the pass's pairs ig0 .. ig0 + igs - 1 and their shared im2col
  // (sharedStride bytes per pair), or null when each task builds its own.
  int64_t pb, cb, pt_, ct_;
  int64_t ig0, igs;
  uint8_t *shared;
  int64_t sharedStride;
  // The pass's input planes (buildPlane): Cg per pair, planeStride bytes
  // each (with read slack), Hp rows of Wq bytes per column phase.
  // planesAreX (1x1, stride 1, no padding): the planes are x itself, and
  // the pixels of a block one contiguous run.
  uint8_t *planes;
  int64_t Hp, Wq, planeStride;
  bool planesAreX;
};

size_t elemSize(int outType) { return outType == LOPPER_QTYPE_F32 ? 4 : 1; }

// Copies n bytes in 16-byte chunks: reads and writes up to 15 bytes past
// the end (the planes and row buffers have that slack; a run's overflow is
// overwritten by the next run).
inline void copyRun(uint8_t *dst, const uint8_t *src, int64_t n) {
  for (int64_t t = 0; t < n; t += 16) {
#if defined(__x86_64__)
    _mm_storeu_si128(
        reinterpret_cast<__m128i *>(dst + t),
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + t)));
#else
    std::memcpy(dst + t, src + t, 16);
#endif
  }
}

// Row k = (c, kh, kw) of the im2col over pixels [p0, p0 + pn) from the
// channel's plane (padded, split by column phase: see buildPlane).
void im2colRow(const QConv &q, const uint8_t *plane, int64_t kh, int64_t kw,
               int64_t p0, int64_t pn, uint8_t *out) {
  const int64_t col = kw * q.dw;
  const uint8_t *base =
      plane + (col % q.sw * q.Hp + kh * q.dh) * q.Wq + col / q.sw;
  int64_t p = p0, idx = 0;
  while (idx < pn) {
    const int64_t oh = p / q.OW, ow = p % q.OW;
    const int64_t run = minI(q.OW - ow, pn - idx);
    copyRun(out + idx, base + oh * q.sh * q.Wq + ow, run);
    idx += run;
    p += run;
  }
}

// The plane of one input channel: the input padded with the zero point
// (raw byte `pad`) and split by column phase, rows of Wq bytes:
//   plane[(ph*Hp + r)*Wq + j] = x[r - pt][j*sw + ph - pl]
// so that every tap of a strided conv reads a contiguous run.
void buildPlane(const QConv &q, const uint8_t *xc, uint8_t pad,
                uint8_t *plane) {
  for (int64_t ph = 0; ph < q.sw; ++ph)
    for (int64_t r = 0; r < q.Hp; ++r) {
      uint8_t *dst = plane + (ph * q.Hp + r) * q.Wq;
      const int64_t ih = r - q.pt;
      if (ih < 0 || ih >= q.H) {
        std::memset(dst, pad, static_cast<size_t>(q.Wq));
        continue;
      }
      const uint8_t *src = xc + ih * q.W;
      if (q.sw == 1) {
        const int64_t lo = minI(q.pl, q.Wq);
        const int64_t n = std::max<int64_t>(0, minI(q.W, q.Wq - lo));
        std::memset(dst, pad, static_cast<size_t>(lo));
        std::memcpy(dst + lo, src, static_cast<size_t>(n));
        std::memset(dst + lo + n, pad, static_cast<size_t>(q.Wq - lo - n));
        continue;
      }
      for (int64_t j = 0; j < q.Wq; ++j) {
        const int64_t iw = j * q.sw + ph - q.pl;
        dst[j] = iw >= 0 && iw < q.W ? src[iw] : pad;
      }
    }
}

// 4 rows of n16 (a multiple of 16) bytes into 16-pixel panels at dst
// (panel stride `stride`): dst[(j/16)*stride + (j%16)*4 + b] = r[b][j] ^
// flip.
void interleave4(const uint8_t *const r[4], int64_t n16, uint8_t flip,
                 uint8_t *dst, int64_t stride) {
#if defined(__x86_64__)
  const __m128i f = _mm_set1_epi8(static_cast<char>(flip));
  for (int64_t j = 0; j < n16; j += 16, dst += stride) {
    const __m128i a =
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(r[0] + j));
    const __m128i b =
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(r[1] + j));
    const __m128i c =
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(r[2] + j));
    const __m128i d =
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(r[3] + j));
    const __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
    const __m128i cd0 = _mm_unpacklo_epi8(c, d), cd1 = _mm_unpackhi_epi8(c, d);
    __m128i *o = reinterpret_cast<__m128i *>(dst);
    _mm_storeu_si128(o, _mm_xor_si128(_mm_unpacklo_epi16(ab0, cd0), f));
    _mm_storeu_si128(o + 1, _mm_xor_si128(_mm_unpackhi_epi16(ab0, cd0), f));
    _mm_storeu_si128(o + 2, _mm_xor_si128(_mm_unpacklo_epi16(ab1, cd1), f));
    _mm_storeu_si128(o + 3, _mm_xor_si128(_mm_unpackhi_epi16(ab1, cd1), f));
  }
#else
  for (int64_t j = 0; j < n16; ++j)
    for (int b = 0; b < 4; ++b)
      dst[(j / 16) * stride + (j % 16) * 4 + b] =
          static_cast<uint8_t>(r[b][j] ^ flip);
#endif
}

// The im2col of pixels [p0, p0 + pn) of pair ig (image, group) as 16-pixel
// panels at dst (panel stride kq*64), 4 reduction rows at a time through
// `rows` (4 rows of rowStride(pn) bytes).
inline int64_t rowStride(int64_t pn) {
  return lopper_cpu_round_up(pn, 16) + 16;
}
void buildPanels(const QConv &q, int64_t ig, int64_t p0, int64_t pn,
                 uint8_t *dst, uint8_t *rows) {
  const int64_t n16 = lopper_cpu_round_up(pn, 16), rs = rowStride(pn);
  const uint8_t *planes =
      q.planesAreX ? q.x + (ig / q.G * q.C + ig % q.G * q.Cg) * q.H * q.W
                   : q.planes + (ig - q.ig0) * q.Cg * q.planeStride;
  for (int64_t kq = 0; kq < q.kq; ++kq) {
    const uint8_t *r[4];
    for (int b = 0; b < 4; ++b) {
      const int64_t k = 4 * kq + b;
      uint8_t *row = rows + b * rs;
      r[b] = row;
      if (k >= q.Kg)
        continue; // any value: the weights are 0 there
      const int64_t c = k / (q.KH * q.KW), kh = k / q.KW % q.KH, kw = k % q.KW;
      if (q.planesAreX)
        std::memcpy(row, planes + c * q.planeStride + p0,
                    static_cast<size_t>(pn));
      else
        im2colRow(q, planes + c * q.planeStride, kh, kw, p0, pn, row);
    }
    interleave4(r, n16, q.flip, dst + kq * 64, q.kq * 64);
  }
}

// Output channels [c0, c0 + cn) x pixels [p0, p0 + pn) of (n, g) from the
// im2col panels of those pixels.
void convMultiply(const QConv &q, int64_t n, int64_t g, int64_t p0, int64_t pn,
                  int64_t c0, int64_t cn, const uint8_t *panels) {
  const size_t elem = elemSize(q.outType);
  // Per output channel: zero point times the weight sum, and the scale.
  const int64_t cnPad = lopper_cpu_round_up(cn, kQ8Mr);
  int32_t *corr =
      reinterpret_cast<int32_t *>(scratch(7, static_cast<size_t>(2 * cnPad)));
  float *scale = reinterpret_cast<float *>(corr + cnPad);
  const int8_t *wg = q.w + (g * q.panels + c0 / kQ8Mr) * q.panelBytes;
  for (int64_t m = 0; m < cnPad; ++m) {
    if (m < cn) {
      int32_t sum;
      std::memcpy(&sum, wg + m / kQ8Mr * q.panelBytes + (m % kQ8Mr) * 4, 4);
      corr[m] = q.zp * sum;
      scale[m] = q.xScale * q.wScales[g * q.Mg + c0 + m];
    } else {
      corr[m] = 0;
      scale[m] = 0.0f;
    }
  }
  const int64_t yOff = (n * q.M + g * q.Mg + c0) * q.P + p0;
  Q8Gemm gm;
  gm.M = cn;
  gm.N = pn;
  gm.kq = q.kq;
  gm.bc = reinterpret_cast<const uint8_t *>(wg) + LOPPER_CPU_Q8_HEADER;
  gm.bcStride = q.panelBytes;
  gm.vec = panels;
  gm.vecStride = q.kq * 64;
  gm.bsrStart = gm.bsrQ = nullptr;
  gm.bsrBlocks = nullptr;
  gm.bsrPanel0 = 0;
  gm.bcSigned = true;
  gm.perRow = true;
  gm.corr = corr;
  gm.scale = scale;
  gm.e = Epilogue{};
  gm.e.act = q.act;
  gm.e.alpha = q.alpha;
  gm.e.beta = q.beta;
  if (q.bias) {
    gm.e.rowBias = q.bias + g * q.Mg + c0;
    gm.e.rowBiasStride = 1;
  }
  if (q.residual) {
    gm.e.add1 = q.residual + yOff;
    gm.e.ld1 = q.P;
  }
  gm.outType = q.outType;
  gm.outScale = q.outScale;
  gm.outZp = q.outZp;
  gm.c = static_cast<char *>(q.y) + static_cast<int64_t>(elem) * yOff;
  gm.ldc = q.P;
  q8GemmBlock(*q.kr, *q.qk, gm);
}

// Tasks (pair, pixel block, channel block) for the pairs (image, group)
// ig0 .. ig0 + igs - 1. Shared: the panels of the pass were built by
// im2colTasks; otherwise each task builds its pixel block's.
void gemmConvTasks(void *ctxp, int64_t begin, int64_t end) {
  const QConv &q = *static_cast<const QConv *>(ctxp);
  const int64_t pbPad = lopper_cpu_round_up(q.pb, 16);
  const int64_t vecStride = q.kq * 64;
  uint8_t *buf = nullptr, *rows = nullptr;
  if (!q.shared) {
    buf = reinterpret_cast<uint8_t *>(scratch(
        6, static_cast<size_t>(
               (pbPad / 16 * vecStride + 4 * rowStride(q.pb)) / 4 + 16)));
    rows = buf + pbPad / 16 * vecStride;
  }
  for (int64_t task = begin; task < end; ++task) {
    const int64_t pi = task % q.pt_;
    const int64_t ci = task / q.pt_ % q.ct_;
    const int64_t ig = q.ig0 + task / (q.pt_ * q.ct_);
    const int64_t n = ig / q.G, g = ig % q.G;
    const int64_t p0 = pi * q.pb, pn = minI(q.pb, q.P - p0);
    const int64_t c0 = ci * q.cb, cn = minI(q.cb, q.Mg - c0);
    const uint8_t *panels;
    if (q.shared) {
      panels = q.shared + (ig - q.ig0) * q.sharedStride + p0 / 16 * vecStride;
    } else {
      buildPanels(q, ig, p0, pn, buf, rows);
      panels = buf;
    }
    convMultiply(q, n, g, p0, pn, c0, cn, panels);
  }
}

// Shared im2col: tasks (pair, block of kIm2colPanels 16-pixel panels).
constexpr int64_t kIm2colPanels = 6;
void im2colTasks(void *ctxp, int64_t begin, int64_t end) {
  const QConv &q = *static_cast<const QConv *>(ctxp);
  const int64_t blocks = lopper_cpu_ceil_div(q.P, 16 * kIm2colPanels);
  uint8_t *rows = reinterpret_cast<uint8_t *>(
      scratch(6, static_cast<size_t>(rowStride(16 * kIm2colPanels) + 16)));
  for (int64_t task = begin; task < end; ++task) {
    const int64_t ig = q.ig0 + task / blocks, b = task % blocks;
    const int64_t p0 = b * 16 * kIm2colPanels;
    const int64_t pn = minI(16 * kIm2colPanels, q.P - p0);
    buildPanels(q, ig, p0, pn,
                q.shared + (ig - q.ig0) * q.sharedStride + p0 / 16 * q.kq * 64,
                rows);
  }
}

// The planes of the pass: tasks (pair, input channel of the group).
void planeTasks(void *ctxp, int64_t begin, int64_t end) {
  const QConv &q = *static_cast<const QConv *>(ctxp);
  const uint8_t pad = static_cast<uint8_t>(q.zp ^ q.flip);
  for (int64_t task = begin; task < end; ++task) {
    const int64_t ig = q.ig0 + task / q.Cg, c = task % q.Cg;
    const int64_t n = ig / q.G, g = ig % q.G;
    buildPlane(q, q.x + (n * q.C + g * q.Cg + c) * q.H * q.W, pad,
               q.planes + ((ig - q.ig0) * q.Cg + c) * q.planeStride);
  }
}

// acc[oh*OW + ow] += sum of w * plane over the taps of a depthwise window
// that land inside the input (plane: x - zp as int16, H x W).
inline __attribute__((always_inline)) void dwAccumBody(const QConv &q,
                                                       const int16_t *plane,
                                                       const int8_t *w,
                                                       int32_t *acc) {
  // Taps outer: the bounds of the outputs whose tap lands inside the row
  // (0 <= ow*sw + off < W) are computed once per column tap.
  for (int64_t kw = 0; kw < q.KW; ++kw) {
    const int64_t off = kw * q.dw - q.pl;
    const int64_t lo = off >= 0 ? 0 : (-off + q.sw - 1) / q.sw;
    const int64_t hi =
        q.W - off <= 0 ? 0 : minI(q.OW, (q.W - off - 1) / q.sw + 1);
    for (int64_t oh = 0; oh < q.OH; ++oh) {
      int32_t *a = acc + oh * q.OW;
      for (int64_t kh = 0; kh < q.KH; ++kh) {
        const int64_t ih = oh * q.sh - q.pt + kh * q.dh;
        if (ih < 0 || ih >= q.H)
          continue;
        const int16_t *row = plane + ih * q.W;
        const int16_t wv = w[kh * q.KW + kw];
        if (q.sw == 1) {
          const int16_t *r = row + off;
          for (int64_t ow = lo; ow < hi; ++ow)
            a[ow] += static_cast<int32_t>(wv) * static_cast<int32_t>(r[ow]);
        } else {
          for (int64_t ow = lo; ow < hi; ++ow)
            a[ow] += static_cast<int32_t>(wv) *
                     static_cast<int32_t>(row[ow * q.sw + off]);
        }
      }
    }
  }
}

void dwAccum(const QConv &q, const int16_t *plane, const int8_t *w,
             int32_t *acc) {
  dwAccumBody(q, plane, w, acc);
}

#if defined(__x86_64__)
// The same integer sums, vectorized 8 or 16 lanes wide.
__attribute__((target("avx2"))) void dwAccumAvx2(const QConv &q,
                                                 const int16_t *plane,
                                                 const int8_t *w,
                                                 int32_t *acc) {
  dwAccumBody(q, plane, w, acc);
}
#endif

// Depthwise (one input channel per group): per output plane, int32 sums of
// w * (x - zp) over the taps inside the input, then the epilogue per
// 32-output chunk of a row.
void directConvTasks(void *ctxp, int64_t begin, int64_t end) {
  const QConv &q = *static_cast<const QConv *>(ctxp);
  const size_t elem = elemSize(q.outType);
  const Kernels &ep = q.outType != LOPPER_QTYPE_F32 && !q8ActIsExact(q.act)
                          ? scalarKernels
                          : *q.kr;
  const int64_t P = q.OH * q.OW, Pr = lopper_cpu_round_up(P, 32);
  int16_t *plane = reinterpret_cast<int16_t *>(
      scratch(6, static_cast<size_t>(q.H * q.W / 2 + 16)));
  // The plane's int32 sums, then (64-byte aligned) its scaled sums and the
  // epilogue's output, as rows of 32 (the float epilogue's tile rows).
  int32_t *acc =
      reinterpret_cast<int32_t *>(scratch(7, static_cast<size_t>(3 * Pr)));
  float *tile = reinterpret_cast<float *>(acc + Pr);
  float *tmp = tile + Pr;
  const int64_t khw = q.KH * q.KW;
  for (int64_t task = begin; task < end; ++task) {
    const int64_t m = task % q.M, n = task / q.M;
    const int64_t ch = m / q.Mg;
    const uint8_t *xc = q.x + (n * q.C + ch) * q.H * q.W;
    const int16_t zp = static_cast<int16_t>(q.zp);
    const uint8_t flip = q.flip;
    for (int64_t i = 0; i < q.H * q.W; ++i)
      plane[i] = static_cast<int16_t>(static_cast<uint8_t>(xc[i] ^ flip) - zp);
    std::memset(acc, 0, sizeof(int32_t) * static_cast<size_t>(P));
#if defined(__x86_64__)
    if (q.kr->isa >= IsaAvx2)
      dwAccumAvx2(q, plane, q.w + m * khw, acc);
    else
#endif
      dwAccum(q, plane, q.w + m * khw, acc);
    const float s = q.xScale * q.wScales[m];
    for (int64_t i = 0; i < Pr; ++i)
      tile[i] = i < P ? static_cast<float>(acc[i]) * s : 0.0f;
    // The plane as rows of 32 outputs, then the last partial row.
    Epilogue e = {};
    e.act = q.act;
    e.alpha = q.alpha;
    e.beta = q.beta;
    if (q.bias) {
      e.rowBias = q.bias + m;
      e.rowBiasStride = 0;
    }
    const int64_t yOff = (n * q.M + m) * P;
    if (q.residual) {
      e.add1 = q.residual + yOff;
      e.ld1 = 32;
    }
    char *out = static_cast<char *>(q.y) + static_cast<int64_t>(elem) * yOff;
    float *dst =
        q.outType == LOPPER_QTYPE_F32 ? reinterpret_cast<float *>(out) : tmp;
    const int64_t full = P / 32, rest = P - full * 32;
    if (full > 0)
      ep.epilogue(tile, dst, 32, full, 32, e);
    if (rest > 0)
      ep.epilogue(tile + full * 32, dst + full * 32, 32, 1, rest,
                  e.at(full, 0));
    if (q.outType != LOPPER_QTYPE_F32)
      q.qk->quantize(tmp, P, q.outScale, q.outZp, q.outType, out);
  }
}

struct DynCtx {
  const Q8Kernels *qk;
  const float *x;
  uint8_t *q;
  int64_t n, chunk;
  float scale;
  int32_t zp;
};

void dynQuantTask(void *ctxp, int64_t begin, int64_t end) {
  const DynCtx &d = *static_cast<const DynCtx *>(ctxp);
  for (int64_t c = begin; c < end; ++c) {
    const int64_t i0 = c * d.chunk;
    d.qk->quantize(d.x + i0, minI(d.chunk, d.n - i0), d.scale, d.zp,
                   LOPPER_QTYPE_U8, d.q + i0);
  }
}

} // namespace

} // namespace cpu
} // namespace lopper

using namespace lopper::cpu;

extern "C" LOPPER_EXPORT void
lopper_k_conv2d_q8_v1(void *rt, const int64_t *ip, const float *fp,
                      const void *x, const int8_t *w_packed,
                      const float *w_scales, const float *bias,
                      const float *residual, void *y) {
  QConv q;
  q.N = ip[LOPPER_CONV_IP_N];
  q.C = ip[LOPPER_CONV_IP_C];
  q.H = ip[LOPPER_CONV_IP_H];
  q.W = ip[LOPPER_CONV_IP_W];
  q.M = ip[LOPPER_CONV_IP_M];
  q.OH = ip[LOPPER_CONV_IP_OH];
  q.OW = ip[LOPPER_CONV_IP_OW];
  if (q.N <= 0 || q.M <= 0 || q.OH <= 0 || q.OW <= 0)
    return;
  q.KH = ip[LOPPER_CONV_IP_KH];
  q.KW = ip[LOPPER_CONV_IP_KW];
  q.sh = ip[LOPPER_CONV_IP_STRIDE_H];
  q.sw = ip[LOPPER_CONV_IP_STRIDE_W];
  q.pt = ip[LOPPER_CONV_IP_PAD_TOP];
  q.pl = ip[LOPPER_CONV_IP_PAD_LEFT];
  q.dh = ip[LOPPER_CONV_IP_DIL_H];
  q.dw = ip[LOPPER_CONV_IP_DIL_W];
  q.G = ip[LOPPER_CONV_IP_GROUP];
  q.act = static_cast<int>(ip[LOPPER_CONV_IP_ACT]);
  const int xType = static_cast<int>(ip[LOPPER_QCONV_IP_X_TYPE]);
  q.zp = static_cast<int32_t>(ip[LOPPER_QCONV_IP_X_ZP]);
  q.outType = static_cast<int>(ip[LOPPER_QCONV_IP_OUT_TYPE]);
  q.outZp = static_cast<int32_t>(ip[LOPPER_QCONV_IP_OUT_ZP]);
  q.alpha = fp[LOPPER_QFP_ALPHA];
  q.beta = fp[LOPPER_QFP_BETA];
  q.xScale = fp[LOPPER_QFP_A_SCALE];
  q.outScale = fp[LOPPER_QFP_OUT_SCALE];
  q.Mg = q.M / q.G;
  q.Cg = q.C / q.G;
  q.Kg = q.Cg * q.KH * q.KW;
  q.kq = lopper_cpu_ceil_div(q.Kg, 4);
  q.P = q.OH * q.OW;
  const Isa isa = activeIsa();
  q.kr = &kernelsFor(isa);
  q.qk = &q8KernelsFor(isa);
  q.w = w_packed;
  q.wScales = w_scales;
  q.bias = bias;
  q.residual = residual;
  q.y = y;
  q.flip = 0;
  q.x = static_cast<const uint8_t *>(x);
  if (xType == LOPPER_QIN_I8) {
    q.flip = 0x80;
    q.zp += 128;
  } else if (xType == LOPPER_QIN_F32) {
    // One scale and zero point for the whole tensor (all images), as
    // DynamicQuantizeLinear; the u8 copy in this thread's scratch.
    DynCtx d;
    d.qk = q.qk;
    d.x = static_cast<const float *>(x);
    d.n = q.N * q.C * q.H * q.W;
    q8DynamicParams(d.x, 1, d.n, d.n, &d.scale, &d.zp);
    d.q = reinterpret_cast<uint8_t *>(
        scratch(5, static_cast<size_t>(lopper_cpu_ceil_div(d.n, 4) + 16)));
    d.chunk = 16384;
    lopper_rt_parallel_for(rt, lopper_cpu_ceil_div(d.n, d.chunk), 1,
                           dynQuantTask, &d);
    q.x = d.q;
    q.zp = d.zp;
    q.xScale = d.scale;
  }
  const bool serial = rt == nullptr;
  if (lopper_cpu_conv_is_direct(ip)) {
    lopper_rt_parallel_for(rt, q.N * q.M, 1, directConvTasks, &q);
    return;
  }
  q.panels = lopper_cpu_ceil_div(q.Mg, kQ8Mr);
  q.panelBytes = lopper_cpu_q8_conv_panel_bytes(q.Kg);
  // Pixel blocks: multiples of 48 (one tile's columns) whose im2col stays
  // within ~256 KB (L2), split while they keep 96 pixels, then channel
  // blocks down to 32, then pixel blocks down to 48, until there are about
  // one task per 16 M ops (at most 64).
  const int64_t step = kQ8MaxNv * kQ8Nr;
  const int64_t maxPb =
      std::max<int64_t>(step, (256 << 10) / (q.kq * 4) / step * step);
  q.pb = minI(lopper_cpu_round_up(q.P, step), maxPb);
  q.cb = lopper_cpu_round_up(q.Mg, kQ8Mr);
  const double ops = 2.0 * static_cast<double>(q.N * q.M) *
                     static_cast<double>(q.P) * static_cast<double>(q.Kg);
  const int64_t want =
      serial ? 1
             : static_cast<int64_t>(
                   std::fmax(1.0, std::fmin(std::ceil(ops / 16e6), 64.0)));
  const int64_t NG = q.N * q.G;
  for (;;) {
    q.pt_ = lopper_cpu_ceil_div(q.P, q.pb);
    q.ct_ = lopper_cpu_ceil_div(q.Mg, q.cb);
    if (NG * q.pt_ * q.ct_ >= want)
      break;
    if (q.pb >= 4 * step)
      q.pb = lopper_cpu_round_up(lopper_cpu_ceil_div(q.pb, 2), step);
    else if (q.cb > 32)
      q.cb = lopper_cpu_round_up(lopper_cpu_ceil_div(q.cb, 2), kQ8Mr);
    else if (q.pb > step)
      q.pb = lopper_cpu_round_up(lopper_cpu_ceil_div(q.pb, 2), step);
    else
      break;
  }
  // The planes of every input channel, then (when channel blocks would
  // each build the same im2col) the im2col once per (image, group) pair,
  // for passes of pairs that fit ~16 MB.
  q.Hp = q.H + q.pt + ip[LOPPER_CONV_IP_PAD_BOTTOM];
  q.Wq = lopper_cpu_ceil_div(q.W + q.pl + ip[LOPPER_CONV_IP_PAD_RIGHT], q.sw);
  q.planesAreX = q.KH == 1 && q.KW == 1 && q.sh == 1 && q.sw == 1 &&
                 q.Hp == q.H && q.Wq == q.W && q.pt == 0 && q.pl == 0 &&
                 q.OH == q.H && q.OW == q.W;
  q.planeStride = q.planesAreX
                      ? q.H * q.W
                      : lopper_cpu_round_up(q.sw * q.Hp * q.Wq, 64) + 64;
  const bool share = q.ct_ > 1;
  q.sharedStride = share ? lopper_cpu_round_up(q.P, 16) * q.kq * 4 : 0;
  const int64_t perPair =
      (q.planesAreX ? 0 : q.Cg * q.planeStride) + q.sharedStride;
  const int64_t pairs = std::max<int64_t>(
      1, minI(NG, (int64_t(16) << 20) / std::max<int64_t>(1, perPair)));
  q.planes = reinterpret_cast<uint8_t *>(
      scratch(8, static_cast<size_t>(pairs * perPair / 4 + 16)));
  q.shared = share ? q.planes + pairs * (perPair - q.sharedStride) : nullptr;
  for (q.ig0 = 0; q.ig0 < NG; q.ig0 += pairs) {
    q.igs = minI(pairs, NG - q.ig0);
    if (!q.planesAreX)
      lopper_rt_parallel_for(rt, q.igs * q.Cg, 1, planeTasks, &q);
    if (share)
      lopper_rt_parallel_for(
          rt, q.igs * lopper_cpu_ceil_div(q.P, 16 * kIm2colPanels), 1,
          im2colTasks, &q);
    lopper_rt_parallel_for(rt, q.igs * q.pt_ * q.ct_, 1, gemmConvTasks, &q);
  }
}
