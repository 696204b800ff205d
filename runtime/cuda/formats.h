// Host-side sparse formats for the CUDA target: CSR, BSR and Blocked-ELL in
// the layouts cuSPARSE's generic API reads, and 2:4 compression in the
// register layout of the sparse tensor-core instruction
// `mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32.f16.f16.f32`.
// No CUDA headers: the compiler (packing at compile time), the runtime and
// the CPU-only tests all link this file.
#ifndef LOPPER_RUNTIME_CUDA_FORMATS_H
#define LOPPER_RUNTIME_CUDA_FORMATS_H

#include <cstdint>
#include <string>
#include <vector>

namespace lopper {
namespace cuda {

/// IEEE binary16 bits from a float (round to nearest even, overflow to
/// infinity, NaN kept) and back (exact).
uint16_t floatToHalf(float f);
float halfToFloat(uint16_t h);

/// A dense row-major weight [rows, cols]: fp32, or fp16 given as its bits.
struct DenseView {
  const float *f32 = nullptr;
  const uint16_t *f16 = nullptr;
  int64_t rows = 0, cols = 0;
  float at(int64_t r, int64_t c) const {
    return f32 ? f32[r * cols + c] : halfToFloat(f16[r * cols + c]);
  }
};

/// CSR, zero-based, int32 indices (cusparseCreateCsr with
/// CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO). Explicit zeros are
/// dropped; columns ascend within a row.
struct Csr {
  int64_t rows = 0, cols = 0;
  std::vector<int32_t> rowPtr; // rows + 1
  std::vector<int32_t> colInd; // nnz
  std::vector<float> values;   // nnz
};

/// BSR with blockRows x blockCols blocks (cusparseCreateBsr): the matrix is
/// padded with zeros to [mb * blockRows, nb * blockCols]; a block is stored
/// when any element is nonzero; each block's values are row-major
/// (CUSPARSE_ORDER_ROW, the "row direction" of the legacy bsr API).
struct Bsr {
  int64_t rows = 0, cols = 0; // unpadded
  int64_t blockRows = 0, blockCols = 0;
  int64_t mb = 0, nb = 0;      // block rows and block columns
  std::vector<int32_t> rowPtr; // mb + 1
  std::vector<int32_t> colInd; // nnzb (block column indices)
  std::vector<float> values;   // nnzb * blockRows * blockCols
};

/// Blocked-ELL (cusparseCreateBlockedEll): square blocks of ellBlockSize;
/// every block row holds ellCols / ellBlockSize block slots (the largest
/// number of nonzero blocks in any block row); colInd[br * slots + s] is the
/// block column of slot s or -1 for padding. values is [rows, ellCols]
/// row-major: slot s of block row br covers values rows br*bs .. br*bs+bs-1,
/// columns s*bs .. s*bs+bs-1. rows and cols must be multiples of the block
/// size (cuSPARSE's requirement for SpMM).
struct BlockedEll {
  int64_t rows = 0, cols = 0;
  int64_t ellBlockSize = 0;
  int64_t ellCols = 0;         // slots * ellBlockSize
  std::vector<int32_t> colInd; // (rows / bs) * slots
  std::vector<float> values;   // rows * ellCols
};

/// 2:4 structured sparsity for the m16n8k32 f16 sparse MMA (PTX ISA,
/// "Sparse matrix storage" and "Matrix fragments for mma.sp.m16n8k32 with
/// .f16/.bf16": metadata for m16n8k32). The dense matrix A is [rows, cols]
/// with at most 2 nonzeros in every group of 4 consecutive columns (cols a
/// multiple of 4). It is padded with zeros to [paddedRows, paddedCols]
/// (multiples of 16 and 32) and stored as:
///  - values: [paddedRows, paddedCols / 2] fp16 bits, row-major; the kept
///    two elements of each group of 4, in column order (a group with fewer
///    nonzeros keeps zeros at the lowest free positions);
///  - meta: one uint32 per (16-row tile, 32-column tile, g, h), index
///    ((tileRow * colTiles + tileCol) * 8 + g) * 2 + h, for g = 0..7 (the
///    lane's group, lane / 4) and h = 0..1 (lane % 2). Word bits 0..15 hold
///    row g of the tile and bits 16..31 row g + 8; of a row, h selects the
///    columns 16h .. 16h+15, and 2-bit field j (bits 2j, 2j+1) is the
///    position (0..3) inside its group of 4 of the j-th kept element of those
///    16 columns. Indices within a group ascend (`::ordered_metadata`).
///    Lane l of a warp passes word (g = l / 4, h = l % 2) as the metadata
///    operand with sparsity selector 0 (lanes with l % 4 < 2 are read).
struct Sparse24 {
  int64_t rows = 0, cols = 0;
  int64_t paddedRows = 0, paddedCols = 0;
  std::vector<uint16_t> values; // paddedRows * paddedCols / 2
  std::vector<uint32_t> meta;   // (paddedRows/16) * (paddedCols/32) * 16
};

/// Conversions. False (and *err says why, naming `what`) on bad sizes,
/// block sizes or index overflow (int32 indices).
bool toCsr(const DenseView &w, Csr *out, std::string *err);
bool toBsr(const DenseView &w, int64_t blockRows, int64_t blockCols, Bsr *out,
           std::string *err);
bool toBlockedEll(const DenseView &w, int64_t blockSize, BlockedEll *out,
                  std::string *err);
/// Fails on a group of 4 with more than 2 nonzeros (naming its row and
/// column) and on cols not a multiple of 4.
bool compress24(const DenseView &w, Sparse24 *out, std::string *err);

/// Back to dense row-major fp32 [rows, cols] (tests and reference paths).
std::vector<float> fromCsr(const Csr &m);
std::vector<float> fromBsr(const Bsr &m);
std::vector<float> fromBlockedEll(const BlockedEll &m);
std::vector<float> decompress24(const Sparse24 &m);

/// A layer's blob in a GPU plan (layouts in gpu_plan.h) back to dense
/// row-major fp32 [rows, cols], checking every size and index: false with
/// *err naming the problem for a blob that does not match its header.
/// `block` is the BSR/Blocked-ELL block size (square blocks).
bool unpackPlanBlob(const std::string &format, int64_t rows, int64_t cols,
                    int64_t block, const uint8_t *blob, size_t size,
                    std::vector<float> *dense, std::string *err);

/// Structure of a weight the GPU cost model looks at.
struct SparsityStats {
  int64_t rows = 0, cols = 0;
  int64_t nnz = 0;
  bool is24 = false;         // every group of 4 columns has <= 2 nonzeros
  int64_t blockSize = 0;     // the block size measured below (0: none)
  int64_t nonzeroBlocks = 0; // of blockSize x blockSize blocks
  int64_t totalBlocks = 0;
  int64_t maxBlocksPerRow = 0; // nonzero blocks in the fullest block row
};
SparsityStats measureSparsity(const DenseView &w, int64_t blockSize);

} // namespace cuda
} // namespace lopper

#endif // LOPPER_RUNTIME_CUDA_FORMATS_H
