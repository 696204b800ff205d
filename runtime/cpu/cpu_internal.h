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

  /// The same epilogue for the output tile starting at (row, col).
  Epilogue at(int64_t row, int64_t col) const {
    Epilogue t = *this;
    if (t.rowBias)
      t.rowBias += row * t.rowBiasStride;
    if (t.colBias)
      t.colBias += col;
    if (t.add0)
      t.add0 += row * t.ld0 + col;
    if (t.add1)
      t.add1 += row * t.ld1 + col;
    return t;
  }
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

// Depthwise reading x in place (padding handled with masked loads): one
// output plane
//   y[oh][ow] = act(sum_{kh,kw} w[kh*KW + kw] *
//                   x[oh*sh - pt + kh*dh][ow*sw - pl + kw*dw] + bias + res[..])
// with x taken as 0 outside [0, H) x [0, W). bias/res may be null. Width
// stride sw <= Kernels::dwPlaneMaxSw; dh == 1 when sw > 1.
struct DwPlaneArgs {
  const float *x;
  int64_t H, W, KH, KW, sh, sw, dh, dw, pt, pl;
  float *y;
  const float *res;
  int64_t OH, OW;
  const float *w;
  const float *bias;
  int act;
  float alpha, beta;
};

// One packed B panel (kc rows of NR floats) gathered from rows of a
// plane: for each row k and each segment s (disjoint lane ranges)
//   out[k*NR + j] = base[kOff[k] - kAdj + delta[s] + j],  lo[s] <= j < hi[s]
// and 0 in the lanes of no segment. Only the addressed elements are read.
// (The im2col of a convolution: conv.cpp.)
struct GatherArgs {
  const float *base;
  const int64_t *kOff;
  int64_t kAdj, kc;
  const int64_t *delta;
  const int *lo, *hi;
  int nseg;
  float *out;
};

// A transposed tile, for blocks whose columns fill vectors poorly: vector
// lanes run along the rows of C (output channels), the tile covers up to
// 4 MR-row panels of A and up to kTileTCols columns:
//   ct[j*ldct + i] (+)= sum_{k < kc} A(i, k) * B(k, j),  i < 8*npan, j < nc
// A(i, k) = a[(i/MR)*aPanel + k*MR + i%MR] (packed panels), B(k, j) =
// b[k*ldb + j]. Accumulates onto ct when `accumulate`.
constexpr int kTileTCols = 6;
struct TileTArgs {
  int64_t kc;
  const float *a;
  int64_t aPanel;
  int npan;
  const float *b;
  int64_t ldb;
  int nc;
  float *ct;
  int64_t ldct;
  bool accumulate;
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
  void (*gatherPanel)(const GatherArgs &g);
  void (*tileT)(const TileTArgs &t);
  // y[i] = erf(x[i]) for i < n, as in the GELU epilogue (the scalar level:
  // erfPoly).
  void (*erf)(const float *x, float *y, int64_t n);
  int64_t dwPlaneMaxSw; // widest width stride dwPlane takes
};

//===--- int8 (u8 x s8, int32 accumulation) ---------------------------===//

// One int8 tile: 8 "broadcast" rows x 16*nv "vector" columns,
//   acc(i, j) = sum_{q < kq} sum_{b < 4} B(i, 4q + b) * V(4q + b, j)
//   B(i, 4q + b) = bc[(q*8 + i)*4 + b]                     (8-row panel)
//   V(4q + b, j) = vec[(j/16)*vecStride + (q*16 + j%16)*4 + b]
// bc is s8 and vec u8 when bcSigned (conv: weights x im2col), else bc u8
// and vec s8 (matmul: activations x weights). Then scaled into floats:
//   out[(j/32)*256 + i*32 + j%32] = float(acc(i, j) - corr) * scale
// with corr = corr[i], scale = scale[i] when perRow, else corr[j],
// scale[j]. All 8 rows and 16*nv columns are written.
struct Q8TileArgs {
  int64_t kq;
  const uint8_t *bc;
  const uint8_t *vec;
  int64_t vecStride;
  int nv; // 1..kQ8MaxNv
  bool bcSigned;
  bool perRow;
  const int32_t *corr;
  const float *scale;
  float *out;
};
constexpr int kQ8MaxNv = 3;
constexpr int64_t kQ8Mr = LOPPER_CPU_Q8_MR;
constexpr int64_t kQ8Nr = LOPPER_CPU_Q8_NR;

// One 16-column panel of a block-sparse int8 tile (lopper_k_matmul_bsr_q8
// layout, pack.c): 8 u8 broadcast rows (bc as in Q8TileArgs) x 16 columns,
//   acc(i, j) = sum_{b < nb} sum_{r < 4} bc[(q[b]*8 + i)*4 + r] *
//               blocks[b*64 + j*4 + r]                        (s8)
// scaled per column like Q8TileArgs: out[i*32 + j] = float(acc(i, j) -
// corr[j]) * scale[j], all 8 rows.
struct Q8SparseArgs {
  const uint8_t *bc;
  const int32_t *q;
  const int8_t *blocks;
  int64_t nb;
  const int32_t *corr;
  const float *scale;
  float *out;
};

struct Q8Kernels {
  const char *name;
  void (*tile)(const Q8TileArgs &t);
  void (*sparseTile)(const Q8SparseArgs &t);
  // q8Quantize (q8.h), the same bits on every level.
  void (*quantize)(const float *src, int64_t n, float scale, int32_t zp,
                   int outType, void *dst);
  // Optional (null: the float epilogue, then quantize): both in one pass,
  // for the activations q8ActIsExact accepts; the same bits. Rows i < mr of
  // `tile` (rows of 32 floats), columns j < nc, into c[i*ldc + j].
  void (*requant)(const float *tile, int64_t mr, int64_t nc, const Epilogue &e,
                  float scale, int32_t zp, int outType, void *c, int64_t ldc);
};
// The int8 level for `isa`: AVX-512 needs VNNI and BW too (else the AVX2
// level).
const Q8Kernels &q8KernelsFor(Isa isa);
extern const Q8Kernels q8ScalarKernels;
void q8SparseTileScalar(const Q8SparseArgs &t);
extern const Q8Kernels q8Avx2Kernels;   // x86-64 only
extern const Q8Kernels q8Avx512Kernels; // x86-64 only
bool cpuHasVnni();

const Kernels &kernelsFor(Isa isa);
inline const Kernels &activeKernels() { return kernelsFor(activeIsa()); }

extern const Kernels scalarKernels;
extern const Kernels avx2Kernels;   // x86-64 only
extern const Kernels avx512Kernels; // x86-64 only

// Scalar activation (reference semantics for all levels).
float activateScalar(float x, int act, float alpha, float beta);

// erf for the vector GELU: |x| clamped to 4 (erf is 1.0f beyond 3.92),
// interval i = min(floor(2|x|), 7) of width 1/2, then
//   erf(|x|) ~ sum_j kErfPoly[j][i] * t^j,  t = |x| - kErfCenter[i]
// (degree-7 near-minimax fits; interval 0 is centred at 0 with no constant
// term, so tiny |x| keep full relative accuracy), capped at 1, with the sign
// of x. Max |error| vs erff over all floats 1.19e-7 (KernelTest ErfTest.*).
constexpr int kErfDegree = 7;
alignas(64) inline constexpr float kErfCenter[8] = {0.0f,  0.75f, 1.25f, 1.75f,
                                                    2.25f, 2.75f, 3.25f, 3.75f};
alignas(64) inline constexpr float kErfPoly[kErfDegree + 1][8] = {
    {0.000000000e+00f, 7.111556334e-01f, 9.229001289e-01f, 9.866716711e-01f,
     9.985372833e-01f, 9.998993781e-01f, 9.999956972e-01f, 9.999998863e-01f},
    {1.128379175e+00f, 6.429310697e-01f, 2.365211223e-01f, 5.277499582e-02f,
     7.142319065e-03f, 5.862772558e-04f, 2.918902234e-05f, 8.814314515e-07f},
    {-1.472475916e-06f, -4.821981601e-01f, -2.956517449e-01f, -9.235620160e-02f,
     -1.607015690e-02f, -1.612267450e-03f, -9.486933214e-05f,
     -3.306069537e-06f},
    {-3.760798599e-01f, 2.678855698e-02f, 1.675358462e-01f, 9.015733924e-02f,
     2.172453164e-02f, 2.760384241e-03f, 1.958112717e-04f, 7.969994704e-06f},
    {-5.440449950e-04f, 1.506756327e-01f, -6.132017046e-03f, -4.810553440e-02f,
     -1.908825667e-02f, -3.257709192e-03f, -2.861694740e-04f,
     -1.378546888e-05f},
    {1.157988376e-01f, -5.322369228e-02f, -4.718514627e-02f, 6.619999124e-03f,
     1.065944706e-02f, 2.756164766e-03f, 3.136722909e-04f, 1.834072319e-05f},
    {-7.865915019e-03f, -2.658287067e-02f, 2.059754525e-02f, 9.049599632e-03f,
     -2.779561350e-03f, -1.667863961e-03f, -2.737579640e-04f,
     -2.069178432e-05f},
    {-1.806967174e-02f, 1.794584586e-02f, 3.732251079e-03f, -5.947051133e-03f,
     -7.159299336e-04f, 6.369700027e-04f, 1.731994452e-04f, 1.704719550e-05f}};
// Scalar model of the vector erf (tests).
float erfPoly(float x);

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

// gemmBlock for A and B both in packed panels (A: MR-row panels aPanel
// floats apart, B: NR-column panels bPanel floats apart, both starting at
// row k = 0), computed with transposed tiles (Kernels::tileT): no vector
// lanes are wasted on the columns of a narrow N. Uses scratch slot 1.
void gemmBlockT(const Kernels &kr, int64_t M, int64_t N, int64_t K,
                const float *a, int64_t aPanel, const float *b, int64_t bPanel,
                float *C, int64_t ldc, const Epilogue &e, bool addToC);

// Tests: overrides of the conv GEMM path's choices. schedule: 0 automatic,
// 1 PerTask, 2 Shared, 3 SharedT (conv.cpp; the non-automatic ones also
// take 1x1 convs off the pointwise path); taskFlops: FLOPs per task
// (0: default); passFloats: shared scratch per pass (0: default).
struct ConvTuning {
  int schedule;
  double taskFlops;
  int64_t passFloats;
};
void setConvTuningForTesting(const ConvTuning &t);

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
// Slots 0..kScratchSlots-1 are independent buffers:
//   0: gemmBlock's packed A; depthwise and conv plane rows (stride > 2)
//   1: gemmBlock's packed B
//   2: depthwise plane; conv (caller): the shared im2col or plane buffer
//   3: depthwise tap table; conv: a task's own input planes
//   4: conv (caller): the im2col row offsets
//   5: int8 kernels (caller): activations quantized at run time
//   6: int8 kernels (task): packed activation panels / im2col
//   7: int8 kernels (task): zero-point corrections and scales
//   8: int8 conv (caller): the padded input planes and the shared im2col
constexpr int kScratchSlots = 9;
float *scratch(int slot, size_t floats);

} // namespace cpu
} // namespace lopper

#endif // LOPPER_RUNTIME_CPU_CPU_INTERNAL_H
