/* CPU kernels called by generated code through the artifact's kernel slots
 * (signatures and parameter blocks in lopper/artifact_abi.h). */
#ifndef LOPPER_RUNTIME_CPU_KERNELS_H
#define LOPPER_RUNTIME_CPU_KERNELS_H

#include <stdint.h>

#include "lopper/artifact_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 2-D convolution, see LOPPER_CONV_IP_*; w_packed from
 * lopper_pack_conv2d_f32. */
void lopper_k_conv2d_f32_v1(void *rt, const int64_t *ip, const float *fp,
                            const float *x, const float *w_packed,
                            const float *bias, const float *residual, float *y);

/* Batched matrix multiply, see LOPPER_MM_IP_*. */
void lopper_k_matmul_f32_v1(void *rt, const int64_t *ip, const float *fp,
                            const float *a, const float *b, const float *bias,
                            const float *residual, float *c);

/* int8 batched matrix multiply, see LOPPER_QMM_IP_*; w_packed from
 * lopper_pack_matmul_b_s8. */
void lopper_k_matmul_q8_v1(void *rt, const int64_t *ip, const float *fp,
                           const void *a, const int8_t *w_packed,
                           const float *w_scales, const float *bias,
                           const float *residual, void *c);

/* int8 2-D convolution, see LOPPER_QCONV_IP_*; w_packed from
 * lopper_pack_conv2d_s8. */
void lopper_k_conv2d_q8_v1(void *rt, const int64_t *ip, const float *fp,
                           const void *x, const int8_t *w_packed,
                           const float *w_scales, const float *bias,
                           const float *residual, void *y);

/* Block-sparse int8 matmul, parameters as lopper_k_matmul_q8_v1; w_packed
 * from lopper_pack_matmul_bsr_s8. */
void lopper_k_matmul_bsr_q8_v1(void *rt, const int64_t *ip, const float *fp,
                               const void *a, const int8_t *w_packed,
                               const float *w_scales, const float *bias,
                               const float *residual, void *c);

/* Block-sparse fp32 matmul, see LOPPER_SMM_IP_*; w_packed from
 * lopper_pack_matmul_bsr_f32. */
void lopper_k_matmul_bsr_f32_v1(void *rt, const int64_t *ip, const float *fp,
                                const float *a, const void *w_packed,
                                const float *bias, const float *residual,
                                float *c);

#ifdef __cplusplus
}
#endif
#endif /* LOPPER_RUNTIME_CPU_KERNELS_H */
