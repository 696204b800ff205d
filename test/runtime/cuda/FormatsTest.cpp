// The CUDA target's host-side sparse formats against plain references:
// CSR, BSR, Blocked-ELL, 2:4 compression (checked through a CPU emulation
// of the m16n8k32 sparse MMA's operand fragments), fp16 conversion.
#include "formats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

using namespace lopper::cuda;

namespace {

// A [rows, cols] weight: each element zero with probability `zeroP`, every
// block row `emptyRow` (of `block` rows) all zero, values exact in fp16.
std::vector<float> randomWeight(int64_t rows, int64_t cols, double zeroP,
                                unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::uniform_int_distribution<int> v(-64, 64);
  std::vector<float> w(rows * cols);
  for (float &x : w) {
    x = u(rng) < zeroP ? 0.f : static_cast<float>(v(rng)) / 16.f;
  }
  return w;
}

DenseView view(const std::vector<float> &w, int64_t rows, int64_t cols) {
  return DenseView{w.data(), nullptr, rows, cols};
}

TEST(Half, KnownValues) {
  EXPECT_EQ(floatToHalf(1.f), 0x3c00);
  EXPECT_EQ(floatToHalf(-2.f), 0xc000);
  EXPECT_EQ(floatToHalf(65504.f), 0x7bff);
  EXPECT_EQ(floatToHalf(65520.f), 0x7c00);              // rounds to infinity
  EXPECT_EQ(floatToHalf(std::ldexp(1.f, -24)), 0x0001); // smallest subnormal
  EXPECT_EQ(floatToHalf(std::ldexp(1.f, -26)), 0x0000); // below half of it
  EXPECT_EQ(floatToHalf(1.f + std::ldexp(1.f, -11)), 0x3c00); // tie to even
  EXPECT_EQ(floatToHalf(1.f + 3 * std::ldexp(1.f, -11)), 0x3c02);
  EXPECT_EQ(floatToHalf(-0.f), 0x8000);
  EXPECT_EQ(floatToHalf(INFINITY), 0x7c00);
  EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(NAN))));
  EXPECT_EQ(halfToFloat(0x3555), 0.333251953125f);
}

TEST(Half, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = halfToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f))
      continue;
    ASSERT_EQ(floatToHalf(f), h) << std::hex << h;
  }
}

TEST(Csr, OddSizesAndEmptyRows) {
  int64_t rows = 37, cols = 53;
  std::vector<float> w = randomWeight(rows, cols, 0.7, 1);
  for (int64_t c = 0; c < cols; ++c) // rows 0 and 20 all zero
    w[0 * cols + c] = w[20 * cols + c] = 0.f;
  Csr m;
  std::string err;
  ASSERT_TRUE(toCsr(view(w, rows, cols), &m, &err)) << err;
  ASSERT_EQ(m.rowPtr.size(), size_t(rows + 1));
  EXPECT_EQ(m.rowPtr[1] - m.rowPtr[0], 0);
  EXPECT_EQ(m.rowPtr[21] - m.rowPtr[20], 0);
  int64_t nnz = 0;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t inRow = 0;
    for (int64_t c = 0; c < cols; ++c)
      inRow += w[r * cols + c] != 0.f;
    EXPECT_EQ(m.rowPtr[r + 1] - m.rowPtr[r], inRow) << "row " << r;
    nnz += inRow;
    for (int32_t i = m.rowPtr[r] + 1; i < m.rowPtr[r + 1]; ++i)
      EXPECT_LT(m.colInd[i - 1], m.colInd[i]);
  }
  EXPECT_EQ(static_cast<int64_t>(m.values.size()), nnz);
  EXPECT_EQ(fromCsr(m), w);
}

TEST(Csr, Fp16InputAndAllZero) {
  std::vector<uint16_t> h = {0, 0x3c00, 0, 0, 0, 0xc000};
  Csr m;
  std::string err;
  ASSERT_TRUE(toCsr(DenseView{nullptr, h.data(), 2, 3}, &m, &err)) << err;
  EXPECT_EQ(m.colInd, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(m.values, (std::vector<float>{1.f, -2.f}));
  std::vector<float> z(12, 0.f);
  ASSERT_TRUE(toCsr(view(z, 3, 4), &m, &err)) << err;
  EXPECT_TRUE(m.values.empty());
  EXPECT_EQ(m.rowPtr, (std::vector<int32_t>{0, 0, 0, 0}));
  EXPECT_FALSE(toCsr(view(z, 0, 4), &m, &err));
  EXPECT_NE(err.find("csr: empty"), std::string::npos) << err;
}

// Zeroes whole br x bc blocks with probability p.
void zeroBlocks(std::vector<float> &w, int64_t rows, int64_t cols, int64_t br,
                int64_t bc, double p, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  for (int64_t r0 = 0; r0 < rows; r0 += br)
    for (int64_t c0 = 0; c0 < cols; c0 += bc)
      if (u(rng) < p)
        for (int64_t r = r0; r < std::min(rows, r0 + br); ++r)
          for (int64_t c = c0; c < std::min(cols, c0 + bc); ++c)
            w[r * cols + c] = 0.f;
}

TEST(Bsr, OddSizesPaddedEdgeBlocks) {
  int64_t rows = 37, cols = 53, br = 4, bc = 8;
  std::vector<float> w = randomWeight(rows, cols, 0.1, 2);
  zeroBlocks(w, rows, cols, br, bc, 0.6, 3);
  Bsr m;
  std::string err;
  ASSERT_TRUE(toBsr(view(w, rows, cols), br, bc, &m, &err)) << err;
  EXPECT_EQ(m.mb, 10);
  EXPECT_EQ(m.nb, 7);
  // Reference: the block structure counted directly.
  int64_t kept = 0;
  for (int64_t i = 0; i < m.mb; ++i) {
    std::vector<int32_t> want;
    for (int64_t j = 0; j < m.nb; ++j) {
      bool any = false;
      for (int64_t r = i * br; r < std::min(rows, (i + 1) * br); ++r)
        for (int64_t c = j * bc; c < std::min(cols, (j + 1) * bc); ++c)
          any |= w[r * cols + c] != 0.f;
      if (any)
        want.push_back(static_cast<int32_t>(j));
    }
    std::vector<int32_t> got(m.colInd.begin() + m.rowPtr[i],
                             m.colInd.begin() + m.rowPtr[i + 1]);
    EXPECT_EQ(got, want) << "block row " << i;
    kept += static_cast<int64_t>(want.size());
  }
  ASSERT_EQ(static_cast<int64_t>(m.values.size()), kept * br * bc);
  // Edge blocks are zero-padded beyond the matrix.
  for (int64_t b = m.rowPtr[9]; b < m.rowPtr[10]; ++b)
    for (int64_t r = 1; r < br; ++r) // rows 37..39 do not exist
      for (int64_t c = 0; c < bc; ++c)
        EXPECT_EQ(m.values[b * br * bc + r * bc + c], 0.f);
  // Row-major values inside a block: spot-check one element.
  if (m.rowPtr[1] > 0) {
    int32_t j = m.colInd[0];
    EXPECT_EQ(m.values[1 * bc + 3], w[1 * cols + j * bc + 3]);
  }
  EXPECT_EQ(fromBsr(m), w);
}

TEST(Bsr, RejectsBadBlocks) {
  std::vector<float> w(16, 1.f);
  Bsr m;
  std::string err;
  EXPECT_FALSE(toBsr(view(w, 4, 4), 0, 2, &m, &err));
  EXPECT_NE(err.find("block size 0x2"), std::string::npos) << err;
}

TEST(BlockedEll, SlotsPaddingAndEmptyBlockRows) {
  int64_t rows = 64, cols = 80, bs = 16;
  std::vector<float> w = randomWeight(rows, cols, 0.2, 4);
  zeroBlocks(w, rows, cols, bs, bs, 0.5, 5);
  for (int64_t r = 16; r < 32; ++r) // block row 1 all zero
    for (int64_t c = 0; c < cols; ++c)
      w[r * cols + c] = 0.f;
  BlockedEll m;
  std::string err;
  ASSERT_TRUE(toBlockedEll(view(w, rows, cols), bs, &m, &err)) << err;
  int64_t maxBlocks = 0;
  for (int64_t i = 0; i < rows / bs; ++i) {
    int64_t n = 0;
    for (int64_t j = 0; j < cols / bs; ++j) {
      bool any = false;
      for (int64_t r = 0; r < bs; ++r)
        for (int64_t c = 0; c < bs; ++c)
          any |= w[(i * bs + r) * cols + j * bs + c] != 0.f;
      n += any;
    }
    maxBlocks = std::max(maxBlocks, n);
  }
  EXPECT_EQ(m.ellCols, maxBlocks * bs);
  int64_t slots = m.ellCols / bs;
  ASSERT_EQ(m.colInd.size(), size_t(rows / bs * slots));
  for (int64_t s = 0; s < slots; ++s)
    EXPECT_EQ(m.colInd[1 * slots + s], -1);
  EXPECT_EQ(m.values.size(), size_t(rows * m.ellCols));
  EXPECT_EQ(fromBlockedEll(m), w);
}

TEST(BlockedEll, AllZeroKeepsOnePaddingSlotAndRejectsRaggedSizes) {
  std::vector<float> z(32 * 32, 0.f);
  BlockedEll m;
  std::string err;
  ASSERT_TRUE(toBlockedEll(view(z, 32, 32), 16, &m, &err)) << err;
  EXPECT_EQ(m.ellCols, 16);
  EXPECT_EQ(m.colInd, (std::vector<int32_t>{-1, -1}));
  EXPECT_EQ(fromBlockedEll(m), z);
  std::vector<float> w(37 * 32, 1.f);
  EXPECT_FALSE(toBlockedEll(view(w, 37, 32), 16, &m, &err));
  EXPECT_NE(err.find("37x32 weight is not a whole number of 16x16 blocks"),
            std::string::npos)
      << err;
}

// A 2:4 weight: in every group of 4, 0, 1 or 2 nonzeros at random places.
std::vector<float> random24(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> v(-64, 64), pos(0, 3), count(0, 2);
  std::vector<float> w(rows * cols, 0.f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < cols; g += 4) {
      int k = count(rng);
      for (int i = 0; i < k; ++i) {
        float x = static_cast<float>(v(rng) | 1) / 8.f; // nonzero
        w[r * cols + g + pos(rng)] = x;
      }
    }
  return w;
}

// The dense 16x32 tile the sparse MMA sees, rebuilt the way the hardware
// does from each lane's operands (PTX ISA, mma.sp m16n8k32 .f16: A
// fragment a0..a7 and metadata, sparsity selector 0), with the kernel's
// own load indexing (kernels/sparse24_gemm.cu).
std::vector<float> emulateTile(const Sparse24 &m, int64_t tileRow,
                               int64_t tileCol) {
  std::vector<float> tile(16 * 32, 0.f);
  int64_t half = m.paddedCols / 2, colTiles = m.paddedCols / 32;
  const uint32_t *a = reinterpret_cast<const uint32_t *>(m.values.data());
  for (int lane = 0; lane < 32; ++lane) {
    int g = lane >> 2, t = lane & 3;
    int64_t m0 = tileRow * 16, cbase = tileCol * 16;
    uint32_t regs[4] = {a[((m0 + g) * half + cbase + 2 * t) / 2],
                        a[((m0 + g + 8) * half + cbase + 2 * t) / 2],
                        a[((m0 + g) * half + cbase + 8 + 2 * t) / 2],
                        a[((m0 + g + 8) * half + cbase + 8 + 2 * t) / 2]};
    for (int i = 0; i < 8; ++i) {
      int reg = i / 2;
      int row = g + 8 * (reg & 1);
      int ccol = 2 * t + (i & 1) + 8 * (reg >> 1); // compressed column
      uint16_t bits = static_cast<uint16_t>(regs[reg] >> (16 * (i & 1)));
      // Metadata of (row, ccol): lane 4*(row%8) + ccol/8 (T0 or T1 of the
      // row's quad), half-word row/8, field ccol%8.
      int metaLane = 4 * (row % 8) + ccol / 8;
      uint32_t word =
          m.meta[((tileRow * colTiles + tileCol) * 8 + (metaLane >> 2)) * 2 +
                 (metaLane & 1)];
      int idx = (word >> (16 * (row / 8) + 2 * (ccol % 8))) & 3;
      int dense = (ccol / 2) * 4 + idx;
      float v = halfToFloat(bits);
      if (v != 0.f) {
        EXPECT_EQ(tile[row * 32 + dense], 0.f) << "two values at one place";
        tile[row * 32 + dense] = v;
      }
    }
  }
  return tile;
}

TEST(Sparse24, CompressMatchesTheMmaFragmentLayout) {
  int64_t rows = 37, cols = 52; // padded to 48 x 64
  std::vector<float> w = random24(rows, cols, 6);
  Sparse24 m;
  std::string err;
  ASSERT_TRUE(compress24(view(w, rows, cols), &m, &err)) << err;
  EXPECT_EQ(m.paddedRows, 48);
  EXPECT_EQ(m.paddedCols, 64);
  EXPECT_EQ(m.values.size(), size_t(48 * 32));
  EXPECT_EQ(m.meta.size(), size_t(3 * 2 * 16));
  EXPECT_EQ(decompress24(m), w);
  for (int64_t tr = 0; tr < 3; ++tr)
    for (int64_t tc = 0; tc < 2; ++tc) {
      std::vector<float> tile = emulateTile(m, tr, tc);
      for (int r = 0; r < 16; ++r)
        for (int c = 0; c < 32; ++c) {
          int64_t rr = tr * 16 + r, cc = tc * 32 + c;
          float want = rr < rows && cc < cols ? w[rr * cols + cc] : 0.f;
          ASSERT_EQ(tile[r * 32 + c], want) << "row " << rr << " col " << cc;
        }
    }
  // Indices ascend within each group (::ordered_metadata).
  for (uint32_t word : m.meta)
    for (int f = 0; f < 16; f += 2) {
      uint32_t i0 = (word >> (2 * f)) & 3, i1 = (word >> (2 * f + 2)) & 3;
      EXPECT_LT(i0, i1) << std::hex << word;
    }
}

TEST(Sparse24, KnownMetadataWord) {
  // Every group keeps positions 0 and 2: fields 00 10 -> 0x8888 per row.
  std::vector<float> w(16 * 32, 0.f);
  for (int r = 0; r < 16; ++r)
    for (int g = 0; g < 32; g += 4) {
      w[r * 32 + g] = 1.f;
      w[r * 32 + g + 2] = 2.f;
    }
  Sparse24 m;
  std::string err;
  ASSERT_TRUE(compress24(view(w, 16, 32), &m, &err)) << err;
  for (uint32_t word : m.meta)
    EXPECT_EQ(word, 0x88888888u);
  EXPECT_EQ(halfToFloat(m.values[0]), 1.f);
  EXPECT_EQ(halfToFloat(m.values[1]), 2.f);
}

TEST(Sparse24, RejectsNon24AndRaggedReduction) {
  std::vector<float> w(8 * 8, 0.f);
  w[5 * 8 + 4] = w[5 * 8 + 5] = w[5 * 8 + 7] = 1.f;
  Sparse24 m;
  std::string err;
  EXPECT_FALSE(compress24(view(w, 8, 8), &m, &err));
  EXPECT_EQ(err, "2:4: row 5 columns 4..7 hold 3 nonzeros (at most 2 of "
                 "every 4)");
  std::vector<float> r(3 * 6, 0.f);
  EXPECT_FALSE(compress24(view(r, 3, 6), &m, &err));
  EXPECT_NE(err.find("reduction length 6 is not a multiple of 4"),
            std::string::npos)
      << err;
}

// Serializes arrays the way the plan's blobs are laid out (64-byte padded).
template <typename T> void put(std::string &blob, const std::vector<T> &v) {
  blob.append(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(T));
  blob.resize((blob.size() + 63) / 64 * 64);
}

std::vector<uint16_t> halves(const std::vector<float> &v) {
  std::vector<uint16_t> h;
  for (float f : v)
    h.push_back(floatToHalf(f));
  return h;
}

bool unpack(const std::string &fmt, int64_t rows, int64_t cols, int64_t block,
            const std::string &blob, std::vector<float> *out,
            std::string *err) {
  return unpackPlanBlob(fmt, rows, cols, block,
                        reinterpret_cast<const uint8_t *>(blob.data()),
                        blob.size(), out, err);
}

TEST(PlanBlob, EveryFormatUnpacksAndDamageIsCaught) {
  int64_t rows = 48, cols = 64;
  std::vector<float> w = randomWeight(rows, cols, 0.3, 9);
  zeroBlocks(w, rows, cols, 16, 16, 0.5, 10);
  DenseView v = view(w, rows, cols);
  std::string err;
  std::vector<float> back;
  Csr c;
  ASSERT_TRUE(toCsr(v, &c, &err));
  std::string csr;
  put(csr, c.rowPtr);
  put(csr, c.colInd);
  put(csr, halves(c.values));
  ASSERT_TRUE(unpack("csr", rows, cols, 0, csr, &back, &err)) << err;
  EXPECT_EQ(back, w);
  Bsr b;
  ASSERT_TRUE(toBsr(v, 16, 16, &b, &err));
  std::string bsr;
  put(bsr, b.rowPtr);
  put(bsr, b.colInd);
  put(bsr, halves(b.values));
  ASSERT_TRUE(unpack("bsr", rows, cols, 16, bsr, &back, &err)) << err;
  EXPECT_EQ(back, w);
  BlockedEll e;
  ASSERT_TRUE(toBlockedEll(v, 16, &e, &err));
  std::string ell;
  put(ell, e.colInd);
  put(ell, halves(e.values));
  ASSERT_TRUE(unpack("ell", rows, cols, 16, ell, &back, &err)) << err;
  EXPECT_EQ(back, w);

  EXPECT_FALSE(unpack("csr", rows, cols, 0, csr.substr(0, 100), &back, &err));
  EXPECT_EQ(err, "csr blob of a 48x64 layer: truncated");
  std::string badIndex = csr;
  reinterpret_cast<int32_t *>(&badIndex[256])[0] = 64; // first column index
  EXPECT_FALSE(unpack("csr", rows, cols, 0, badIndex, &back, &err));
  EXPECT_EQ(err, "csr blob of a 48x64 layer: bad row pointers or column "
                 "indices");
  EXPECT_FALSE(unpack("ell", rows, cols, 16, ell + "x", &back, &err));
  EXPECT_EQ(err, "ell blob of a 48x64 layer: size matches no slot count");
  EXPECT_FALSE(unpack("coo", rows, cols, 0, csr, &back, &err));
  EXPECT_EQ(err, "coo blob of a 48x64 layer: unknown format");
  // Sizes from a crafted plan whose products would overflow.
  int64_t big = int64_t(1) << 32;
  EXPECT_FALSE(unpack("dense", big, big, 0, csr, &back, &err));
  EXPECT_EQ(err, "dense blob of a 4294967296x4294967296 layer: bad size");
  EXPECT_FALSE(unpack("bsr", rows, cols, int64_t(1) << 31, bsr, &back, &err));
  EXPECT_EQ(err, "bsr blob of a 48x64 layer: bad block size");
}

TEST(SparsityStats, CountsBlocksAnd24) {
  std::vector<float> w = random24(32, 64, 7);
  SparsityStats s = measureSparsity(view(w, 32, 64), 16);
  EXPECT_TRUE(s.is24);
  int64_t nnz = 0;
  for (float x : w)
    nnz += x != 0.f;
  EXPECT_EQ(s.nnz, nnz);
  EXPECT_EQ(s.totalBlocks, 8);
  w[0] = w[1] = w[2] = 1.f;
  EXPECT_FALSE(measureSparsity(view(w, 32, 64), 16).is24);
  std::vector<float> z(32 * 64, 0.f);
  z[40 * 1 + 17] = 1.f; // row 0, col 57: block (0, 3)
  s = measureSparsity(view(z, 32, 64), 16);
  EXPECT_EQ(s.nonzeroBlocks, 1);
  EXPECT_EQ(s.maxBlocksPerRow, 1);
}

} // namespace
