/* Weight packing for the CPU kernels (lopper_k_conv2d_f32_v1,
 * lopper_k_matmul_f32_v1). Runs in the compiler at compile time; the blobs
 * are stored 64-byte aligned and read by the kernels at run time. Sizes are
 * in floats. MR = LOPPER_CPU_MR = 8, NR = LOPPER_CPU_NR = 32 (layout.h).
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
 *     0 for p*MR + r >= Mg. Size G * ceil(Mg/MR) * MR * Kg. */
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
