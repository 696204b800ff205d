// Internal interface shared by the int8 kernels (qgemm.cpp, qconv.cpp):
// the blocked int8 GEMM over packed panels, activation quantization and
// the requantizing store. Not part of any ABI.
#ifndef LOPPER_RUNTIME_CPU_Q8_H
#define LOPPER_RUNTIME_CPU_Q8_H

#include "cpu_internal.h"

#include <cstdint>

namespace lopper {
namespace cpu {

// acc(i, j) over M broadcast rows and N vector columns (see Q8TileArgs):
// row panel i/8 at bc + (i/8)*bcStride, vector panel j/16 at vec +
// (j/16)*vecStride, kq groups of 4 along K. Then
//   y(i, j) = float(acc(i, j) - corr) * scale      (corr/scale as in
//   Q8TileArgs, relative to row 0 / column 0 of the block; corr and scale
//   readable up to the next multiple of 8 rows or 48 columns)
// through the float epilogue `e` (relative to the block) and stored at
// c[i*ldc + j] as OUT_TYPE outType (LOPPER_QTYPE_*): f32, or u8/i8 as
// clamp(round_half_even(y / outScale) + outZp).
struct Q8Gemm {
  int64_t M, N, kq;
  const uint8_t *bc;
  int64_t bcStride;
  const uint8_t *vec;
  int64_t vecStride;
  bool bcSigned, perRow;
  const int32_t *corr;
  const float *scale;
  // Block-sparse weights (bsrStart non-null): the vector columns come
  // from the BSR panels bsrPanel0, bsrPanel0 + 1, ... instead of vec.
  const int32_t *bsrStart, *bsrQ;
  const int8_t *bsrBlocks;
  int64_t bsrPanel0;
  Epilogue e;
  int outType;
  float outScale;
  int32_t outZp;
  void *c;
  int64_t ldc;
};
void q8GemmBlock(const Kernels &kr, const Q8Kernels &qk, const Q8Gemm &g);

// dst[i] = clamp(round_half_even(src[i] / scale) + zp) as u8 (outType
// LOPPER_QTYPE_U8) or i8, i < n. The same bits on every ISA level.
void q8Quantize(const float *src, int64_t n, float scale, int32_t zp,
                int outType, void *dst);

// ONNX DynamicQuantizeLinear's parameters, as onnxruntime computes them:
// min/max of `rows` rows of `cols` floats (row stride rs) widened to hold
// 0, scale = (max - min) / 255 (1 when max == min), zp =
// round_half_even(clamp(-min / scale, 0, 255)).
void q8DynamicParams(const float *x, int64_t rows, int64_t cols, int64_t rs,
                     float *scale, int32_t *zp);

// Whether the vector activation of the float epilogue gives the bits of
// activateScalar (integer outputs must be the same on every level).
bool q8ActIsExact(int act);

} // namespace cpu
} // namespace lopper

#endif // LOPPER_RUNTIME_CPU_Q8_H
