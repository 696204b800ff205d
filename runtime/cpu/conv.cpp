// lopper_k_conv2d_f32_v1: GEMM per (image, group) on im2col panels (see
// "GEMM path" for the schedules), or the direct path for convs with one
// input channel per group (depthwise).
#include "cpu_internal.h"
#include "kernels.h"
#include "parallel.h"

#include <algorithm>
#include <cmath>
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
//
// Per image n and group g: Y_ng[m][p] = sum_k W_g[m][k] * B_ng[k][p], k =
// (c*KH + kh)*KW + kw over the group's input channels, p = oh*OW + ow. B
// (the im2col of x) is gathered into NR-column panels from each channel's
// "plane": the channel zero-padded and, for width stride sw > 1, split by
// column phase (rows of sw runs of Wq floats), so that a row of B within
// one output row is a contiguous run of the plane:
//   B(k, p) = plane[kOff(k) + pixOff(p)]
//   kOff(k) = c*planeStride + kh*dh*rowLen + (kw*dw % sw)*Wq + kw*dw / sw
//   pixOff(p) = oh*sh*rowLen + ow.
// With sw == 1 and no padding the planes are x itself.
//
// Schedules:
//  - Pointwise (1x1, stride 1, no padding): B is x, read in place.
//  - PerTask: the planes are built in a first parallel pass (unless they
//    are x); tasks are blocks of W rows x pixels and each packs its own B
//    block. Used when one row block holds all output channels (and the
//    pixels make enough tasks): then no B element is packed twice.
//  - Shared: a first parallel pass packs all of B once (a task builds the
//    planes of a block of channels in its own scratch and gathers their
//    rows of every panel); the tasks then only multiply, so they can split
//    the output channels finely. For many channels on few pixels (the deep
//    layers of a CNN).
//  - SharedT: Shared with transposed tiles (gemmBlockT: vector lanes along
//    the output channels) when the pixels would fill the normal tiles'
//    lanes poorly (7x7 = 49 pixels: 49 of 64 lanes).
// Each pass covers as many (image, group) pairs as fit kPassFloats of
// shared scratch (at least one). The task count aims at kTaskFlops per
// task: the kernel does not know the thread count.

constexpr int64_t kPassFloats = int64_t(4) << 20; // 16 MB
// Below this many FLOPs per task the scheduling overhead shows.
constexpr double kTaskFlops = 4e6;
constexpr int64_t kMaxTasks = 64;

ConvTuning tuning = {0, 0.0, 0};

inline int64_t roundUpI(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

struct GemmConvCtx {
  enum Mode { Pointwise, PerTask, Shared, SharedT }; // see ConvTuning
  const Kernels *kr;
  const ConvParams *cp;
  const float *x, *w, *bias, *residual;
  float *y;
  int64_t Mg, Cg, Kg, P, groupStride;
  Mode mode;
  // Planes (see above); planeIsX: x itself.
  bool planeIsX;
  int64_t Hp, Wq, rowLen, planeStride;
  const int64_t *kOff; // Kg offsets
  int64_t nPanels;     // ceil(P / NR)
  // This pass: (image, group) pairs ig0 .. ig0 + igs - 1 (ig = n*G + g);
  // Shared: packed B, PerTask: planes, sharedStride floats per pair.
  int64_t ig0, igs;
  float *shared;
  int64_t sharedStride;
  int64_t cb, cTasks; // first pass: channels per task, tasks per pair
  Grid grid;
};

// Input row r of the plane is read by some output row.
bool planeRowUsed(const ConvParams &p, int64_t r) {
  for (int64_t kh = 0; kh < p.KH; ++kh) {
    const int64_t t = r - kh * p.dh;
    if (t >= 0 && t % p.sh == 0 && t / p.sh < p.OH)
      return true;
  }
  return false;
}

// The plane of one channel (xc); rows no output reads are left unwritten.
// tmp: 2 * rowLen floats (sw > 2 only).
void buildConvPlane(const GemmConvCtx &g, const float *xc, float *plane,
                    float *tmp) {
  const ConvParams &p = *g.cp;
  const int64_t rowLen = g.rowLen;
  const size_t fs = sizeof(float);
  for (int64_t r = 0; r < g.Hp; ++r) {
    if (!planeRowUsed(p, r))
      continue;
    float *dst = plane + r * rowLen;
    const int64_t ih = r - p.pt;
    if (ih < 0 || ih >= p.H) {
      std::memset(dst, 0, fs * static_cast<size_t>(rowLen));
      continue;
    }
    const float *src = xc + ih * p.W;
    // Padded position i holds src[i - pl] for pl <= i < pl + W.
    const int64_t lo = minI(p.pl, rowLen);
    const int64_t hi = minI(p.pl + p.W, rowLen);
    if (p.sw == 1) {
      std::memset(dst, 0, fs * static_cast<size_t>(lo));
      if (hi > lo)
        std::memcpy(dst + lo, src + (lo - p.pl),
                    fs * static_cast<size_t>(hi - lo));
      const int64_t z = hi > lo ? hi : lo;
      std::memset(dst + z, 0, fs * static_cast<size_t>(rowLen - z));
    } else if (p.sw == 2) {
      g.kr->deinterleave2(src - p.pl, p.pl, p.pl + p.W, g.Wq, dst, dst + g.Wq);
    } else {
      for (int64_t i = 0; i < rowLen; ++i)
        tmp[i] = i >= lo && i < hi ? src[i - p.pl] : 0.0f;
      for (int64_t ph = 0; ph < p.sw; ++ph)
        for (int64_t j = 0; j < g.Wq; ++j)
          tmp[rowLen + ph * g.Wq + j] = tmp[j * p.sw + ph];
      std::memcpy(dst, tmp + rowLen, fs * static_cast<size_t>(rowLen));
    }
  }
}

// The pixels [ps, ps + cnt) of one panel as runs within one output row:
// lanes [lo, hi) read plane offset kOff + delta + lane. Returns the count.
int panelSegments(const GemmConvCtx &g, int64_t ps, int64_t cnt, int64_t *delta,
                  int *lo, int *hi) {
  const ConvParams &p = *g.cp;
  int n = 0;
  for (int64_t s = 0; s < cnt;) {
    const int64_t oh = (ps + s) / p.OW, ow = (ps + s) % p.OW;
    const int64_t len = minI(cnt - s, p.OW - ow);
    delta[n] = oh * p.sh * g.rowLen + ow - s;
    lo[n] = static_cast<int>(s);
    hi[n] = static_cast<int>(s + len);
    ++n;
    s += len;
  }
  return n;
}

// Packs rows [k0, k0 + kc) of the panels of pixels [p0, p0 + n) from planes
// at `base` (kOff - kAdj relative to it) into out (panel q at q*kc*NR).
void gatherPanels(const GemmConvCtx &g, const float *base, int64_t kAdj,
                  int64_t k0, int64_t kc, int64_t p0, int64_t n,
                  int64_t panelStride, float *out) {
  int64_t delta[NR];
  int lo[NR], hi[NR];
  GatherArgs ga;
  ga.base = base;
  ga.kOff = g.kOff + k0;
  ga.kAdj = kAdj;
  ga.kc = kc;
  ga.delta = delta;
  ga.lo = lo;
  ga.hi = hi;
  for (int64_t q = 0; q * NR < n; ++q) {
    ga.nseg =
        panelSegments(g, p0 + q * NR, minI(NR, n - q * NR), delta, lo, hi);
    ga.out = out + q * panelStride;
    g.kr->gatherPanel(ga);
  }
}

const float *groupInput(const GemmConvCtx &g, int64_t ig) {
  const ConvParams &p = *g.cp;
  const int64_t n = ig / p.G, grp = ig % p.G;
  return g.x + (n * p.C + grp * g.Cg) * p.H * p.W;
}

// First pass, one task per (pair, block of cb channels): PerTask builds
// the planes; Shared builds them in scratch and packs their rows of B.
void convPrepTasks(void *ctxp, int64_t begin, int64_t end) {
  const GemmConvCtx &g = *static_cast<const GemmConvCtx *>(ctxp);
  const ConvParams &p = *g.cp;
  const int64_t HW = p.H * p.W, khw = p.KH * p.KW;
  float *tmp =
      p.sw > 2 ? scratch(0, static_cast<size_t>(2 * g.rowLen)) : nullptr;
  for (int64_t task = begin; task < end; ++task) {
    const int64_t igl = task / g.cTasks;
    const int64_t c0 = task % g.cTasks * g.cb, c1 = minI(g.Cg, c0 + g.cb);
    const float *xg = groupInput(g, g.ig0 + igl);
    float *dst = g.shared + igl * g.sharedStride;
    if (g.mode == GemmConvCtx::PerTask) {
      for (int64_t c = c0; c < c1; ++c)
        buildConvPlane(g, xg + c * HW, dst + c * g.planeStride, tmp);
      continue;
    }
    const float *base = xg;
    int64_t kAdj = 0;
    if (!g.planeIsX) {
      float *local = scratch(3, static_cast<size_t>((c1 - c0) * g.planeStride));
      for (int64_t c = c0; c < c1; ++c)
        buildConvPlane(g, xg + c * HW, local + (c - c0) * g.planeStride, tmp);
      base = local;
      kAdj = c0 * g.planeStride;
    }
    gatherPanels(g, base, kAdj, c0 * khw, (c1 - c0) * khw, 0, g.P, g.Kg * NR,
                 dst + c0 * khw * NR);
  }
}

// BSource::Custom for PerTask: the panels of pixels [p0, p0 + n).
struct PlanePack {
  const GemmConvCtx *g;
  const float *planes;
  int64_t p0;
};

void planePack(const void *ctxp, int64_t k0, int64_t kc, int64_t n,
               float *out) {
  const PlanePack &pp = *static_cast<const PlanePack *>(ctxp);
  gatherPanels(*pp.g, pp.planes, 0, k0, kc, pp.p0, n, kc * NR, out);
}

void gemmConvTasks(void *ctxp, int64_t begin, int64_t end) {
  const GemmConvCtx &x = *static_cast<const GemmConvCtx *>(ctxp);
  const ConvParams &p = *x.cp;
  const Grid &g = x.grid;
  for (int64_t task = begin; task < end; ++task) {
    const int64_t nb = task % g.nt;
    const int64_t mb = task / g.nt % g.mt;
    const int64_t igl = task / (g.nt * g.mt);
    const int64_t ig = x.ig0 + igl; // n * G + group
    const int64_t grp = ig % p.G, n = ig / p.G;
    const int64_t m0 = mb * g.mb, p0 = nb * g.nb;
    const int64_t M = minI(g.mb, x.Mg - m0), N = minI(g.nb, x.P - p0);

    ASource A;
    A.kind = ASource::Packed;
    A.p = x.w + grp * x.groupStride + m0 / MR * x.Kg * MR;
    A.rs = x.Kg * MR;
    A.cs = 1;

    const float *xg = groupInput(x, ig);
    PlanePack pp = {&x, nullptr, p0};
    BSource B;
    B.cs = 1;
    B.pack = nullptr;
    B.ctx = nullptr;
    switch (x.mode) {
    case GemmConvCtx::Pointwise:
      B.kind = BSource::Direct;
      B.p = xg + p0;
      B.rs = p.H * p.W;
      break;
    case GemmConvCtx::Shared:
      B.kind = BSource::Packed;
      B.p = x.shared + igl * x.sharedStride + p0 / NR * x.Kg * NR;
      B.rs = x.Kg * NR;
      break;
    case GemmConvCtx::SharedT:
      break;
    case GemmConvCtx::PerTask:
      pp.planes = x.planeIsX ? xg : x.shared + igl * x.sharedStride;
      B.kind = BSource::Custom;
      B.p = nullptr;
      B.rs = 0;
      B.pack = planePack;
      B.ctx = &pp;
      break;
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
    if (x.mode == GemmConvCtx::SharedT)
      gemmBlockT(*x.kr, M, N, x.Kg, A.p, A.rs,
                 x.shared + igl * x.sharedStride + p0 / NR * x.Kg * NR,
                 x.Kg * NR, x.y + cOff, x.P, e, inPlace);
    else
      gemmBlock(*x.kr, M, N, x.Kg, A, B, x.y + cOff, x.P, e, inPlace);
  }
}

// Blocks for the Shared and PerTask schedules: at most 256 rows (the
// weight block of one K step stays in L2) and 256 pixels, split until
// there are `want` tasks. Shared splits rows, down to 32 (a task still
// reuses each B panel for 4 row panels), then pixels, and stops there:
// finer tasks stream B for too little work. PerTask splits pixels first
// (tasks with other rows would pack the same pixels again), then rows.
Grid convGrid(bool shared, int64_t outer, int64_t M, int64_t P, int64_t want) {
  Grid g;
  g.mb = minI(roundUpI(M, MR), 256);
  g.nb = minI(roundUpI(P, NR), 256);
  for (;;) {
    g.mt = lopper_cpu_ceil_div(M, g.mb);
    g.nt = lopper_cpu_ceil_div(P, g.nb);
    if (outer * g.mt * g.nt >= want)
      break;
    if (shared && g.mb > 32)
      g.mb = roundUpI(lopper_cpu_ceil_div(g.mb, 2), MR);
    else if (g.nb > NR)
      g.nb = roundUpI(lopper_cpu_ceil_div(g.nb, 2), NR);
    else if (!shared && g.mb > MR)
      g.mb = roundUpI(lopper_cpu_ceil_div(g.mb, 2), MR);
    else
      break;
  }
  return g;
}

void gemmConv(void *rt, const Kernels &kr, const ConvParams &p, const float *x,
              const float *w, const float *bias, const float *residual,
              float *y) {
  GemmConvCtx g;
  g.kr = &kr;
  g.cp = &p;
  g.x = x;
  g.w = w;
  g.bias = bias;
  g.residual = residual;
  g.y = y;
  g.Mg = p.M / p.G;
  g.Cg = p.C / p.G;
  g.Kg = g.Cg * p.KH * p.KW;
  g.P = p.OH * p.OW;
  g.groupStride = lopper_cpu_ceil_div(g.Mg, MR) * MR * g.Kg;
  g.nPanels = lopper_cpu_ceil_div(g.P, NR);
  g.kOff = nullptr;
  g.shared = nullptr;
  g.sharedStride = 0;
  g.cb = g.cTasks = 1;
  const int64_t NG = p.N * p.G;
  const bool serial = rt == nullptr;

  // Transposed tiles (SharedT) when the pixels fill the lanes of the normal
  // tiles poorly (a last panel of at most 16 columns takes one vector of
  // 16): their lanes run along the output channels instead, but the block
  // is transposed back at the end (~1.5 cycles per output against K/16 for
  // the products), so only when the wasted fraction exceeds 24 / K. Never
  // for P >= 285 (at most 15 of 300 lanes wasted).
  const int64_t rem = g.P % NR;
  const int64_t lanes = g.P / NR * NR + (rem == 0 ? 0 : rem > 16 ? 32 : 16);
  const bool transposed = (lanes - g.P) * g.Kg > 24 * lanes;

  const int64_t passFloats =
      tuning.passFloats > 0 ? tuning.passFloats : kPassFloats;
  const double taskFlops = tuning.taskFlops > 0 ? tuning.taskFlops : kTaskFlops;
  if (tuning.schedule == 0 && p.KH == 1 && p.KW == 1 && p.sh == 1 &&
      p.sw == 1 && p.pt == 0 && p.pl == 0 && p.pb == 0 && p.pr == 0 &&
      p.OH == p.H && p.OW == p.W && !transposed) {
    g.mode = GemmConvCtx::Pointwise;
    g.ig0 = 0;
    g.igs = NG;
    g.grid = chooseGrid(serial, NG, g.Mg, g.P, g.Kg, 256, 256);
    lopper_rt_parallel_for(rt, NG * g.grid.mt * g.grid.nt, 1, gemmConvTasks,
                           &g);
    return;
  }

  // The planes: the rows and columns outputs read (at least the padded
  // input, which may be larger only where no output reads).
  g.Hp = (p.OH - 1) * p.sh + (p.KH - 1) * p.dh + 1;
  const int64_t wp = (p.OW - 1) * p.sw + (p.KW - 1) * p.dw + 1;
  g.planeIsX = p.sw == 1 && p.pt == 0 && p.pl == 0 && g.Hp <= p.H && wp <= p.W;
  if (g.planeIsX) {
    g.Wq = g.rowLen = p.W;
    g.planeStride = p.H * p.W;
  } else {
    g.Wq = lopper_cpu_ceil_div(wp, p.sw);
    g.rowLen = g.Wq * p.sw;
    // Whole cache lines per plane.
    g.planeStride = roundUpI(g.Hp * g.rowLen, 16);
  }
  int64_t *kOff = reinterpret_cast<int64_t *>(
      scratch(4, static_cast<size_t>(2 * (g.Kg > 0 ? g.Kg : 1))));
  for (int64_t c = 0, k = 0; c < g.Cg; ++c)
    for (int64_t kh = 0; kh < p.KH; ++kh)
      for (int64_t kw = 0; kw < p.KW; ++kw, ++k) {
        const int64_t col = kw * p.dw;
        kOff[k] = c * g.planeStride + kh * p.dh * g.rowLen + col % p.sw * g.Wq +
                  col / p.sw;
      }
  g.kOff = kOff;

  // SharedT when the transposed tiles pay (above); else Shared unless one
  // row block covers all output channels and the pixels alone make enough
  // tasks; PerTask when B is too large to keep.
  const double flops = 2.0 * static_cast<double>(NG) *
                       static_cast<double>(g.Mg) * static_cast<double>(g.P) *
                       static_cast<double>(g.Kg);
  const int64_t want =
      serial ? 1
             : static_cast<int64_t>(std::fmax(
                   1.0, std::fmin(flops / taskFlops, double(kMaxTasks))));
  const int64_t bSize = g.nPanels * NR * g.Kg;
  if (tuning.schedule != 0)
    g.mode = static_cast<GemmConvCtx::Mode>(tuning.schedule);
  else if (bSize > passFloats)
    g.mode = GemmConvCtx::PerTask;
  else if (transposed)
    g.mode = GemmConvCtx::SharedT;
  else if (g.Mg <= 256 && NG * g.nPanels >= want)
    g.mode = GemmConvCtx::PerTask;
  else
    g.mode = GemmConvCtx::Shared;
  const bool shared = g.mode != GemmConvCtx::PerTask;
  const int64_t perPair = shared       ? bSize
                          : g.planeIsX ? 0
                                       : g.Cg * g.planeStride;
  const int64_t pairs =
      perPair > 0 ? std::max<int64_t>(1, minI(NG, passFloats / perPair)) : NG;
  g.sharedStride = perPair;
  for (g.ig0 = 0; g.ig0 < NG; g.ig0 += pairs) {
    g.igs = minI(pairs, NG - g.ig0);
    // (Never null, even when nothing is shared: the tasks offset it.)
    g.shared = scratch(2, static_cast<size_t>(g.igs * perPair + 1));
    if (perPair > 0) {
      // About 16 first-pass tasks (a few per thread).
      g.cTasks = serial ? 1 : minI(g.Cg, lopper_cpu_ceil_div(16, g.igs));
      g.cb = lopper_cpu_ceil_div(g.Cg, g.cTasks);
      g.cTasks = lopper_cpu_ceil_div(g.Cg, g.cb);
      lopper_rt_parallel_for(rt, g.igs * g.cTasks, 1, convPrepTasks, &g);
    }
    const int64_t passWant = std::max<int64_t>(1, want * g.igs / NG);
    g.grid = convGrid(shared, g.igs, g.Mg, g.P, passWant);
    lopper_rt_parallel_for(rt, g.igs * g.grid.mt * g.grid.nt, 1, gemmConvTasks,
                           &g);
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
  d.sw = p.sw;
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
  // dwPlane reads x in place; wider strides (and height dilation with a
  // width stride) go through a plane split by column phase and dwRows.
  const bool inPlace = p.sw == 1 || (p.sw <= x.kr->dwPlaneMaxSw && p.dh == 1);
  if (!inPlace) {
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
    if (inPlace) {
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

void setConvTuningForTesting(const ConvTuning &t) { tuning = t; }

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
  gemmConv(rt, kr, p, x, w_packed, bias, residual, y);
}
