// lopper_k_matmul_bsr_f32_v1: block-sparse fp32 matmul over blocks of 16
// output columns x 1 reduction row (layout in pack.c). Per task: A rows
// packed in 8-row panels ([k][8]), then for every 16-column panel one
// broadcast FMA per stored block and row, through the fp32 epilogue.
#include "cpu_internal.h"
#include "kernels.h"
#include "parallel.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cmath>
#include <cstring>

#define LOPPER_EXPORT __attribute__((visibility("default")))

namespace lopper {
namespace cpu {

namespace {

inline int64_t minI(int64_t a, int64_t b) { return a < b ? a : b; }

// out[r*32 + j] = sum_b ap[kidx[b]*8 + r] * v[b*16 + j], r < mr, j < 16.
struct BsrTile {
  const float *ap;
  int mr;
  const int32_t *kidx;
  const float *v;
  int64_t nb;
  float *out;
};

void bsrTileScalar(const BsrTile &t) {
  float acc[8][16] = {};
  for (int64_t b = 0; b < t.nb; ++b) {
    const float *x = t.ap + static_cast<int64_t>(t.kidx[b]) * 8;
    const float *w = t.v + b * 16;
    for (int r = 0; r < t.mr; ++r)
      for (int j = 0; j < 16; ++j)
        acc[r][j] += x[r] * w[j];
  }
  for (int r = 0; r < t.mr; ++r)
    std::memcpy(t.out + r * 32, acc[r], sizeof acc[r]);
}

#if defined(__x86_64__)
#define LOPPER_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,fma")))
#define LOPPER_AVX2 __attribute__((target("avx2,fma")))

template <int R> LOPPER_AVX512 void bsrTile512(const BsrTile &t) {
  __m512 acc[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    acc[r] = _mm512_setzero_ps();
  int64_t b = 0;
  if (R == 1) {
    // One row: four partial sums, or the FMA latency would bound it.
    __m512 s1 = _mm512_setzero_ps(), s2 = s1, s3 = s1;
    for (; b + 4 <= t.nb; b += 4) {
      const float *w = t.v + b * 16;
      acc[0] = _mm512_fmadd_ps(_mm512_set1_ps(t.ap[t.kidx[b] * 8]),
                               _mm512_loadu_ps(w), acc[0]);
      s1 = _mm512_fmadd_ps(_mm512_set1_ps(t.ap[t.kidx[b + 1] * 8]),
                           _mm512_loadu_ps(w + 16), s1);
      s2 = _mm512_fmadd_ps(_mm512_set1_ps(t.ap[t.kidx[b + 2] * 8]),
                           _mm512_loadu_ps(w + 32), s2);
      s3 = _mm512_fmadd_ps(_mm512_set1_ps(t.ap[t.kidx[b + 3] * 8]),
                           _mm512_loadu_ps(w + 48), s3);
    }
    acc[0] = _mm512_add_ps(_mm512_add_ps(acc[0], s1), _mm512_add_ps(s2, s3));
  }
  for (; b < t.nb; ++b) {
    const __m512 w = _mm512_loadu_ps(t.v + b * 16);
    const float *x = t.ap + static_cast<int64_t>(t.kidx[b]) * 8;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(x[r]), w, acc[r]);
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    _mm512_storeu_ps(t.out + r * 32, acc[r]);
}

template <int R> LOPPER_AVX2 void bsrTile256(const BsrTile &t) {
  __m256 lo[R], hi[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    lo[r] = hi[r] = _mm256_setzero_ps();
  for (int64_t b = 0; b < t.nb; ++b) {
    const __m256 w0 = _mm256_loadu_ps(t.v + b * 16);
    const __m256 w1 = _mm256_loadu_ps(t.v + b * 16 + 8);
    const float *x = t.ap + static_cast<int64_t>(t.kidx[b]) * 8;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 xv = _mm256_set1_ps(x[r]);
      lo[r] = _mm256_fmadd_ps(xv, w0, lo[r]);
      hi[r] = _mm256_fmadd_ps(xv, w1, hi[r]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_ps(t.out + r * 32, lo[r]);
    _mm256_storeu_ps(t.out + r * 32 + 8, hi[r]);
  }
}

using BsrFn = void (*)(const BsrTile &);
const BsrFn bsr512[8] = {bsrTile512<1>, bsrTile512<2>, bsrTile512<3>,
                         bsrTile512<4>, bsrTile512<5>, bsrTile512<6>,
                         bsrTile512<7>, bsrTile512<8>};
const BsrFn bsr256[8] = {bsrTile256<1>, bsrTile256<2>, bsrTile256<3>,
                         bsrTile256<4>, bsrTile256<5>, bsrTile256<6>,
                         bsrTile256<7>, bsrTile256<8>};
#endif

void bsrTile(Isa isa, const BsrTile &t) {
#if defined(__x86_64__)
  if (isa == IsaAvx512) {
    bsr512[t.mr - 1](t);
    return;
  }
  if (isa == IsaAvx2) {
    bsr256[t.mr - 1](t);
    return;
  }
#endif
  (void)isa;
  bsrTileScalar(t);
}

struct BsrCtx {
  const Kernels *kr;
  int64_t M, N, K, aBs, aRs, rBs, cBs, ldc;
  int act;
  float alpha, beta;
  const float *a, *v, *bias, *residual;
  const int32_t *start, *kidx;
  float *c;
  Grid grid;
};

void bsrTasks(void *ctxp, int64_t begin, int64_t end) {
  const BsrCtx &x = *static_cast<const BsrCtx *>(ctxp);
  const Grid &g = x.grid;
  alignas(64) float tile[MR * NR];
  for (int64_t task = begin; task < end; ++task) {
    const int64_t nb = task % g.nt;
    const int64_t mb = task / g.nt % g.mt;
    const int64_t batch = task / (g.nt * g.mt);
    const int64_t m0 = mb * g.mb, n0 = nb * g.nb;
    const int64_t M = minI(g.mb, x.M - m0), N = minI(g.nb, x.N - n0);
    const int64_t mPanels = lopper_cpu_ceil_div(M, MR);
    float *ap = scratch(0, static_cast<size_t>(mPanels * MR * x.K + 16));
    lopper_cpu_pack_a_panels(x.a + batch * x.aBs + m0 * x.aRs, x.aRs, 1, M, 0,
                             x.K, ap);
    Epilogue e = {};
    e.act = x.act;
    e.alpha = x.alpha;
    e.beta = x.beta;
    if (x.bias)
      e.colBias = x.bias + n0;
    float *c = x.c + batch * x.cBs + m0 * x.ldc + n0;
    if (x.residual) {
      e.add1 = x.residual + batch * x.rBs + m0 * x.ldc + n0;
      e.ld1 = x.ldc;
    }
    for (int64_t j0 = 0; j0 < N; j0 += NR) {
      const int64_t nc = minI(NR, N - j0);
      for (int64_t ir = 0; ir < mPanels; ++ir) {
        const int mr = static_cast<int>(minI(MR, M - ir * MR));
        for (int64_t h = 0; h < NR / 16; ++h) {
          BsrTile t;
          t.ap = ap + ir * MR * x.K;
          t.mr = mr;
          t.out = tile + h * 16;
          if (h * 16 >= nc) {
            for (int r = 0; r < mr; ++r)
              std::memset(t.out + r * NR, 0, 16 * sizeof(float));
            continue;
          }
          const int64_t p = (n0 + j0) / 16 + h;
          t.kidx = x.kidx + x.start[p];
          t.v = x.v + static_cast<int64_t>(x.start[p]) * 16;
          t.nb = x.start[p + 1] - x.start[p];
          bsrTile(x.kr->isa, t);
        }
        x.kr->epilogue(tile, c + ir * MR * x.ldc + j0, x.ldc, mr, nc,
                       e.at(ir * MR, j0));
      }
    }
  }
}

} // namespace

} // namespace cpu
} // namespace lopper

using namespace lopper::cpu;

extern "C" LOPPER_EXPORT void
lopper_k_matmul_bsr_f32_v1(void *rt, const int64_t *ip, const float *fp,
                           const float *a, const void *w_packed,
                           const float *bias, const float *residual, float *c) {
  const int64_t batch = ip[LOPPER_SMM_IP_BATCH];
  BsrCtx x;
  x.M = ip[LOPPER_SMM_IP_M];
  x.N = ip[LOPPER_SMM_IP_N];
  x.K = ip[LOPPER_SMM_IP_K];
  if (batch <= 0 || x.M <= 0 || x.N <= 0)
    return;
  x.kr = &activeKernels();
  x.aBs = ip[LOPPER_SMM_IP_A_BS];
  x.aRs = ip[LOPPER_SMM_IP_A_RS];
  x.rBs = ip[LOPPER_SMM_IP_R_BS];
  x.cBs = ip[LOPPER_SMM_IP_C_BS];
  x.ldc = ip[LOPPER_SMM_IP_LDC];
  x.act = static_cast<int>(ip[LOPPER_SMM_IP_ACT]);
  x.alpha = fp ? fp[0] : 0.0f;
  x.beta = fp ? fp[1] : 0.0f;
  x.a = a;
  x.bias = bias;
  x.residual = residual;
  x.c = c;
  const int64_t panels = lopper_cpu_ceil_div(x.N, 16);
  const char *base = static_cast<const char *>(w_packed);
  x.start = reinterpret_cast<const int32_t *>(base);
  const int64_t nb = x.start[panels];
  x.kidx = reinterpret_cast<const int32_t *>(
      base + lopper_cpu_round_up(4 * (panels + 1), 64));
  x.v = reinterpret_cast<const float *>(reinterpret_cast<const char *>(x.kidx) +
                                        lopper_cpu_round_up(4 * nb, 64));
  // Blocks of up to 64 rows (their packed A stays in L2) and all columns:
  // a task packs its rows of A once, which costs as much as a sparse
  // product, so tasks split the rows first, then the columns (M = 1). About
  // one task per 4 M stored FLOPs, at most 32.
  const double flops =
      2.0 * static_cast<double>(batch * x.M) * static_cast<double>(nb) * 16.0;
  const int64_t want =
      rt == nullptr
          ? 1
          : static_cast<int64_t>(std::fmin(std::ceil(flops / 4e6), 32.0));
  Grid &g = x.grid;
  g.mb = minI(lopper_cpu_round_up(x.M, MR), 64);
  g.nb = lopper_cpu_round_up(x.N, NR);
  for (;;) {
    g.mt = lopper_cpu_ceil_div(x.M, g.mb);
    g.nt = lopper_cpu_ceil_div(x.N, g.nb);
    if (batch * g.mt * g.nt >= want)
      break;
    if (g.mb > MR)
      g.mb = lopper_cpu_round_up(lopper_cpu_ceil_div(g.mb, 2), MR);
    else if (g.nb > NR)
      g.nb = lopper_cpu_round_up(lopper_cpu_ceil_div(g.nb, 2), NR);
    else
      break;
  }
  lopper_rt_parallel_for(rt, batch * x.grid.mt * x.grid.nt, 1, bsrTasks, &x);
}
