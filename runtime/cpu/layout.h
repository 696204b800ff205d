/* Packed weight layouts shared by the packing code (pack.c, compiled into the
 * compiler and the runtime) and the CPU kernels. C and C++ compatible;
 * internal to runtime/cpu. The layouts themselves are documented in pack.c.
 * Changing anything here changes the packed layout: bump the kernel _vN. */
#ifndef LOPPER_RUNTIME_CPU_LAYOUT_H
#define LOPPER_RUNTIME_CPU_LAYOUT_H

#include <stdint.h>
#include <string.h>

#include "lopper/artifact_abi.h"

/* Rows of A (output channels of a conv) per packed A panel. */
#define LOPPER_CPU_MR 8
/* Columns of B (matmul output columns) per packed B panel. */
#define LOPPER_CPU_NR 32

static inline int64_t lopper_cpu_ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

/* A conv whose groups have one input channel each (depthwise, with any
 * channel multiplier) runs on the direct path and keeps its weights
 * unpacked; every other conv is a GEMM per group on MR-row weight panels. */
static inline int lopper_cpu_conv_is_direct(const int64_t *ip) {
  return ip[LOPPER_CONV_IP_C] == ip[LOPPER_CONV_IP_GROUP];
}

/* Packs rows [0, m) and columns [k0, k0 + kc) of A(i, k) = a[i*rs + k*cs]
 * into ceil(m/MR) panels of kc x MR floats: out[p][k][r] = A(p*MR + r,
 * k0 + k), zero for rows >= m. */
static inline void lopper_cpu_pack_a_panels(const float *a, int64_t rs,
                                            int64_t cs, int64_t m, int64_t k0,
                                            int64_t kc, float *out) {
  int64_t p, r, k;
  for (p = 0; p * LOPPER_CPU_MR < m; ++p) {
    int64_t rows = m - p * LOPPER_CPU_MR;
    float *dst = out + p * kc * LOPPER_CPU_MR;
    if (rows > LOPPER_CPU_MR)
      rows = LOPPER_CPU_MR;
    if (rows < LOPPER_CPU_MR)
      memset(dst, 0, sizeof(float) * (size_t)(kc * LOPPER_CPU_MR));
    for (r = 0; r < rows; ++r) {
      const float *src = a + (p * LOPPER_CPU_MR + r) * rs + k0 * cs;
      if (cs == 1) {
        for (k = 0; k < kc; ++k)
          dst[k * LOPPER_CPU_MR + r] = src[k];
      } else {
        for (k = 0; k < kc; ++k)
          dst[k * LOPPER_CPU_MR + r] = src[k * cs];
      }
    }
  }
}

/* Packs rows [k0, k0 + kc) and columns [0, n) of B(k, j) = b[k*rs + j*cs]
 * into ceil(n/NR) panels of kc x NR floats: out[p][k][j] = B(k0 + k,
 * p*NR + j), zero for columns >= n. */
static inline void lopper_cpu_pack_b_panels(const float *b, int64_t rs,
                                            int64_t cs, int64_t k0, int64_t kc,
                                            int64_t n, float *out) {
  int64_t p, j, k;
  for (p = 0; p * LOPPER_CPU_NR < n; ++p) {
    int64_t cols = n - p * LOPPER_CPU_NR;
    float *dst = out + p * kc * LOPPER_CPU_NR;
    const float *src = b + k0 * rs + p * LOPPER_CPU_NR * cs;
    if (cols > LOPPER_CPU_NR)
      cols = LOPPER_CPU_NR;
    if (cs == 1) {
      for (k = 0; k < kc; ++k) {
        memcpy(dst + k * LOPPER_CPU_NR, src + k * rs,
               sizeof(float) * (size_t)cols);
        if (cols < LOPPER_CPU_NR)
          memset(dst + k * LOPPER_CPU_NR + cols, 0,
                 sizeof(float) * (size_t)(LOPPER_CPU_NR - cols));
      }
    } else {
      if (cols < LOPPER_CPU_NR)
        memset(dst, 0, sizeof(float) * (size_t)(kc * LOPPER_CPU_NR));
      for (j = 0; j < cols; ++j)
        for (k = 0; k < kc; ++k)
          dst[k * LOPPER_CPU_NR + j] = src[k * rs + j * cs];
    }
  }
}

/* int8 kernels (lopper_k_matmul_q8_v1, lopper_k_conv2d_q8_v1): the packed
 * layouts are documented in pack.c. K runs in groups of 4 (the 4 bytes one
 * vpdpbusd lane multiplies and sums). */
/* Output channels per packed matmul weight panel (one vector of 16 int32
 * lanes). */
#define LOPPER_CPU_Q8_NR 16
/* Output channels per packed conv weight panel (broadcast rows). */
#define LOPPER_CPU_Q8_MR 8
/* Bytes of the column/row sum header in front of every packed int8 panel. */
#define LOPPER_CPU_Q8_HEADER 64

static inline int64_t lopper_cpu_round_up(int64_t a, int64_t b) {
  return (a + b - 1) / b * b;
}

/* Bytes of one packed matmul weight panel for K: the header, then
 * ceil(K/4) groups of Q8_NR 4-byte words. */
static inline int64_t lopper_cpu_q8_mm_panel_bytes(int64_t K) {
  return LOPPER_CPU_Q8_HEADER +
         lopper_cpu_ceil_div(K, 4) * 4 * LOPPER_CPU_Q8_NR;
}

/* Bytes of one packed conv weight panel for a reduction length Kg: the
 * header, then ceil(Kg/4) groups of Q8_MR 4-byte words, padded to 64. */
static inline int64_t lopper_cpu_q8_conv_panel_bytes(int64_t Kg) {
  return LOPPER_CPU_Q8_HEADER +
         lopper_cpu_round_up(lopper_cpu_ceil_div(Kg, 4) * 4 * LOPPER_CPU_Q8_MR,
                             64);
}

#endif /* LOPPER_RUNTIME_CPU_LAYOUT_H */
