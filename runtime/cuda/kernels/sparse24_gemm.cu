// Lopper's 2:4 sparse GEMM on the sparse tensor cores (sm_80+):
//   Y[n, m] = act(sum_k X[n, k] * W[m, k] + bias[m])
// W is 2:4 sparse along k and compressed by runtime/cuda/formats.cpp
// (compress24): values [Mp, Kp/2] fp16 and metadata words already in the
// per-lane order of `mma.sp::ordered_metadata ... m16n8k32` (selector 0).
// X is [N, K] fp16 row-major (K a multiple of 4), Y [N, M] fp16, fp32
// accumulation. The weight is the sparse operand A (16 rows of W per
// instruction); X^T is the dense operand B, whose column-major fragment is
// a row of X.
//
// One warp computes a 16 (m) x 32 (n) tile of Y^T: four m16n8k32
// instructions per 32-wide step of k. Plain global loads; no shared-memory
// staging yet.
#include <cuda_fp16.h>
#include <stdint.h>

namespace {

constexpr int kWarpN = 32; // columns of Y^T (rows of X) per warp

__device__ __forceinline__ uint32_t loadPair(const __half *x, int64_t row,
                                             int64_t k, int64_t rows,
                                             int64_t K) {
  // k is even and K a multiple of 4: the pair never straddles the row end.
  if (row >= rows || k >= K)
    return 0;
  return *reinterpret_cast<const uint32_t *>(x + row * K + k);
}

__device__ __forceinline__ float activate(float v, int act) {
  switch (act) {
  case 1: // relu
    return v > 0.f ? v : 0.f;
  case 2: // gelu (erf form, as ONNX Gelu)
    return 0.5f * v * (1.f + erff(v * 0.70710678118654752f));
  case 3: // sigmoid
    return 1.f / (1.f + __expf(-v));
  default:
    return v;
  }
}

} // namespace

extern "C" __global__ void __launch_bounds__(128)
    lopper_sparse24_gemm_f16(const uint16_t *__restrict__ wValues,
                             const uint32_t *__restrict__ wMeta,
                             const __half *__restrict__ x,
                             const __half *__restrict__ bias,
                             __half *__restrict__ y, int64_t M, int64_t N,
                             int64_t K, int64_t Kp, int act) {
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int g = lane >> 2, t = lane & 3;
  const int64_t m0 = int64_t(blockIdx.y) * 16;
  const int64_t n0 = (int64_t(blockIdx.x) * (blockDim.x >> 5) + warp) * kWarpN;
  if (n0 >= N)
    return;
  const int64_t half = Kp / 2, colTiles = Kp / 32;
  const uint32_t *a = reinterpret_cast<const uint32_t *>(wValues);
  float acc[4][4] = {};
  for (int64_t kt = 0; kt < colTiles; ++kt) {
    // A fragment (PTX ISA, mma.sp m16n8k32 .f16 A layout): a0..a3 hold
    // compressed columns 2t, 2t+1 (+8) of rows g and g+8.
    const int64_t cbase = kt * 16; // compressed column of the tile
    uint32_t a0 = a[((m0 + g) * half + cbase + 2 * t) / 2];
    uint32_t a1 = a[((m0 + g + 8) * half + cbase + 2 * t) / 2];
    uint32_t a2 = a[((m0 + g) * half + cbase + 8 + 2 * t) / 2];
    uint32_t a3 = a[((m0 + g + 8) * half + cbase + 8 + 2 * t) / 2];
    uint32_t e = wMeta[((blockIdx.y * colTiles + kt) * 8 + g) * 2 + (lane & 1)];
    const int64_t k0 = kt * 32;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      // B fragment: b_i holds k = 2t + 8i, +1 of column g (a row of X).
      const int64_t row = n0 + j * 8 + g;
      uint32_t b0 = loadPair(x, row, k0 + 2 * t, N, K);
      uint32_t b1 = loadPair(x, row, k0 + 8 + 2 * t, N, K);
      uint32_t b2 = loadPair(x, row, k0 + 16 + 2 * t, N, K);
      uint32_t b3 = loadPair(x, row, k0 + 24 + 2 * t, N, K);
      asm volatile(
          "mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32.f16."
          "f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9, %10, %11}, "
          "{%0, %1, %2, %3}, %12, 0x0;\n"
          : "+f"(acc[j][0]), "+f"(acc[j][1]), "+f"(acc[j][2]), "+f"(acc[j][3])
          : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1), "r"(b2),
            "r"(b3), "r"(e));
    }
  }
  // D fragment: d0, d1 = (row g, cols 2t, 2t+1), d2, d3 = (row g+8, ...);
  // rows are m (outputs), columns n (rows of Y).
#pragma unroll
  for (int j = 0; j < 4; ++j)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int64_t m = m0 + g + (i >> 1) * 8;
      const int64_t n = n0 + j * 8 + 2 * t + (i & 1);
      if (m < M && n < N) {
        float v = acc[j][i] + (bias ? __half2float(bias[m]) : 0.f);
        y[n * M + m] = __float2half(activate(v, act));
      }
    }
}

// Bias and activation over a [rows, cols] fp16 matrix (the epilogue of the
// cuSPARSE and cuBLASLt layers), in place.
extern "C" __global__ void lopper_bias_act_f16(__half *__restrict__ y,
                                               const __half *__restrict__ bias,
                                               int64_t rows, int64_t cols,
                                               int act) {
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (; i < rows * cols; i += stride) {
    float v = __half2float(y[i]) + (bias ? __half2float(bias[i % cols]) : 0.f);
    y[i] = __float2half(activate(v, act));
  }
}

// fp32 <-> fp16 at the boundary with the CPU graph.
extern "C" __global__ void lopper_f32_to_f16(const float *__restrict__ in,
                                             __half *__restrict__ out,
                                             int64_t n) {
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  for (; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = __float2half(in[i]);
}

extern "C" __global__ void lopper_f16_to_f32(const __half *__restrict__ in,
                                             float *__restrict__ out,
                                             int64_t n) {
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  for (; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = __half2float(in[i]);
}
