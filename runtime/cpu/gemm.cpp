// The blocked GEMM driver shared by MatMul and Conv, and
// lopper_k_matmul_f32_v1.
#include "cpu_internal.h"
#include "kernels.h"
#include "parallel.h"

#include <cstring>

#define LOPPER_EXPORT __attribute__((visibility("default")))

namespace lopper {
namespace cpu {

namespace {
inline int64_t roundUp(int64_t a, int64_t b) { return (a + b - 1) / b * b; }
inline int64_t minI(int64_t a, int64_t b) { return a < b ? a : b; }
} // namespace

void gemmBlock(const Kernels &kr, int64_t M, int64_t N, int64_t K,
               const ASource &A, const BSource &B, float *C, int64_t ldc,
               const Epilogue &e, bool addToC) {
  if (M <= 0 || N <= 0)
    return;
  const int64_t mPanels = lopper_cpu_ceil_div(M, MR);
  const int64_t nPanels = lopper_cpu_ceil_div(N, NR);
  const int64_t kBlocks = K > 0 ? lopper_cpu_ceil_div(K, kr.kc) : 1;
  const int64_t kStep = K > 0 ? lopper_cpu_ceil_div(K, kBlocks) : 0;
  for (int64_t kb = 0; kb < kBlocks; ++kb) {
    const int64_t pc = kb * kStep;
    const int64_t kc = minI(kStep, K - pc);
    const bool last = kb == kBlocks - 1;

    TileArgs t = {};
    t.kc = kc;
    const bool accumulate = kb > 0 || addToC;
    int64_t aPanel = 0, bPanel = 0;
    const float *ap = nullptr, *bp = nullptr;
    if (kc > 0) {
      switch (A.kind) {
      case ASource::Packed:
        ap = A.p + pc * MR;
        aPanel = A.rs;
        t.as = MR;
        t.aRows = false;
        break;
      case ASource::Rows:
        ap = A.p + pc;
        aPanel = MR * A.rs;
        t.as = A.rs;
        t.aRows = true;
        break;
      case ASource::Cols:
        ap = A.p + pc * A.cs;
        aPanel = MR;
        t.as = A.cs;
        t.aRows = false;
        break;
      case ASource::Strided: {
        float *buf = scratch(0, static_cast<size_t>(mPanels * MR * kc));
        lopper_cpu_pack_a_panels(A.p, A.rs, A.cs, M, pc, kc, buf);
        ap = buf;
        aPanel = kc * MR;
        t.as = MR;
        t.aRows = false;
        break;
      }
      }
      switch (B.kind) {
      case BSource::Packed:
        bp = B.p + pc * NR;
        bPanel = B.rs;
        t.ldb = NR;
        break;
      case BSource::Direct:
        bp = B.p + pc * B.rs;
        bPanel = NR;
        t.ldb = B.rs;
        break;
      case BSource::Strided:
      case BSource::Custom: {
        float *buf = scratch(1, static_cast<size_t>(nPanels * NR * kc));
        if (B.kind == BSource::Strided)
          lopper_cpu_pack_b_panels(B.p, B.rs, B.cs, pc, kc, N, buf);
        else
          B.pack(B.ctx, pc, kc, N, buf);
        bp = buf;
        bPanel = kc * NR;
        t.ldb = NR;
        break;
      }
      }
    }

    // The last K block goes to a scratch tile, then through the epilogue
    // into C (storing to C and reloading it at once would stall on store
    // forwarding from masked stores).
    alignas(64) float tile[MR * NR];
    for (int64_t jr = 0; jr < nPanels; ++jr) {
      const int nc = static_cast<int>(minI(NR, N - jr * NR));
      t.b = bp + jr * bPanel;
      t.nc = nc;
      t.bMasked = B.kind == BSource::Direct && nc < NR;
      for (int64_t ir = 0; ir < mPanels; ++ir) {
        const int mr = static_cast<int>(minI(MR, M - ir * MR));
        float *c = C + ir * MR * ldc + jr * NR;
        t.mr = mr;
        t.cin = accumulate ? c : nullptr;
        t.ldcin = ldc;
        t.c = last ? tile : c;
        t.ldc = last ? NR : ldc;
        t.cFull = last;
        if (kc > 0) {
          t.a = ap + ir * aPanel;
          kr.tile(t);
        } else {
          // K == 0: C = Cin (or 0), then the epilogue.
          for (int i = 0; i < mr; ++i)
            for (int j = 0; j < NR; ++j)
              tile[i * NR + j] = t.cin && j < nc ? t.cin[i * ldc + j] : 0.0f;
        }
        if (last)
          kr.epilogue(tile, c, ldc, mr, nc, e.at(ir * MR, jr * NR));
      }
    }
  }
}

void gemmBlockT(const Kernels &kr, int64_t M, int64_t N, int64_t K,
                const float *a, int64_t aPanel, const float *b, int64_t bPanel,
                float *C, int64_t ldc, const Epilogue &e, bool addToC) {
  if (M <= 0 || N <= 0)
    return;
  const int64_t mPanels = lopper_cpu_ceil_div(M, MR);
  const int64_t nPanels = lopper_cpu_ceil_div(N, NR);
  // The block transposed: ct[j*ldct + i] = C(i, j).
  const int64_t ldct = mPanels * MR;
  float *ct = scratch(1, static_cast<size_t>(N * ldct));
  if (K <= 0)
    std::memset(ct, 0, sizeof(float) * static_cast<size_t>(N * ldct));
  const int64_t kBlocks = K > 0 ? lopper_cpu_ceil_div(K, kr.kc) : 0;
  const int64_t kStep = K > 0 ? lopper_cpu_ceil_div(K, kBlocks) : 0;
  for (int64_t kb = 0; kb < kBlocks; ++kb) {
    const int64_t pc = kb * kStep;
    TileTArgs t;
    t.kc = minI(kStep, K - pc);
    t.aPanel = aPanel;
    t.ldb = NR;
    t.ldct = ldct;
    t.accumulate = kb > 0;
    // Groups of 4 row panels: their K block stays in L1 across the
    // column tiles.
    for (int64_t ir = 0; ir < mPanels; ir += 4) {
      t.a = a + ir * aPanel + pc * MR;
      t.npan = static_cast<int>(minI(4, mPanels - ir));
      for (int64_t jr = 0; jr < nPanels; ++jr) {
        const int64_t nc = minI(NR, N - jr * NR);
        // Balanced column tiles of at most kTileTCols.
        const int64_t tiles = lopper_cpu_ceil_div(nc, kTileTCols);
        for (int64_t q = 0; q < tiles; ++q) {
          const int64_t j0 = nc * q / tiles, j1 = nc * (q + 1) / tiles;
          t.b = b + jr * bPanel + pc * NR + j0;
          t.nc = static_cast<int>(j1 - j0);
          t.ct = ct + (jr * NR + j0) * ldct + ir * MR;
          kr.tileT(t);
        }
      }
    }
  }
  // Back to rows, through the epilogue one MR x NR tile at a time.
  alignas(64) float tile[MR * NR];
  for (int64_t ir = 0; ir < mPanels; ++ir) {
    const int64_t mr = minI(MR, M - ir * MR);
    for (int64_t jr = 0; jr < nPanels; ++jr) {
      const int64_t nc = minI(NR, N - jr * NR);
      float *c = C + ir * MR * ldc + jr * NR;
      for (int64_t i = 0; i < mr; ++i) {
        const float *src = ct + jr * NR * ldct + ir * MR + i;
        float *dst = tile + i * NR;
        for (int64_t j = 0; j < nc; ++j)
          dst[j] = src[j * ldct] + (addToC ? c[i * ldc + j] : 0.0f);
        for (int64_t j = nc; j < NR; ++j)
          dst[j] = 0.0f;
      }
      kr.epilogue(tile, c, ldc, mr, nc, e.at(ir * MR, jr * NR));
    }
  }
}

Grid chooseGrid(bool serial, int64_t outer, int64_t M, int64_t N, int64_t K,
                int64_t maxMb, int64_t maxNb) {
  Grid g;
  g.mb = minI(roundUp(M, MR), maxMb);
  g.nb = minI(roundUp(N, NR), maxNb);
  // About 4 MFLOP per task at least, at most 64 tasks per call.
  const double flops = 2.0 * static_cast<double>(outer) *
                       static_cast<double>(M) * static_cast<double>(N) *
                       static_cast<double>(K);
  int64_t want = serial ? 1 : static_cast<int64_t>(flops / 4e6);
  if (want > 64)
    want = 64;
  for (;;) {
    g.mt = lopper_cpu_ceil_div(M, g.mb);
    g.nt = lopper_cpu_ceil_div(N, g.nb);
    if (outer * g.mt * g.nt >= want)
      break;
    // Split columns first (tasks then share the A block and pack disjoint
    // parts of B), down to 2 panels; then rows; then columns down to one
    // panel.
    const int64_t mp = g.mb / MR, np = g.nb / NR;
    if (np > 2)
      g.nb = roundUp(lopper_cpu_ceil_div(g.nb, 2), NR);
    else if (mp > 1)
      g.mb = roundUp(lopper_cpu_ceil_div(g.mb, 2), MR);
    else if (np > 1)
      g.nb = NR;
    else
      break;
  }
  return g;
}

namespace {

struct MatmulCtx {
  const Kernels *kr;
  int64_t M, N, K;
  int64_t aBs, aRs, aCs, bBs, bRs, bCs, rBs, cBs, ldc;
  bool bPacked, bDirect;
  int biasKind, act;
  float alpha, beta;
  const float *a, *b, *bias, *residual;
  float *c;
  Grid grid;
};

void matmulTasks(void *ctxp, int64_t begin, int64_t end) {
  const MatmulCtx &x = *static_cast<const MatmulCtx *>(ctxp);
  const Grid &g = x.grid;
  for (int64_t task = begin; task < end; ++task) {
    const int64_t nb = task % g.nt;
    const int64_t mb = task / g.nt % g.mt;
    const int64_t batch = task / (g.nt * g.mt);
    const int64_t m0 = mb * g.mb, n0 = nb * g.nb;
    const int64_t M = minI(g.mb, x.M - m0), N = minI(g.nb, x.N - n0);

    ASource A;
    A.p = x.a + batch * x.aBs + m0 * x.aRs;
    A.rs = x.aRs;
    A.cs = x.aCs;
    if (x.aCs == 1)
      A.kind = ASource::Rows;
    else if (x.aRs == 1)
      A.kind = ASource::Cols;
    else
      A.kind = ASource::Strided;

    BSource B;
    B.pack = nullptr;
    B.ctx = nullptr;
    B.cs = x.bCs;
    if (x.bPacked) {
      B.kind = BSource::Packed;
      B.p = x.b + batch * x.bBs + n0 / NR * x.K * NR;
      B.rs = x.K * NR;
    } else {
      B.kind = x.bDirect ? BSource::Direct : BSource::Strided;
      B.p = x.b + batch * x.bBs + n0 * x.bCs;
      B.rs = x.bRs;
    }

    Epilogue e = {};
    e.act = x.act;
    e.alpha = x.alpha;
    e.beta = x.beta;
    switch (x.biasKind) {
    case 1:
      e.colBias = x.bias + n0;
      break;
    case 2:
      e.rowBias = x.bias + m0;
      e.rowBiasStride = 1;
      break;
    case 3:
      e.rowBias = x.bias;
      e.rowBiasStride = 0;
      break;
    case 4:
      e.add0 = x.bias + m0 * x.N + n0;
      e.ld0 = x.N;
      break;
    default:
      break;
    }
    float *c = x.c + batch * x.cBs + m0 * x.ldc + n0;
    const float *res =
        x.residual ? x.residual + batch * x.rBs + m0 * x.ldc + n0 : nullptr;
    // A residual that is the output itself is accumulated onto.
    const bool inPlace = res == c;
    if (res && !inPlace) {
      e.add1 = res;
      e.ld1 = x.ldc;
    }
    gemmBlock(*x.kr, M, N, x.K, A, B, c, x.ldc, e, inPlace);
  }
}

} // namespace

} // namespace cpu
} // namespace lopper

using namespace lopper::cpu;

extern "C" LOPPER_EXPORT void
lopper_k_matmul_f32_v1(void *rt, const int64_t *ip, const float *fp,
                       const float *a, const float *b, const float *bias,
                       const float *residual, float *c) {
  MatmulCtx x;
  x.kr = &activeKernels();
  const int64_t batch = ip[LOPPER_MM_IP_BATCH];
  x.M = ip[LOPPER_MM_IP_M];
  x.N = ip[LOPPER_MM_IP_N];
  x.K = ip[LOPPER_MM_IP_K];
  if (batch <= 0 || x.M <= 0 || x.N <= 0)
    return;
  x.aBs = ip[LOPPER_MM_IP_A_BS];
  x.aRs = ip[LOPPER_MM_IP_A_RS];
  x.aCs = ip[LOPPER_MM_IP_A_CS];
  x.bBs = ip[LOPPER_MM_IP_B_BS];
  x.bRs = ip[LOPPER_MM_IP_B_RS];
  x.bCs = ip[LOPPER_MM_IP_B_CS];
  x.bPacked = ip[LOPPER_MM_IP_B_PACKED] != 0;
  // B rows are read in place when contiguous; otherwise packed per block.
  x.bDirect = !x.bPacked && x.bCs == 1;
  x.biasKind = bias ? static_cast<int>(ip[LOPPER_MM_IP_BIAS_KIND]) : 0;
  x.rBs = ip[LOPPER_MM_IP_R_BS];
  x.cBs = ip[LOPPER_MM_IP_C_BS];
  x.ldc = ip[LOPPER_MM_IP_LDC];
  x.act = static_cast<int>(ip[LOPPER_MM_IP_ACT]);
  x.alpha = fp ? fp[0] : 0.0f;
  x.beta = fp ? fp[1] : 0.0f;
  x.a = a;
  x.b = b;
  x.bias = bias;
  x.residual = residual;
  x.c = c;
  // Blocks: up to 256 rows of A (the A block of one K step stays in L2)
  // and 512 columns of B.
  x.grid = chooseGrid(rt == nullptr, batch, x.M, x.N, x.K, 256, 512);
  lopper_rt_parallel_for(rt, batch * x.grid.mt * x.grid.nt, 1, matmulTasks, &x);
}
