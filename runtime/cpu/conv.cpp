// lopper_k_conv2d_f32_v1: GEMM per (image, group) on im2col panels, or the
// direct path for convs with one input channel per group (depthwise).
#include "cpu_internal.h"
#include "kernels.h"
#include "parallel.h"

#include <cstring>

#define LOPPER_EXPORT __attribute__((visibility("default")))

namespace lopper {
namespace cpu {

namespace {

inline int64_t minI(int64_t a, int64_t b) { return a < b ? a : b; }

struct ConvParams {
  int64_t N, C, H, W, M, OH, OW, KH, KW, sh, sw, pt, pl, pb, pr, dh, dw, G;
  int act;
  float alpha, beta;

  explicit ConvParams(const int64_t *ip, const float *fp) {
    N = ip[LOPPER_CONV_IP_N];
    C = ip[LOPPER_CONV_IP_C];
    H = ip[LOPPER_CONV_IP_H];
    W = ip[LOPPER_CONV_IP_W];
    M = ip[LOPPER_CONV_IP_M];
    OH = ip[LOPPER_CONV_IP_OH];
    OW = ip[LOPPER_CONV_IP_OW];
    KH = ip[LOPPER_CONV_IP_KH];
    KW = ip[LOPPER_CONV_IP_KW];
    sh = ip[LOPPER_CONV_IP_STRIDE_H];
    sw = ip[LOPPER_CONV_IP_STRIDE_W];
    pt = ip[LOPPER_CONV_IP_PAD_TOP];
    pl = ip[LOPPER_CONV_IP_PAD_LEFT];
    pb = ip[LOPPER_CONV_IP_PAD_BOTTOM];
    pr = ip[LOPPER_CONV_IP_PAD_RIGHT];
    dh = ip[LOPPER_CONV_IP_DIL_H];
    dw = ip[LOPPER_CONV_IP_DIL_W];
    G = ip[LOPPER_CONV_IP_GROUP];
    act = static_cast<int>(ip[LOPPER_CONV_IP_ACT]);
    alpha = fp ? fp[0] : 0.0f;
    beta = fp ? fp[1] : 0.0f;
  }
};

//===--- GEMM path -----------------------------------------------------===//

// im2col of one image and group for pixels [p0, p0 + n): row k = (c, kh, kw)
// of B holds x[c][oh*sh - pt + kh*dh][ow*sw - pl + kw*dw] (0 outside).
struct Im2col {
  const ConvParams *cp;
  const float *x; // channel 0 of the group in this image
  int64_t p0;
};

void im2colPack(const void *ctxp, int64_t k0, int64_t kc, int64_t n,
                float *out) {
  const Im2col &ic = *static_cast<const Im2col *>(ctxp);
  const ConvParams &p = *ic.cp;
  const int64_t khw = p.KH * p.KW, HW = p.H * p.W;
  struct Segment {
    int64_t oh, ow, len, off;
  };
  Segment segs[NR];
  for (int64_t q = 0; q * NR < n; ++q) {
    const int64_t ps = ic.p0 + q * NR;
    const int64_t cnt = minI(NR, n - q * NR);
    float *panel = out + q * kc * NR;
    // The panel's pixels as runs within one output row.
    int nseg = 0;
    for (int64_t s = 0; s < cnt;) {
      Segment &sg = segs[nseg++];
      sg.oh = (ps + s) / p.OW;
      sg.ow = (ps + s) % p.OW;
      sg.len = minI(cnt - s, p.OW - sg.ow);
      sg.off = s;
      s += sg.len;
    }
    int64_t c = k0 / khw, kh = k0 % khw / p.KW, kw = k0 % p.KW;
    for (int64_t kk = 0; kk < kc; ++kk) {
      float *dst = panel + kk * NR;
      const float *xc = ic.x + c * HW;
      for (int si = 0; si < nseg; ++si) {
        const Segment &sg = segs[si];
        float *d = dst + sg.off;
        const int64_t ih = sg.oh * p.sh - p.pt + kh * p.dh;
        if (ih < 0 || ih >= p.H) {
          std::memset(d, 0, sizeof(float) * static_cast<size_t>(sg.len));
          continue;
        }
        const float *src = xc + ih * p.W;
        const int64_t iw0 = sg.ow * p.sw - p.pl + kw * p.dw;
        // Valid t: 0 <= iw0 + t*sw < W.
        int64_t lo = iw0 < 0 ? (-iw0 + p.sw - 1) / p.sw : 0;
        int64_t hi = iw0 <= p.W - 1 ? (p.W - 1 - iw0) / p.sw + 1 : 0;
        lo = minI(lo, sg.len);
        hi = minI(hi, sg.len);
        if (hi < lo)
          hi = lo;
        for (int64_t t = 0; t < lo; ++t)
          d[t] = 0.0f;
        if (p.sw == 1) {
          std::memcpy(d + lo, src + iw0 + lo,
                      sizeof(float) * static_cast<size_t>(hi - lo));
        } else {
          const float *s = src + iw0;
          for (int64_t t = lo; t < hi; ++t)
            d[t] = s[t * p.sw];
        }
        for (int64_t t = hi; t < sg.len; ++t)
          d[t] = 0.0f;
      }
      for (int64_t t = cnt; t < NR; ++t)
        dst[t] = 0.0f;
      if (++kw == p.KW) {
        kw = 0;
        if (++kh == p.KH) {
          kh = 0;
          ++c;
        }
      }
    }
  }
}

struct GemmConvCtx {
  const Kernels *kr;
  const ConvParams *cp;
  const float *x, *w, *bias, *residual;
  float *y;
  int64_t Mg, Cg, Kg, P, groupStride;
  bool pointwise; // 1x1, stride 1, no padding: B is x itself
  Grid grid;
};

void gemmConvTasks(void *ctxp, int64_t begin, int64_t end) {
  const GemmConvCtx &x = *static_cast<const GemmConvCtx *>(ctxp);
  const ConvParams &p = *x.cp;
  const Grid &g = x.grid;
  for (int64_t task = begin; task < end; ++task) {
    const int64_t nb = task % g.nt;
    const int64_t mb = task / g.nt % g.mt;
    const int64_t ng = task / (g.nt * g.mt); // n * G + group
    const int64_t grp = ng % p.G, n = ng / p.G;
    const int64_t m0 = mb * g.mb, p0 = nb * g.nb;
    const int64_t M = minI(g.mb, x.Mg - m0), N = minI(g.nb, x.P - p0);

    ASource A;
    A.kind = ASource::Packed;
    A.p = x.w + grp * x.groupStride + m0 / MR * x.Kg * MR;
    A.rs = x.Kg * MR;
    A.cs = 1;

    const float *xg = x.x + (n * p.C + grp * x.Cg) * p.H * p.W;
    Im2col ic = {&p, xg, p0};
    BSource B;
    B.cs = 1;
    if (x.pointwise) {
      B.kind = BSource::Direct;
      B.p = xg + p0;
      B.rs = p.H * p.W;
      B.pack = nullptr;
      B.ctx = nullptr;
    } else {
      B.kind = BSource::Custom;
      B.p = nullptr;
      B.rs = 0;
      B.pack = im2colPack;
      B.ctx = &ic;
    }

    const int64_t cOff = (n * p.M + grp * x.Mg + m0) * x.P + p0;
    Epilogue e = {};
    e.act = p.act;
    e.alpha = p.alpha;
    e.beta = p.beta;
    if (x.bias) {
      e.rowBias = x.bias + grp * x.Mg + m0;
      e.rowBiasStride = 1;
    }
    // A residual that is the output itself is accumulated onto.
    const bool inPlace = x.residual == x.y;
    if (x.residual && !inPlace) {
      e.add0 = x.residual + cOff;
      e.ld0 = x.P;
    }
    gemmBlock(*x.kr, M, N, x.Kg, A, B, x.y + cOff, x.P, e, inPlace);
  }
}

//===--- Direct (depthwise) path ---------------------------------------===//

// plane[r][phase][j] = x[r - pt][j*sw + phase - pl] (0 outside), rows of
// sw * wq floats: every tap of a strided conv is then a contiguous run.
// `tmp` holds sw * wq floats (stride > 2 only).
void buildPlane(const Kernels &kr, const ConvParams &p, int64_t hp, int64_t wq,
                const float *x, float *plane, float *tmp) {
  const int64_t rowLen = p.sw * wq;
  for (int64_t r = 0; r < hp; ++r) {
    float *dst = plane + r * rowLen;
    const int64_t ih = r - p.pt;
    if (ih < 0 || ih >= p.H) {
      std::memset(dst, 0, sizeof(float) * static_cast<size_t>(rowLen));
      continue;
    }
    // Padded row position i holds x[ih][i - pl] for pl <= i < pl + W.
    const float *src = x + ih * p.W - p.pl;
    if (p.sw == 2) {
      kr.deinterleave2(src, p.pl, p.pl + p.W, wq, dst, dst + wq);
      continue;
    }
    for (int64_t i = 0; i < rowLen; ++i)
      tmp[i] = i >= p.pl && i < p.pl + p.W ? src[i] : 0.0f;
    for (int64_t ph = 0; ph < p.sw; ++ph)
      for (int64_t j = 0; j < wq; ++j)
        dst[ph * wq + j] = tmp[j * p.sw + ph];
  }
}

struct DirectConvCtx {
  const Kernels *kr;
  const ConvParams *cp;
  const float *x, *w, *bias, *residual;
  float *y;
  int64_t Mg;
  // Width stride > 1: the padded plane split by stride phase (buildPlane).
  int64_t Hp, Wq, rowLen;
};

// Width stride 1: the kernel reads x in place, masking the padding.
void directPlane(const DirectConvCtx &x, const float *xin, int64_t m,
                 int64_t yOff) {
  const ConvParams &p = *x.cp;
  DwPlaneArgs d;
  d.x = xin;
  d.H = p.H;
  d.W = p.W;
  d.KH = p.KH;
  d.KW = p.KW;
  d.sh = p.sh;
  d.dh = p.dh;
  d.dw = p.dw;
  d.pt = p.pt;
  d.pl = p.pl;
  d.y = x.y + yOff;
  d.res = x.residual ? x.residual + yOff : nullptr;
  d.OH = p.OH;
  d.OW = p.OW;
  d.w = x.w + m * p.KH * p.KW;
  d.bias = x.bias ? x.bias + m : nullptr;
  d.act = p.act;
  d.alpha = p.alpha;
  d.beta = p.beta;
  x.kr->dwPlane(d);
}

void directConvTasks(void *ctxp, int64_t begin, int64_t end) {
  const DirectConvCtx &x = *static_cast<const DirectConvCtx *>(ctxp);
  const ConvParams &p = *x.cp;
  const int64_t ntaps = p.KH * p.KW;
  const float **taps = nullptr;
  float *plane = nullptr, *tmp = nullptr;
  if (p.sw != 1) {
    // Tap t of output row oh reads plane + oh*sh*rowLen + offset(t).
    taps = reinterpret_cast<const float **>(scratch(
        3, static_cast<size_t>(2 * ntaps) * sizeof(float *) / sizeof(float)));
    int64_t *offs = reinterpret_cast<int64_t *>(taps + ntaps);
    for (int64_t kh = 0; kh < p.KH; ++kh)
      for (int64_t kw = 0; kw < p.KW; ++kw) {
        const int64_t off = kw * p.dw;
        offs[kh * p.KW + kw] =
            kh * p.dh * x.rowLen + off % p.sw * x.Wq + off / p.sw;
      }
    plane = scratch(2, static_cast<size_t>(x.Hp * x.rowLen));
    tmp = scratch(0, static_cast<size_t>(x.rowLen));
    for (int64_t t = 0; t < ntaps; ++t)
      taps[t] = plane + offs[t];
  }
  for (int64_t task = begin; task < end; ++task) {
    const int64_t m = task % p.M, n = task / p.M;
    const int64_t ch = m / x.Mg; // the group's single input channel
    const float *xin = x.x + (n * p.C + ch) * p.H * p.W;
    const int64_t yOff = (n * p.M + m) * p.OH * p.OW;
    if (p.sw == 1) {
      directPlane(x, xin, m, yOff);
      continue;
    }
    buildPlane(*x.kr, p, x.Hp, x.Wq, xin, plane, tmp);
    DwRowArgs d;
    d.y = x.y + yOff;
    d.res = x.residual ? x.residual + yOff : nullptr;
    d.ldy = p.OW;
    d.ow = p.OW;
    d.rows = p.OH;
    d.taps = taps;
    d.rowStep = p.sh * x.rowLen;
    d.w = x.w + m * ntaps;
    d.ntaps = ntaps;
    d.bias = x.bias ? x.bias + m : nullptr;
    d.act = p.act;
    d.alpha = p.alpha;
    d.beta = p.beta;
    x.kr->dwRows(d);
  }
}

} // namespace

} // namespace cpu
} // namespace lopper

using namespace lopper::cpu;

extern "C" LOPPER_EXPORT void
lopper_k_conv2d_f32_v1(void *rt, const int64_t *ip, const float *fp,
                       const float *x, const float *w_packed, const float *bias,
                       const float *residual, float *y) {
  const ConvParams p(ip, fp);
  if (p.N <= 0 || p.M <= 0 || p.OH <= 0 || p.OW <= 0)
    return;
  const Kernels &kr = activeKernels();
  if (lopper_cpu_conv_is_direct(ip)) {
    DirectConvCtx d;
    d.kr = &kr;
    d.cp = &p;
    d.x = x;
    d.w = w_packed;
    d.bias = bias;
    d.residual = residual;
    d.y = y;
    d.Mg = p.M / p.G;
    d.Hp = p.H + p.pt + p.pb;
    const int64_t wp = p.W + p.pl + p.pr;
    d.Wq = lopper_cpu_ceil_div(wp, p.sw);
    d.rowLen = d.Wq * p.sw;
    lopper_rt_parallel_for(rt, p.N * p.M, 1, directConvTasks, &d);
    return;
  }
  GemmConvCtx g;
  g.kr = &kr;
  g.cp = &p;
  g.x = x;
  g.w = w_packed;
  g.bias = bias;
  g.residual = residual;
  g.y = y;
  g.Mg = p.M / p.G;
  g.Cg = p.C / p.G;
  g.Kg = g.Cg * p.KH * p.KW;
  g.P = p.OH * p.OW;
  g.groupStride = lopper_cpu_ceil_div(g.Mg, MR) * MR * g.Kg;
  g.pointwise = p.KH == 1 && p.KW == 1 && p.sh == 1 && p.sw == 1 && p.pt == 0 &&
                p.pl == 0 && p.pb == 0 && p.pr == 0 && p.OH == p.H &&
                p.OW == p.W;
  // Blocks: up to 256 output channels (the weight block of one K step
  // stays in L2) and 256 pixels (one packed B block ~ 200 KB).
  g.grid = chooseGrid(rt == nullptr, p.N * p.G, g.Mg, g.P, g.Kg, 256, 256);
  lopper_rt_parallel_for(rt, p.N * p.G * g.grid.mt * g.grid.nt, 1,
                         gemmConvTasks, &g);
}
