/* Weight packing for the CPU kernels (lopper_k_conv2d_f32_v1,
 * lopper_k_matmul_f32_v1, their int8 forms _q8_v1 and the block-sparse
 * lopper_k_matmul_bsr_f32_v1 / _bsr_q8_v1). Runs in the compiler at compile
 * time; the blobs are stored 64-byte aligned and read by the kernels at run
 * time. fp32 sizes are in floats, int8 and block-sparse sizes in bytes.
 * MR = LOPPER_CPU_MR = 8, NR = LOPPER_CPU_NR = 32 (layout.h).
 *
 * MatMul B (K x N), lopper_pack_matmul_b_f32:
 *   ceil(N/NR) column panels, panel p holds columns [p*NR, p*NR + NR), each
 *   panel K rows of NR consecutive floats:
 *     out[(p*K + k)*NR + j] = B(k, p*NR + j), 0 for p*NR + j >= N.
 *   Size ceil(N/NR) * K * NR. A panel is 128 bytes per k, so with a 64-byte
 *   aligned blob every row of every panel is cache-line aligned.
 *
 * Conv weights w[M][C/G][KH][KW], lopper_pack_conv2d_f32:
 *   - Direct layout when C == G (every group has one input channel:
 *     depthwise, any channel multiplier M/G): w copied unchanged,
 *     out[m*KH*KW + kh*KW + kw], size M*KH*KW.
 *   - Otherwise the GEMM layout: per group g (Mg = M/G output channels,
 *     Kg = (C/G)*KH*KW reduction length, k = (c*KH + kh)*KW + kw), the
 *     Mg x Kg matrix in ceil(Mg/MR) row panels of Kg x MR floats:
 *       out[((g*ceil(Mg/MR) + p)*Kg + k)*MR + r] = w[g*Mg + p*MR + r][k],
 *     0 for p*MR + r >= Mg. Size G * ceil(Mg/MR) * MR * Kg.
 *
 * int8 weights (lopper_k_matmul_q8_v1, lopper_k_conv2d_q8_v1), sizes in
 * bytes. K runs in groups of 4 consecutive k (a "word": the 4 bytes one
 * vpdpbusd lane multiplies by 4 activation bytes and sums), zero-padded to
 * a multiple of 4. Every panel starts with a 64-byte header of int32 sums
 * over the real k of each of its channels (0 for padding channels), used to
 * remove the activation zero point: sum_k (a - zp) w = sum_k a w - zp sum_k w.
 * Kq = ceil(K/4).
 *
 * MatMul W (K x N), lopper_pack_matmul_b_s8: ceil(N/16) panels of 16
 * columns (one vector of 16 int32 lanes), panel p at byte
 * p * (64 + Kq*64):
 *     header: int32 sum[j] = sum_k W(k, 16p + j), j < 16
 *     body:   byte[64 + (q*16 + j)*4 + r] = W(4q + r, 16p + j)
 *   (0 past K or N). Size ceil(N/16) * 64 * (1 + Kq).
 *
 * Conv weights w[M][C/G][KH][KW], lopper_pack_conv2d_s8:
 *   - C == G (depthwise, any multiplier): w copied unchanged, size M*KH*KW
 *     rounded up to 64.
 *   - Otherwise per group g (Mg = M/G, Kg = (C/G)*KH*KW, k = (c*KH + kh)*KW
 *     + kw as for fp32, Kq = ceil(Kg/4)) ceil(Mg/8) panels of 8 output
 *     channels, panel bytes Pb = 64 + roundup(Kq*32, 64), panel p of group
 *     g at byte (g*ceil(Mg/8) + p) * Pb:
 *     header: int32 sum[r] = sum_k W(g*Mg + 8p + r, k), r < 8 (32 bytes,
 *             then 32 zero bytes)
 *     body:   byte[64 + (q*8 + r)*4 + b] = W(g*Mg + 8p + r, 4q + b)
 *   (0 past Kg or Mg). Size G * ceil(Mg/8) * Pb.
 *
 * Block-sparse fp32 MatMul W (K x N), lopper_pack_matmul_bsr_f32: column
 * panels p of 16 output columns; in each, the reduction rows k whose 16
 * values W(k, 16p .. 16p + 15) are not all zero ("blocks", nb in all), in
 * increasing k. Bytes:
 *     int32 start[ceil(N/16) + 1]   blocks of panel p: start[p] .. start[p+1]
 *     int32 k[nb]                   (each part padded to 64 bytes)
 *     float v[nb][16]               v[b][j] = W(k[b], 16p + j), 0 past N
 *
 * Block-sparse int8 MatMul W (K x N), lopper_pack_matmul_bsr_s8: column
 * panels p of 16 output columns; in each, the groups q of 4 reduction rows
 * whose 4 x 16 values are not all zero ("blocks", nb in all), increasing q:
 *     int32 start[ceil(N/16) + 1]   blocks of panel p: start[p] .. start[p+1]
 *     int32 sum[ceil(N/16)*16]      column sums over all k (zero point)
 *     int32 q[nb]                   (each part padded to 64 bytes)
 *     int8  v[nb][64]               v[b][j*4 + r] = W(4q[b] + r, 16p + j),
 *                                   0 past K or N (the dense panel body's
 *                                   64-byte row for that q) */
#include "layout.h"

int64_t lopper_pack_matmul_b_f32_size(int64_t K, int64_t N) {
  return lopper_cpu_ceil_div(N, LOPPER_CPU_NR) * LOPPER_CPU_NR * K;
}

void lopper_pack_matmul_b_f32(int64_t K, int64_t N, const float *b, int64_t rs,
                              int64_t cs, float *out) {
  lopper_cpu_pack_b_panels(b, rs, cs, 0, K, N, out);
}

int64_t lopper_pack_conv2d_f32_size(const int64_t *ip) {
  int64_t M = ip[LOPPER_CONV_IP_M], C = ip[LOPPER_CONV_IP_C];
  int64_t G = ip[LOPPER_CONV_IP_GROUP];
  int64_t khw = ip[LOPPER_CONV_IP_KH] * ip[LOPPER_CONV_IP_KW];
  if (lopper_cpu_conv_is_direct(ip))
    return M * khw;
  return G * lopper_cpu_ceil_div(M / G, LOPPER_CPU_MR) * LOPPER_CPU_MR *
         (C / G) * khw;
}

void lopper_pack_conv2d_f32(const int64_t *ip, const float *w, float *out) {
  int64_t M = ip[LOPPER_CONV_IP_M], C = ip[LOPPER_CONV_IP_C];
  int64_t G = ip[LOPPER_CONV_IP_GROUP];
  int64_t khw = ip[LOPPER_CONV_IP_KH] * ip[LOPPER_CONV_IP_KW];
  int64_t Mg = M / G, Kg = (C / G) * khw, g;
  int64_t group_size = lopper_cpu_ceil_div(Mg, LOPPER_CPU_MR) * LOPPER_CPU_MR;
  if (lopper_cpu_conv_is_direct(ip)) {
    memcpy(out, w, sizeof(float) * (size_t)(M * khw));
    return;
  }
  for (g = 0; g < G; ++g)
    lopper_cpu_pack_a_panels(w + g * Mg * Kg, Kg, 1, Mg, 0, Kg,
                             out + g * group_size * Kg);
}

int64_t lopper_pack_matmul_b_s8_size(int64_t K, int64_t N) {
  return lopper_cpu_ceil_div(N, LOPPER_CPU_Q8_NR) *
         lopper_cpu_q8_mm_panel_bytes(K);
}

void lopper_pack_matmul_b_s8(int64_t K, int64_t N, const int8_t *w, int64_t rs,
                             int64_t cs, int8_t *out) {
  const int64_t panelBytes = lopper_cpu_q8_mm_panel_bytes(K);
  int64_t p, j, k;
  for (p = 0; p * LOPPER_CPU_Q8_NR < N; ++p) {
    int8_t *panel = out + p * panelBytes;
    int32_t sums[LOPPER_CPU_Q8_NR];
    memset(panel, 0, (size_t)panelBytes);
    for (j = 0; j < LOPPER_CPU_Q8_NR; ++j) {
      const int64_t col = p * LOPPER_CPU_Q8_NR + j;
      int32_t sum = 0;
      if (col < N)
        for (k = 0; k < K; ++k) {
          const int8_t v = w[k * rs + col * cs];
          panel[LOPPER_CPU_Q8_HEADER + ((k / 4) * LOPPER_CPU_Q8_NR + j) * 4 +
                k % 4] = v;
          sum += v;
        }
      sums[j] = sum;
    }
    memcpy(panel, sums, sizeof sums);
  }
}

int64_t lopper_pack_conv2d_s8_size(const int64_t *ip) {
  const int64_t M = ip[LOPPER_CONV_IP_M], C = ip[LOPPER_CONV_IP_C];
  const int64_t G = ip[LOPPER_CONV_IP_GROUP];
  const int64_t khw = ip[LOPPER_CONV_IP_KH] * ip[LOPPER_CONV_IP_KW];
  if (lopper_cpu_conv_is_direct(ip))
    return lopper_cpu_round_up(M * khw, 64);
  return G * lopper_cpu_ceil_div(M / G, LOPPER_CPU_Q8_MR) *
         lopper_cpu_q8_conv_panel_bytes((C / G) * khw);
}

void lopper_pack_conv2d_s8(const int64_t *ip, const int8_t *w, int8_t *out) {
  const int64_t M = ip[LOPPER_CONV_IP_M], C = ip[LOPPER_CONV_IP_C];
  const int64_t G = ip[LOPPER_CONV_IP_GROUP];
  const int64_t khw = ip[LOPPER_CONV_IP_KH] * ip[LOPPER_CONV_IP_KW];
  const int64_t Mg = M / G, Kg = (C / G) * khw;
  const int64_t panelBytes = lopper_cpu_q8_conv_panel_bytes(Kg);
  const int64_t panels = lopper_cpu_ceil_div(Mg, LOPPER_CPU_Q8_MR);
  int64_t g, p, r, k;
  if (lopper_cpu_conv_is_direct(ip)) {
    const int64_t size = lopper_cpu_round_up(M * khw, 64);
    memset(out, 0, (size_t)size);
    memcpy(out, w, (size_t)(M * khw));
    return;
  }
  for (g = 0; g < G; ++g)
    for (p = 0; p < panels; ++p) {
      int8_t *panel = out + (g * panels + p) * panelBytes;
      int32_t sums[LOPPER_CPU_Q8_MR];
      memset(panel, 0, (size_t)panelBytes);
      for (r = 0; r < LOPPER_CPU_Q8_MR; ++r) {
        const int64_t m = p * LOPPER_CPU_Q8_MR + r;
        int32_t sum = 0;
        if (m < Mg) {
          const int8_t *src = w + (g * Mg + m) * Kg;
          for (k = 0; k < Kg; ++k) {
            panel[LOPPER_CPU_Q8_HEADER + ((k / 4) * LOPPER_CPU_Q8_MR + r) * 4 +
                  k % 4] = src[k];
            sum += src[k];
          }
        }
        sums[r] = sum;
      }
      memcpy(panel, sums, sizeof sums);
    }
}

static int lopper_cpu_bsr_block_nonzero(const float *w, int64_t rs, int64_t cs,
                                        int64_t N, int64_t k, int64_t p) {
  int64_t j;
  for (j = 0; j < 16 && p * 16 + j < N; ++j)
    if (w[k * rs + (p * 16 + j) * cs] != 0.0f)
      return 1;
  return 0;
}

static int64_t lopper_cpu_bsr_blocks(int64_t K, int64_t N, const float *w,
                                     int64_t rs, int64_t cs) {
  int64_t nb = 0, p, k;
  for (p = 0; p * 16 < N; ++p)
    for (k = 0; k < K; ++k)
      nb += lopper_cpu_bsr_block_nonzero(w, rs, cs, N, k, p);
  return nb;
}

int64_t lopper_pack_matmul_bsr_f32_size(int64_t K, int64_t N, const float *w,
                                        int64_t rs, int64_t cs) {
  const int64_t panels = lopper_cpu_ceil_div(N, 16);
  const int64_t nb = lopper_cpu_bsr_blocks(K, N, w, rs, cs);
  return lopper_cpu_round_up(4 * (panels + 1), 64) +
         lopper_cpu_round_up(4 * nb, 64) + 64 * nb;
}

void lopper_pack_matmul_bsr_f32(int64_t K, int64_t N, const float *w,
                                int64_t rs, int64_t cs, void *out) {
  const int64_t panels = lopper_cpu_ceil_div(N, 16);
  const int64_t nb = lopper_cpu_bsr_blocks(K, N, w, rs, cs);
  int32_t *start = (int32_t *)out;
  int32_t *kidx =
      (int32_t *)((char *)out + lopper_cpu_round_up(4 * (panels + 1), 64));
  float *v = (float *)((char *)kidx + lopper_cpu_round_up(4 * nb, 64));
  int64_t b = 0, p, k, j;
  memset(out, 0, (size_t)lopper_pack_matmul_bsr_f32_size(K, N, w, rs, cs));
  for (p = 0; p < panels; ++p) {
    start[p] = (int32_t)b;
    for (k = 0; k < K; ++k) {
      if (!lopper_cpu_bsr_block_nonzero(w, rs, cs, N, k, p))
        continue;
      kidx[b] = (int32_t)k;
      for (j = 0; j < 16 && p * 16 + j < N; ++j)
        v[b * 16 + j] = w[k * rs + (p * 16 + j) * cs];
      ++b;
    }
  }
  start[panels] = (int32_t)b;
}

static int lopper_cpu_bsr8_block_nonzero(const int8_t *w, int64_t rs,
                                         int64_t cs, int64_t K, int64_t N,
                                         int64_t q, int64_t p) {
  int64_t j, r;
  for (r = 0; r < 4 && 4 * q + r < K; ++r)
    for (j = 0; j < 16 && p * 16 + j < N; ++j)
      if (w[(4 * q + r) * rs + (p * 16 + j) * cs] != 0)
        return 1;
  return 0;
}

static int64_t lopper_cpu_bsr8_blocks(int64_t K, int64_t N, const int8_t *w,
                                      int64_t rs, int64_t cs) {
  const int64_t kq = lopper_cpu_ceil_div(K, 4);
  int64_t nb = 0, p, q;
  for (p = 0; p * 16 < N; ++p)
    for (q = 0; q < kq; ++q)
      nb += lopper_cpu_bsr8_block_nonzero(w, rs, cs, K, N, q, p);
  return nb;
}

int64_t lopper_pack_matmul_bsr_s8_size(int64_t K, int64_t N, const int8_t *w,
                                       int64_t rs, int64_t cs) {
  const int64_t panels = lopper_cpu_ceil_div(N, 16);
  const int64_t nb = lopper_cpu_bsr8_blocks(K, N, w, rs, cs);
  return lopper_cpu_round_up(4 * (panels + 1), 64) + 64 * panels +
         lopper_cpu_round_up(4 * nb, 64) + 64 * nb;
}

void lopper_pack_matmul_bsr_s8(int64_t K, int64_t N, const int8_t *w,
                               int64_t rs, int64_t cs, int8_t *out) {
  const int64_t panels = lopper_cpu_ceil_div(N, 16);
  const int64_t kq = lopper_cpu_ceil_div(K, 4);
  const int64_t nb = lopper_cpu_bsr8_blocks(K, N, w, rs, cs);
  int32_t *start = (int32_t *)out;
  int32_t *sums =
      (int32_t *)((char *)out + lopper_cpu_round_up(4 * (panels + 1), 64));
  int32_t *qidx = sums + 16 * panels;
  int8_t *v = (int8_t *)qidx + lopper_cpu_round_up(4 * nb, 64);
  int64_t b = 0, p, q, j, r, k;
  memset(out, 0, (size_t)lopper_pack_matmul_bsr_s8_size(K, N, w, rs, cs));
  for (p = 0; p < panels; ++p) {
    start[p] = (int32_t)b;
    for (j = 0; j < 16 && p * 16 + j < N; ++j) {
      int32_t sum = 0;
      for (k = 0; k < K; ++k)
        sum += w[k * rs + (p * 16 + j) * cs];
      sums[p * 16 + j] = sum;
    }
    for (q = 0; q < kq; ++q) {
      if (!lopper_cpu_bsr8_block_nonzero(w, rs, cs, K, N, q, p))
        continue;
      qidx[b] = (int32_t)q;
      for (j = 0; j < 16 && p * 16 + j < N; ++j)
        for (r = 0; r < 4 && 4 * q + r < K; ++r)
          v[b * 64 + j * 4 + r] = w[(4 * q + r) * rs + (p * 16 + j) * cs];
      ++b;
    }
  }
  start[panels] = (int32_t)b;
}
