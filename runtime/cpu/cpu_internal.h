// Internal interface of the CPU kernels: the per-ISA micro-kernel tables,
// ISA selection and per-thread scratch memory. Not part of any ABI.
#ifndef LOPPER_RUNTIME_CPU_CPU_INTERNAL_H
#define LOPPER_RUNTIME_CPU_CPU_INTERNAL_H

#include "layout.h"

#include <cstddef>
#include <cstdint>

namespace lopper {
namespace cpu {

constexpr int64_t MR = LOPPER_CPU_MR;
constexpr int64_t NR = LOPPER_CPU_NR;

enum Isa : int { IsaScalar = 0, IsaAvx2 = 1, IsaAvx512 = 2 };

// Highest level the CPU (and OS) supports, from CPUID.
Isa detectedIsa();
// The level the kernels use: detectedIsa() lowered by LOPPER_CPU_ISA
// (avx512 | avx2 | scalar), chosen once at first use.
Isa activeIsa();
// The level LOPPER_CPU_ISA=value asks for: never above `detected`; null or
// an unknown value gives `detected`.
Isa isaFromString(const char *value, Isa detected);
// Tests: forces `isa` (clamped to detectedIsa()); returns the level set.
Isa setIsaForTesting(Isa isa);
const char *isaName(Isa isa);

// One MR x NR (or smaller) output tile:
//   C[i][j] = Cin[i][j] + sum_{k < kc} A(i, k) * B(k, j),   i < mr, j < nc
// A(i, k) = a[k*as + i] (aRows false: packed panels, as == MR, or a
// transposed operand) or a[i*as + k] (aRows true: row-major rows).
// B(k, j) = b[k*ldb + j]; when bMasked is false, the NR columns of every B
// row may be read (zero-padded panels); when true only j < nc are read.
// Cin[i][j] = cin[i*ldcin + j], or 0 when cin is null. C[i][j] = c[i*ldc +
// j]; only rows i < mr and columns j < nc of C are written, unless
// cFull: then all NR columns of rows i < mr (a scratch tile, written with
// full-width stores so that the epilogue's loads forward from them).
struct TileArgs {
  int64_t kc;
  const float *a;
  int64_t as;
  bool aRows;
  const float *b;
  int64_t ldb;
  bool bMasked;
  const float *cin;
  int64_t ldcin;
  float *c;
  int64_t ldc;
  bool cFull;
  int mr, nc;
};

// The epilogue from a scratch tile (rows of NR floats, all readable) to C:
//   C[i][j] = act(tile[i*NR + j] + rowBias[i*rowBiasStride] + colBias[j]
//                 + add0[i*ld0 + j] + add1[i*ld1 + j])
// for i < mr, j < nc, with each of rowBias, colBias, add0, add1 skipped
// when null.
struct Epilogue {
  const float *rowBias;
  int64_t rowBiasStride;
  const float *colBias;
  const float *add0;
  int64_t ld0;
  const float *add1;
  int64_t ld1;
  int act;
  float alpha, beta;
};

// Depthwise: `rows` output rows of `ow` outputs,
//   y[r*ldy + x] = act(sum_t w[t] * taps[t][r*rowStep + x] + bias
//                      + res[r*ldy + x])
// bias/res may be null (res is then not read).
struct DwRowArgs {
  float *y;
  const float *res;
  int64_t ldy, ow, rows;
  const float *const *taps;
  int64_t rowStep;
  const float *w;
  int64_t ntaps;
  const float *bias;
  int act;
  float alpha, beta;
};

// Depthwise with unit width stride, reading x in place (padding handled
// with masked loads): one output plane
//   y[oh][ow] = act(sum_{kh,kw} w[kh*KW + kw] *
//                   x[oh*sh - pt + kh*dh][ow - pl + kw*dw] + bias + res[..])
// with x taken as 0 outside [0, H) x [0, W). bias/res may be null.
struct DwPlaneArgs {
  const float *x;
  int64_t H, W, KH, KW, sh, dh, dw, pt, pl;
  float *y;
  const float *res;
  int64_t OH, OW;
  const float *w;
  const float *bias;
  int act;
  float alpha, beta;
};

struct Kernels {
  Isa isa;
  int64_t kc; // preferred K block
  void (*tile)(const TileArgs &t);
  void (*epilogue)(const float *tile, float *c, int64_t ldc, int64_t mr,
                   int64_t nc, const Epilogue &e);
  void (*dwRows)(const DwRowArgs &d);
  void (*dwPlane)(const DwPlaneArgs &d);
  // For j < n: even[j] = src[2j], odd[j] = src[2j + 1], where src[i] reads
  // as 0 unless lo <= i < hi (only those elements are accessed).
  void (*deinterleave2)(const float *src, int64_t lo, int64_t hi, int64_t n,
                        float *even, float *odd);
};

const Kernels &kernelsFor(Isa isa);
inline const Kernels &activeKernels() { return kernelsFor(activeIsa()); }

extern const Kernels scalarKernels;
extern const Kernels avx2Kernels;   // x86-64 only
extern const Kernels avx512Kernels; // x86-64 only

// Scalar activation (reference semantics for all levels).
float activateScalar(float x, int act, float alpha, float beta);

// Where the A operand of a GEMM block comes from. The block's rows start at
// p (row m0 of the full operand).
struct ASource {
  enum Kind {
    Packed,  // MR-row panels (layout.h); rs = floats per panel (Kfull * MR)
    Rows,    // A(i, k) = p[i*rs + k]          (cs == 1)
    Cols,    // A(i, k) = p[i + k*cs]          (rs == 1)
    Strided, // A(i, k) = p[i*rs + k*cs], packed per K block into scratch
  } kind;
  const float *p;
  int64_t rs, cs;
};

// Where the B operand comes from. The block's columns start at p (column n0
// of the full operand) unless it is Custom.
struct BSource {
  enum Kind {
    Packed,  // NR-column panels; rs = floats per panel (Kfull * NR)
    Direct,  // B(k, j) = p[k*rs + j], read in place
    Strided, // B(k, j) = p[k*rs + j*cs], packed per K block into scratch
    Custom,  // pack(ctx, k0, kc, n, out) writes NR-column panels
  } kind;
  const float *p;
  int64_t rs, cs;
  void (*pack)(const void *ctx, int64_t k0, int64_t kc, int64_t n, float *out);
  const void *ctx;
};

// C[M][N] (row stride ldc) = epilogue(A * B), or epilogue(C + A * B) when
// addToC (a residual that is the output buffer itself): the whole K loop for
// one block, in K blocks of about kernels.kc. The epilogue's pointers are
// relative to the block (row 0, column 0).
void gemmBlock(const Kernels &kr, int64_t M, int64_t N, int64_t K,
               const ASource &A, const BSource &B, float *C, int64_t ldc,
               const Epilogue &e, bool addToC);

// Splits `outer` independent M x N x K GEMMs into blocks of at most maxMb
// rows (a multiple of MR) and maxNb columns (a multiple of NR), then into
// smaller blocks until there are enough tasks for a thread pool (one task
// when serial).
struct Grid {
  int64_t mb, nb; // block sizes
  int64_t mt, nt; // blocks per GEMM
};
Grid chooseGrid(bool serial, int64_t outer, int64_t M, int64_t N, int64_t K,
                int64_t maxMb, int64_t maxNb);

// Per-thread scratch, 64-byte aligned, grown on demand, never shrunk.
// slot 0..3 are independent buffers.
float *scratch(int slot, size_t floats);

} // namespace cpu
} // namespace lopper

#endif // LOPPER_RUNTIME_CPU_CPU_INTERNAL_H
