// The int8 GEMM driver shared by the int8 MatMul and Conv, activation
// quantization, and lopper_k_matmul_q8_v1.
#include "kernels.h"
#include "parallel.h"
#include "q8.h"

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

// One element of q8Quantize; the SSE2 lanes compute the same.
inline int32_t quantizeOne(float v, float scale, int32_t zp, int32_t lo,
                           int32_t hi) {
  float f = v / scale;
  // As maxps/minps: the second operand when either is NaN.
  f = f > -1e9f ? f : -1e9f;
  f = f < 1e9f ? f : 1e9f;
  int32_t i = static_cast<int32_t>(std::nearbyint(f)) + zp;
  return i < lo ? lo : i > hi ? hi : i;
}
} // namespace

bool q8ActIsExact(int act) {
  return act == LOPPER_ACT_NONE || act == LOPPER_ACT_RELU ||
         act == LOPPER_ACT_CLIP || act == LOPPER_ACT_LEAKY_RELU;
}

void q8Quantize(const float *src, int64_t n, float scale, int32_t zp,
                int outType, void *dst) {
  const bool u8 = outType == LOPPER_QTYPE_U8;
  const int32_t lo = u8 ? 0 : -128, hi = u8 ? 255 : 127;
  uint8_t *out = static_cast<uint8_t *>(dst);
  int64_t i = 0;
#if defined(__x86_64__)
  const __m128 vs = _mm_set1_ps(scale);
  const __m128 vlo = _mm_set1_ps(-1e9f), vhi = _mm_set1_ps(1e9f);
  const __m128i vzp = _mm_set1_epi32(zp);
  for (; i + 16 <= n; i += 16) {
    __m128i q[4];
    for (int v = 0; v < 4; ++v) {
      __m128 f = _mm_div_ps(_mm_loadu_ps(src + i + 4 * v), vs);
      f = _mm_min_ps(_mm_max_ps(f, vlo), vhi);
      // cvtps2dq rounds half to even (the default MXCSR mode).
      q[v] = _mm_add_epi32(_mm_cvtps_epi32(f), vzp);
    }
    // Saturating packs: int32 -> int16 -> u8 / i8.
    const __m128i h0 = _mm_packs_epi32(q[0], q[1]);
    const __m128i h1 = _mm_packs_epi32(q[2], q[3]);
    const __m128i b = u8 ? _mm_packus_epi16(h0, h1) : _mm_packs_epi16(h0, h1);
    _mm_storeu_si128(reinterpret_cast<__m128i *>(out + i), b);
  }
#endif
  for (; i < n; ++i)
    out[i] = static_cast<uint8_t>(quantizeOne(src[i], scale, zp, lo, hi));
}

void q8DynamicParams(const float *x, int64_t rows, int64_t cols, int64_t rs,
                     float *scale, int32_t *zp) {
  float mn = 0.0f, mx = 0.0f;
  for (int64_t r = 0; r < rows; ++r) {
    const float *p = x + r * rs;
    int64_t k = 0;
#if defined(__x86_64__)
    __m128 vmn = _mm_setzero_ps(), vmx = _mm_setzero_ps();
    for (; k + 4 <= cols; k += 4) {
      const __m128 v = _mm_loadu_ps(p + k);
      vmn = _mm_min_ps(vmn, v);
      vmx = _mm_max_ps(vmx, v);
    }
    alignas(16) float t[8];
    _mm_store_ps(t, vmn);
    _mm_store_ps(t + 4, vmx);
    for (int l = 0; l < 4; ++l) {
      mn = std::fmin(mn, t[l]);
      mx = std::fmax(mx, t[4 + l]);
    }
#endif
    for (; k < cols; ++k) {
      mn = std::fmin(mn, p[k]);
      mx = std::fmax(mx, p[k]);
    }
  }
  const float s = mx == mn ? 1.0f : (mx - mn) / 255.0f;
  const float z = 0.0f - mn / s;
  *scale = s;
  *zp = static_cast<int32_t>(
      std::nearbyint(std::fmax(0.0f, std::fmin(255.0f, z))));
}

void q8GemmBlock(const Kernels &kr, const Q8Kernels &qk, const Q8Gemm &g) {
  if (g.M <= 0 || g.N <= 0)
    return;
  // Integer outputs must not depend on the level: activations whose vector
  // form differs in the last bit go through the scalar epilogue.
  const Kernels &ep = g.outType != LOPPER_QTYPE_F32 && !q8ActIsExact(g.e.act)
                          ? scalarKernels
                          : kr;
  const size_t elem = g.outType == LOPPER_QTYPE_F32 ? 4 : 1;
  alignas(64) float tile[2 * kQ8Mr * 32];
  alignas(64) float tmp[kQ8Mr * 32];
  const int64_t mPanels = lopper_cpu_ceil_div(g.M, kQ8Mr);
  const int64_t nPanels = lopper_cpu_ceil_div(g.N, kQ8Nr);
  Q8TileArgs t;
  t.kq = g.kq;
  t.vecStride = g.vecStride;
  t.bcSigned = g.bcSigned;
  t.perRow = g.perRow;
  t.out = tile;
  for (int64_t jp = 0; jp < nPanels; jp += kQ8MaxNv) {
    t.nv = static_cast<int>(minI(kQ8MaxNv, nPanels - jp));
    const int64_t j0 = jp * kQ8Nr;
    const int64_t ncols = minI(g.N - j0, t.nv * kQ8Nr);
    t.vec = g.vec + jp * g.vecStride;
    for (int64_t ir = 0; ir < mPanels; ++ir) {
      const int64_t i0 = ir * kQ8Mr;
      const int64_t mr = minI(kQ8Mr, g.M - i0);
      t.bc = g.bc + ir * g.bcStride;
      t.corr = g.perRow ? g.corr + i0 : g.corr + j0;
      t.scale = g.perRow ? g.scale + i0 : g.scale + j0;
      if (g.bsrStart) {
        for (int v = 0; v < t.nv; ++v) {
          const int64_t p = g.bsrPanel0 + jp + v;
          Q8SparseArgs sa;
          sa.bc = t.bc;
          sa.q = g.bsrQ + g.bsrStart[p];
          sa.blocks = g.bsrBlocks + static_cast<int64_t>(g.bsrStart[p]) * 64;
          sa.nb = g.bsrStart[p + 1] - g.bsrStart[p];
          sa.corr = t.corr + 16 * v;
          sa.scale = t.scale + 16 * v;
          sa.out = tile + (v / 2) * 256 + (v % 2) * 16;
          qk.sparseTile(sa);
        }
      } else {
        qk.tile(t);
      }
      for (int64_t ch = 0; ch * 32 < ncols; ++ch) {
        const int64_t jc = j0 + ch * 32;
        const int64_t nc = minI(32, ncols - ch * 32);
        const Epilogue e = g.e.at(i0, jc);
        char *c = static_cast<char *>(g.c) +
                  static_cast<int64_t>(elem) * (i0 * g.ldc + jc);
        if (g.outType == LOPPER_QTYPE_F32) {
          ep.epilogue(tile + ch * 256, reinterpret_cast<float *>(c), g.ldc, mr,
                      nc, e);
          continue;
        }
        if (qk.requant && &ep == &kr) {
          qk.requant(tile + ch * 256, mr, nc, e, g.outScale, g.outZp, g.outType,
                     c, g.ldc);
          continue;
        }
        ep.epilogue(tile + ch * 256, tmp, 32, mr, nc, e);
        for (int64_t i = 0; i < mr; ++i)
          qk.quantize(tmp + i * 32, nc, g.outScale, g.outZp, g.outType,
                      c + i * g.ldc);
      }
    }
  }
}

namespace {

// Rows [0, rows) of A(i, k) = a[i*rs + k] (u8 after xor with `flip`) as
// ceil(rows/8) panels of kq groups of 8 words: out[(p*kq + q)*32 + r*4 + b]
// = A(8p + r, 4q + b); padding rows and k are 0.
void packAPanels(const uint8_t *a, int64_t rs, int64_t rows, int64_t K,
                 int64_t kq, uint32_t flip, uint8_t *out) {
  const int64_t kFull = K / 4;
  for (int64_t p = 0; p * kQ8Mr < rows; ++p) {
    uint8_t *dst = out + p * kq * 32;
    const int64_t n = minI(kQ8Mr, rows - p * kQ8Mr);
    if (n < kQ8Mr || kFull < kq)
      std::memset(dst, 0, static_cast<size_t>(kq * 32));
    for (int64_t r = 0; r < n; ++r) {
      const uint8_t *src = a + (p * kQ8Mr + r) * rs;
      uint8_t *d = dst + r * 4;
      for (int64_t q = 0; q < kFull; ++q) {
        uint32_t w;
        std::memcpy(&w, src + 4 * q, 4);
        w ^= flip;
        std::memcpy(d + q * 32, &w, 4);
      }
      for (int64_t k = kFull * 4; k < K; ++k)
        d[kFull * 32 + (k - kFull * 4)] =
            static_cast<uint8_t>(src[k] ^ (flip & 0xff));
    }
  }
}

// Blocks of up to 256 rows (the packed A block stays in L2) and 480
// columns, whole tiles (8 x 48) where possible; split (columns first, down
// to 96) until there are about one task per 32 M ops rounded up, at most 32.
Grid q8Grid(bool serial, int64_t outer, int64_t M, int64_t N, int64_t K) {
  const int64_t tn = kQ8MaxNv * kQ8Nr;
  Grid g;
  g.mb = minI(lopper_cpu_round_up(M, kQ8Mr), 256);
  g.nb = minI(lopper_cpu_round_up(N, tn), 10 * tn);
  const double ops = 2.0 * static_cast<double>(outer) * static_cast<double>(M) *
                     static_cast<double>(N) * static_cast<double>(K);
  const int64_t want =
      serial ? 1 : static_cast<int64_t>(std::fmin(std::ceil(ops / 32e6), 32.0));
  for (;;) {
    g.mt = lopper_cpu_ceil_div(M, g.mb);
    g.nt = lopper_cpu_ceil_div(N, g.nb);
    if (outer * g.mt * g.nt >= want)
      break;
    if (g.nb > 2 * tn)
      g.nb = lopper_cpu_round_up(lopper_cpu_ceil_div(g.nb, 2), tn);
    else if (g.mb > kQ8Mr)
      g.mb = lopper_cpu_round_up(lopper_cpu_ceil_div(g.mb, 2), kQ8Mr);
    else if (g.nb > tn)
      g.nb = tn;
    else
      break;
  }
  return g;
}

struct MatmulQ8Ctx {
  const Kernels *kr;
  const Q8Kernels *qk;
  int64_t M, N, K, kq, aBs, aRs, rBs, cBs, ldc;
  int aType, outType, act;
  int32_t aZp, outZp;
  float alpha, beta, aScale, outScale;
  const uint8_t *a;      // A_TYPE 0/1; A_TYPE 2: the quantized copy
  const float *af;       // A_TYPE 2: the float input
  const float *dynScale; // A_TYPE 2: per batch
  const int32_t *dynZp;  // A_TYPE 2: per batch
  const int8_t *w;
  int64_t panelBytes;
  // Block-sparse weights (lopper_k_matmul_bsr_q8_v1), else null.
  const int32_t *bsrStart, *bsrSums, *bsrQ;
  const int8_t *bsrBlocks;
  const float *wScales, *bias, *residual;
  void *c;
  Grid grid;
};

// A_TYPE 2: rows [begin, end) of all batches (row r = b*M + i) quantized
// into the copy (rows of kq*4 bytes).
void quantizeRowsTask(void *ctxp, int64_t begin, int64_t end) {
  const MatmulQ8Ctx &x = *static_cast<const MatmulQ8Ctx *>(ctxp);
  uint8_t *dst = const_cast<uint8_t *>(x.a);
  for (int64_t r = begin; r < end; ++r) {
    const int64_t b = r / x.M, i = r % x.M;
    x.qk->quantize(x.af + b * x.aBs + i * x.aRs, x.K, x.dynScale[b], x.dynZp[b],
                   LOPPER_QTYPE_U8, dst + r * x.kq * 4);
  }
}

void matmulQ8Tasks(void *ctxp, int64_t begin, int64_t end) {
  const MatmulQ8Ctx &x = *static_cast<const MatmulQ8Ctx *>(ctxp);
  const Grid &gr = x.grid;
  const size_t elem = x.outType == LOPPER_QTYPE_F32 ? 4 : 1;
  for (int64_t task = begin; task < end; ++task) {
    const int64_t nb = task % gr.nt;
    const int64_t mb = task / gr.nt % gr.mt;
    const int64_t batch = task / (gr.nt * gr.mt);
    const int64_t m0 = mb * gr.mb, n0 = nb * gr.nb;
    const int64_t M = minI(gr.mb, x.M - m0), N = minI(gr.nb, x.N - n0);

    // The A block as u8 panels.
    const uint8_t *aRows;
    int64_t aRs;
    uint32_t flip = 0;
    int32_t zp;
    float aScale;
    if (x.aType == LOPPER_QIN_F32) {
      aRows = x.a + (batch * x.M + m0) * x.kq * 4;
      aRs = x.kq * 4;
      zp = x.dynZp[batch];
      aScale = x.dynScale[batch];
    } else {
      aRows = x.a + batch * x.aBs + m0 * x.aRs;
      aRs = x.aRs;
      zp = x.aZp;
      aScale = x.aScale;
      if (x.aType == LOPPER_QIN_I8) {
        // i8 -> u8: a + 128 (flip the sign bit), zero point likewise.
        flip = 0x80808080u;
        zp += 128;
      }
    }
    const int64_t mPanels = lopper_cpu_ceil_div(M, kQ8Mr);
    const int64_t nPad = lopper_cpu_round_up(N, kQ8MaxNv * kQ8Nr);
    uint8_t *panels = reinterpret_cast<uint8_t *>(
        scratch(6, static_cast<size_t>(mPanels * x.kq * 8)));
    packAPanels(aRows, aRs, M, x.K, x.kq, flip, panels);

    // Per column: the zero point times the column sum, and the scale.
    int32_t *corr =
        reinterpret_cast<int32_t *>(scratch(7, static_cast<size_t>(2 * nPad)));
    float *scale = reinterpret_cast<float *>(corr + nPad);
    for (int64_t j = 0; j < nPad; ++j) {
      if (j < N) {
        const int64_t col = n0 + j;
        int32_t sum;
        if (x.bsrStart)
          sum = x.bsrSums[col];
        else
          std::memcpy(&sum,
                      x.w + col / kQ8Nr * x.panelBytes + (col % kQ8Nr) * 4, 4);
        corr[j] = zp * sum;
        scale[j] = aScale * x.wScales[col];
      } else {
        corr[j] = 0;
        scale[j] = 0.0f;
      }
    }

    Q8Gemm g;
    g.M = M;
    g.N = N;
    g.kq = x.kq;
    g.bc = panels;
    g.bcStride = x.kq * 32;
    g.vec = reinterpret_cast<const uint8_t *>(x.w) + n0 / kQ8Nr * x.panelBytes +
            LOPPER_CPU_Q8_HEADER;
    g.vecStride = x.panelBytes;
    g.bsrStart = x.bsrStart;
    g.bsrQ = x.bsrQ;
    g.bsrBlocks = x.bsrBlocks;
    g.bsrPanel0 = n0 / kQ8Nr;
    g.bcSigned = false;
    g.perRow = false;
    g.corr = corr;
    g.scale = scale;
    g.e = Epilogue{};
    g.e.act = x.act;
    g.e.alpha = x.alpha;
    g.e.beta = x.beta;
    if (x.bias)
      g.e.colBias = x.bias + n0;
    if (x.residual) {
      g.e.add1 = x.residual + batch * x.rBs + m0 * x.ldc + n0;
      g.e.ld1 = x.ldc;
    }
    g.outType = x.outType;
    g.outScale = x.outScale;
    g.outZp = x.outZp;
    g.c = static_cast<char *>(x.c) +
          static_cast<int64_t>(elem) * (batch * x.cBs + m0 * x.ldc + n0);
    g.ldc = x.ldc;
    q8GemmBlock(*x.kr, *x.qk, g);
  }
}

} // namespace

} // namespace cpu
} // namespace lopper

using namespace lopper::cpu;

namespace {
void matmulQ8(void *rt, const int64_t *ip, const float *fp, const void *a,
              const int8_t *w_packed, bool bsr, const float *w_scales,
              const float *bias, const float *residual, void *c) {
  const int64_t batch = ip[LOPPER_QMM_IP_BATCH];
  MatmulQ8Ctx x;
  x.M = ip[LOPPER_QMM_IP_M];
  x.N = ip[LOPPER_QMM_IP_N];
  x.K = ip[LOPPER_QMM_IP_K];
  if (batch <= 0 || x.M <= 0 || x.N <= 0)
    return;
  const Isa isa = activeIsa();
  x.kr = &kernelsFor(isa);
  x.qk = &q8KernelsFor(isa);
  x.kq = lopper_cpu_ceil_div(x.K, 4);
  x.aBs = ip[LOPPER_QMM_IP_A_BS];
  x.aRs = ip[LOPPER_QMM_IP_A_RS];
  x.aType = static_cast<int>(ip[LOPPER_QMM_IP_A_TYPE]);
  x.aZp = static_cast<int32_t>(ip[LOPPER_QMM_IP_A_ZP]);
  x.rBs = ip[LOPPER_QMM_IP_R_BS];
  x.cBs = ip[LOPPER_QMM_IP_C_BS];
  x.ldc = ip[LOPPER_QMM_IP_LDC];
  x.act = static_cast<int>(ip[LOPPER_QMM_IP_ACT]);
  x.outType = static_cast<int>(ip[LOPPER_QMM_IP_OUT_TYPE]);
  x.outZp = static_cast<int32_t>(ip[LOPPER_QMM_IP_OUT_ZP]);
  x.alpha = fp[LOPPER_QFP_ALPHA];
  x.beta = fp[LOPPER_QFP_BETA];
  x.aScale = fp[LOPPER_QFP_A_SCALE];
  x.outScale = fp[LOPPER_QFP_OUT_SCALE];
  x.w = w_packed;
  x.panelBytes = lopper_cpu_q8_mm_panel_bytes(x.K);
  x.bsrStart = x.bsrSums = x.bsrQ = nullptr;
  x.bsrBlocks = nullptr;
  if (bsr) {
    // The layout of lopper_pack_matmul_bsr_s8 (pack.c).
    const int64_t panels = lopper_cpu_ceil_div(x.N, kQ8Nr);
    const char *base = reinterpret_cast<const char *>(w_packed);
    x.bsrStart = reinterpret_cast<const int32_t *>(base);
    x.bsrSums = reinterpret_cast<const int32_t *>(
        base + lopper_cpu_round_up(4 * (panels + 1), 64));
    x.bsrQ = x.bsrSums + 16 * panels;
    x.bsrBlocks = reinterpret_cast<const int8_t *>(x.bsrQ) +
                  lopper_cpu_round_up(4 * x.bsrStart[panels], 64);
  }
  x.wScales = w_scales;
  x.bias = bias;
  x.residual = residual;
  x.c = c;
  x.af = nullptr;
  x.dynScale = nullptr;
  x.dynZp = nullptr;
  x.a = static_cast<const uint8_t *>(a);
  if (x.aType == LOPPER_QIN_F32) {
    // Per batch matrix: the parameters, then the u8 copy (rows of kq*4
    // bytes) in this thread's scratch, read by every task.
    const int64_t rowBytes = x.kq * 4;
    const int64_t qBytes = batch * x.M * rowBytes;
    float *buf = scratch(
        5, static_cast<size_t>(lopper_cpu_ceil_div(qBytes + 8 * batch, 4)));
    float *scales = buf;
    int32_t *zps = reinterpret_cast<int32_t *>(buf + batch);
    uint8_t *q = reinterpret_cast<uint8_t *>(buf + 2 * batch);
    x.af = static_cast<const float *>(a);
    for (int64_t b = 0; b < batch; ++b)
      q8DynamicParams(x.af + b * x.aBs, x.M, x.K, x.aRs, &scales[b], &zps[b]);
    x.dynScale = scales;
    x.dynZp = zps;
    x.a = q;
    if (rowBytes > x.K)
      for (int64_t r = 0; r < batch * x.M; ++r)
        std::memset(q + r * rowBytes + x.K, 0,
                    static_cast<size_t>(rowBytes - x.K));
    lopper_rt_parallel_for(rt, batch * x.M, 16, quantizeRowsTask, &x);
  }
  x.grid = q8Grid(rt == nullptr, batch, x.M, x.N, x.K);
  lopper_rt_parallel_for(rt, batch * x.grid.mt * x.grid.nt, 1, matmulQ8Tasks,
                         &x);
}
} // namespace

extern "C" LOPPER_EXPORT void
lopper_k_matmul_q8_v1(void *rt, const int64_t *ip, const float *fp,
                      const void *a, const int8_t *w_packed,
                      const float *w_scales, const float *bias,
                      const float *residual, void *c) {
  matmulQ8(rt, ip, fp, a, w_packed, false, w_scales, bias, residual, c);
}

extern "C" LOPPER_EXPORT void
lopper_k_matmul_bsr_q8_v1(void *rt, const int64_t *ip, const float *fp,
                          const void *a, const int8_t *w_packed,
                          const float *w_scales, const float *bias,
                          const float *residual, void *c) {
  matmulQ8(rt, ip, fp, a, w_packed, true, w_scales, bias, residual, c);
}
