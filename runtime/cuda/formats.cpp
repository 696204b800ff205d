// Host-side sparse formats for the CUDA target (see formats.h).
#include "formats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace lopper {
namespace cuda {

uint16_t floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t exp = (x >> 23) & 0xffu;
  uint32_t man = x & 0x7fffffu;
  if (exp == 0xff) // inf or NaN (quiet bit kept)
    return static_cast<uint16_t>(sign | 0x7c00u | (man ? 0x200u : 0));
  int32_t e = static_cast<int32_t>(exp) - 127 + 15;
  if (e >= 31)
    return static_cast<uint16_t>(sign | 0x7c00u);
  if (e <= 0) { // subnormal half or zero
    if (e < -10)
      return static_cast<uint16_t>(sign);
    man |= 0x800000u;
    uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t half = man >> shift;
    uint32_t rem = man & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1)))
      ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = (static_cast<uint32_t>(e) << 10) | (man >> 13);
  uint32_t rem = man & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1)))
    ++half; // may carry into the exponent, up to infinity: still correct
  return static_cast<uint16_t>(sign | half);
}

float halfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  uint32_t x;
  if (exp == 0x1f) {
    x = sign | 0x7f800000u | (man << 13);
  } else if (exp == 0) {
    if (man == 0) {
      x = sign;
    } else { // subnormal: normalize
      int e = -1;
      do {
        ++e;
        man <<= 1;
      } while (!(man & 0x400u));
      x = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) |
          ((man & 0x3ffu) << 13);
    }
  } else {
    x = sign | ((exp - 15 + 127) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

static bool checkDense(const DenseView &w, const char *what, std::string *err) {
  if ((!w.f32 && !w.f16) || w.rows <= 0 || w.cols <= 0) {
    *err = std::string(what) + ": empty or missing weight";
    return false;
  }
  if (w.rows * w.cols > std::numeric_limits<int32_t>::max()) {
    *err = std::string(what) + ": " + std::to_string(w.rows) + "x" +
           std::to_string(w.cols) + " weight exceeds int32 indices";
    return false;
  }
  return true;
}

bool toCsr(const DenseView &w, Csr *out, std::string *err) {
  if (!checkDense(w, "csr", err))
    return false;
  Csr m;
  m.rows = w.rows;
  m.cols = w.cols;
  m.rowPtr.assign(w.rows + 1, 0);
  for (int64_t r = 0; r < w.rows; ++r) {
    for (int64_t c = 0; c < w.cols; ++c) {
      float v = w.at(r, c);
      if (v != 0.0f) {
        m.colInd.push_back(static_cast<int32_t>(c));
        m.values.push_back(v);
      }
    }
    m.rowPtr[r + 1] = static_cast<int32_t>(m.values.size());
  }
  *out = std::move(m);
  return true;
}

static bool blockNonzero(const DenseView &w, int64_t r0, int64_t c0, int64_t br,
                         int64_t bc) {
  for (int64_t r = r0; r < std::min(w.rows, r0 + br); ++r)
    for (int64_t c = c0; c < std::min(w.cols, c0 + bc); ++c)
      if (w.at(r, c) != 0.0f)
        return true;
  return false;
}

bool toBsr(const DenseView &w, int64_t blockRows, int64_t blockCols, Bsr *out,
           std::string *err) {
  if (!checkDense(w, "bsr", err))
    return false;
  if (blockRows <= 0 || blockCols <= 0) {
    *err = "bsr: block size " + std::to_string(blockRows) + "x" +
           std::to_string(blockCols) + " must be positive";
    return false;
  }
  Bsr m;
  m.rows = w.rows;
  m.cols = w.cols;
  m.blockRows = blockRows;
  m.blockCols = blockCols;
  m.mb = (w.rows + blockRows - 1) / blockRows;
  m.nb = (w.cols + blockCols - 1) / blockCols;
  m.rowPtr.assign(m.mb + 1, 0);
  int64_t bsz = blockRows * blockCols;
  for (int64_t i = 0; i < m.mb; ++i) {
    for (int64_t j = 0; j < m.nb; ++j) {
      if (!blockNonzero(w, i * blockRows, j * blockCols, blockRows, blockCols))
        continue;
      m.colInd.push_back(static_cast<int32_t>(j));
      size_t base = m.values.size();
      m.values.resize(base + bsz, 0.0f);
      for (int64_t r = 0; r < blockRows; ++r)
        for (int64_t c = 0; c < blockCols; ++c) {
          int64_t rr = i * blockRows + r, cc = j * blockCols + c;
          if (rr < w.rows && cc < w.cols)
            m.values[base + r * blockCols + c] = w.at(rr, cc);
        }
    }
    m.rowPtr[i + 1] = static_cast<int32_t>(m.colInd.size());
  }
  *out = std::move(m);
  return true;
}

bool toBlockedEll(const DenseView &w, int64_t bs, BlockedEll *out,
                  std::string *err) {
  if (!checkDense(w, "blocked-ell", err))
    return false;
  if (bs <= 0 || w.rows % bs != 0 || w.cols % bs != 0) {
    *err = "blocked-ell: a " + std::to_string(w.rows) + "x" +
           std::to_string(w.cols) + " weight is not a whole number of " +
           std::to_string(bs) + "x" + std::to_string(bs) + " blocks";
    return false;
  }
  int64_t mb = w.rows / bs, nb = w.cols / bs;
  std::vector<std::vector<int32_t>> kept(mb);
  int64_t slots = 0;
  for (int64_t i = 0; i < mb; ++i) {
    for (int64_t j = 0; j < nb; ++j)
      if (blockNonzero(w, i * bs, j * bs, bs, bs))
        kept[i].push_back(static_cast<int32_t>(j));
    slots = std::max<int64_t>(slots, kept[i].size());
  }
  // cuSPARSE needs ellCols > 0: an all-zero weight keeps one padding slot.
  slots = std::max<int64_t>(slots, 1);
  BlockedEll m;
  m.rows = w.rows;
  m.cols = w.cols;
  m.ellBlockSize = bs;
  m.ellCols = slots * bs;
  m.colInd.assign(mb * slots, -1);
  m.values.assign(w.rows * m.ellCols, 0.0f);
  for (int64_t i = 0; i < mb; ++i)
    for (size_t s = 0; s < kept[i].size(); ++s) {
      int64_t j = kept[i][s];
      m.colInd[i * slots + s] = static_cast<int32_t>(j);
      for (int64_t r = 0; r < bs; ++r)
        for (int64_t c = 0; c < bs; ++c)
          m.values[(i * bs + r) * m.ellCols + s * bs + c] =
              w.at(i * bs + r, j * bs + c);
    }
  *out = std::move(m);
  return true;
}

bool compress24(const DenseView &w, Sparse24 *out, std::string *err) {
  if (!checkDense(w, "2:4", err))
    return false;
  if (w.cols % 4 != 0) {
    *err = "2:4: the reduction length " + std::to_string(w.cols) +
           " is not a multiple of 4";
    return false;
  }
  Sparse24 m;
  m.rows = w.rows;
  m.cols = w.cols;
  m.paddedRows = (w.rows + 15) / 16 * 16;
  m.paddedCols = (w.cols + 31) / 32 * 32;
  int64_t half = m.paddedCols / 2;
  m.values.assign(m.paddedRows * half, 0);
  // idx[r][j]: group position of compressed element j of row r.
  std::vector<uint8_t> idx(m.paddedRows * half, 0);
  for (int64_t r = 0; r < m.paddedRows; ++r)
    for (int64_t g = 0; g < m.paddedCols / 4; ++g) {
      int pos[2] = {0, 1};
      int n = 0;
      if (r < w.rows && g * 4 < w.cols) {
        int nz[4], k = 0;
        for (int i = 0; i < 4; ++i)
          if (w.at(r, g * 4 + i) != 0.0f)
            nz[k++] = i;
        if (k > 2) {
          *err = "2:4: row " + std::to_string(r) + " columns " +
                 std::to_string(g * 4) + ".." + std::to_string(g * 4 + 3) +
                 " hold " + std::to_string(k) +
                 " nonzeros (at most 2 of every 4)";
          return false;
        }
        n = k;
        if (k == 2) {
          pos[0] = nz[0];
          pos[1] = nz[1];
        } else if (k == 1) { // pair the nonzero with a zero, ascending
          pos[0] = 0;
          pos[1] = nz[0] == 0 ? 1 : nz[0];
        }
      }
      for (int e = 0; e < 2; ++e) {
        int64_t j = g * 2 + e;
        idx[r * half + j] = static_cast<uint8_t>(pos[e]);
        if (n > 0)
          m.values[r * half + j] = floatToHalf(w.at(r, g * 4 + pos[e]));
      }
    }
  int64_t tileRows = m.paddedRows / 16, tileCols = m.paddedCols / 32;
  m.meta.assign(tileRows * tileCols * 16, 0);
  for (int64_t tr = 0; tr < tileRows; ++tr)
    for (int64_t tc = 0; tc < tileCols; ++tc)
      for (int g = 0; g < 8; ++g)
        for (int h = 0; h < 2; ++h) {
          uint32_t word = 0;
          for (int part = 0; part < 2; ++part) {
            int64_t r = tr * 16 + g + 8 * part;
            uint32_t bits = 0;
            for (int j = 0; j < 8; ++j) // 8 kept elements of 16 columns
              bits |= static_cast<uint32_t>(idx[r * half + tc * 16 + h * 8 + j])
                      << (2 * j);
            word |= bits << (16 * part);
          }
          m.meta[((tr * tileCols + tc) * 8 + g) * 2 + h] = word;
        }
  *out = std::move(m);
  return true;
}

std::vector<float> fromCsr(const Csr &m) {
  std::vector<float> d(m.rows * m.cols, 0.0f);
  for (int64_t r = 0; r < m.rows; ++r)
    for (int32_t i = m.rowPtr[r]; i < m.rowPtr[r + 1]; ++i)
      d[r * m.cols + m.colInd[i]] = m.values[i];
  return d;
}

std::vector<float> fromBsr(const Bsr &m) {
  std::vector<float> d(m.rows * m.cols, 0.0f);
  int64_t bsz = m.blockRows * m.blockCols;
  for (int64_t i = 0; i < m.mb; ++i)
    for (int32_t b = m.rowPtr[i]; b < m.rowPtr[i + 1]; ++b)
      for (int64_t r = 0; r < m.blockRows; ++r)
        for (int64_t c = 0; c < m.blockCols; ++c) {
          int64_t rr = i * m.blockRows + r;
          int64_t cc = m.colInd[b] * m.blockCols + c;
          if (rr < m.rows && cc < m.cols)
            d[rr * m.cols + cc] = m.values[b * bsz + r * m.blockCols + c];
        }
  return d;
}

std::vector<float> fromBlockedEll(const BlockedEll &m) {
  std::vector<float> d(m.rows * m.cols, 0.0f);
  int64_t bs = m.ellBlockSize, slots = m.ellCols / bs;
  for (int64_t i = 0; i < m.rows / bs; ++i)
    for (int64_t s = 0; s < slots; ++s) {
      int32_t j = m.colInd[i * slots + s];
      if (j < 0)
        continue;
      for (int64_t r = 0; r < bs; ++r)
        for (int64_t c = 0; c < bs; ++c)
          d[(i * bs + r) * m.cols + j * bs + c] =
              m.values[(i * bs + r) * m.ellCols + s * bs + c];
    }
  return d;
}

std::vector<float> decompress24(const Sparse24 &m) {
  std::vector<float> d(m.rows * m.cols, 0.0f);
  int64_t half = m.paddedCols / 2, tileCols = m.paddedCols / 32;
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t j = 0; j < half; ++j) {
      int64_t tc = j / 16, h = (j % 16) / 8, e = j % 8;
      int64_t g = r % 8, part = (r % 16) / 8;
      uint32_t word = m.meta[(((r / 16) * tileCols + tc) * 8 + g) * 2 + h];
      uint32_t pos = (word >> (16 * part + 2 * e)) & 3u;
      int64_t c = (j / 2) * 4 + pos;
      float v = halfToFloat(m.values[r * half + j]);
      if (c < m.cols && v != 0.0f)
        d[r * m.cols + c] = v;
    }
  return d;
}

namespace {

// Reads 64-byte aligned arrays off a blob, bounds-checked.
struct BlobReader {
  const uint8_t *data;
  size_t size, pos = 0;
  template <typename T> bool take(size_t count, std::vector<T> *out) {
    if (count > (size - pos) / sizeof(T))
      return false;
    out->resize(count);
    if (count)
      std::memcpy(out->data(), data + pos, count * sizeof(T));
    pos += (count * sizeof(T) + 63) / 64 * 64;
    pos = std::min(pos, size);
    return true;
  }
};

std::vector<float> toFloats(const std::vector<uint16_t> &h) {
  std::vector<float> f(h.size());
  for (size_t i = 0; i < h.size(); ++i)
    f[i] = halfToFloat(h[i]);
  return f;
}

// rowPtr starts at 0, never decreases and ends at `count`; indices in
// [0, limit) (or -1 where allowed).
bool checkCompressed(const std::vector<int32_t> &rowPtr,
                     const std::vector<int32_t> &colInd, int64_t limit) {
  if (rowPtr.empty() || rowPtr.front() != 0 ||
      rowPtr.back() != static_cast<int64_t>(colInd.size()))
    return false;
  for (size_t i = 1; i < rowPtr.size(); ++i)
    if (rowPtr[i] < rowPtr[i - 1])
      return false;
  for (int32_t c : colInd)
    if (c < 0 || c >= limit)
      return false;
  return true;
}

} // namespace

bool unpackPlanBlob(const std::string &format, int64_t rows, int64_t cols,
                    int64_t block, const uint8_t *blob, size_t size,
                    std::vector<float> *dense, std::string *err) {
  BlobReader r{blob, size};
  auto bad = [&](const char *what) {
    *err = format + " blob of a " + std::to_string(rows) + "x" +
           std::to_string(cols) + " layer: " + what;
    return false;
  };
  // Each bound first, so the products below cannot overflow (a plan file
  // is checksummed, not trusted).
  if (rows <= 0 || cols <= 0 || rows > INT32_MAX || cols > INT32_MAX ||
      rows * cols > INT32_MAX)
    return bad("bad size");
  if (block < 0 || block > 1024)
    return bad("bad block size");
  std::vector<uint16_t> h;
  if (format == "dense") {
    if (!r.take(rows * cols, &h))
      return bad("truncated");
    *dense = toFloats(h);
    return true;
  }
  if (format == "csr") {
    Csr m;
    m.rows = rows;
    m.cols = cols;
    if (!r.take(rows + 1, &m.rowPtr) || m.rowPtr.back() < 0 ||
        !r.take(m.rowPtr.back(), &m.colInd) || !r.take(m.colInd.size(), &h))
      return bad("truncated");
    if (!checkCompressed(m.rowPtr, m.colInd, cols))
      return bad("bad row pointers or column indices");
    m.values = toFloats(h);
    *dense = fromCsr(m);
    return true;
  }
  if (format == "bsr") {
    if (block <= 0)
      return bad("no block size");
    Bsr m;
    m.rows = rows;
    m.cols = cols;
    m.blockRows = m.blockCols = block;
    m.mb = (rows + block - 1) / block;
    m.nb = (cols + block - 1) / block;
    if (!r.take(m.mb + 1, &m.rowPtr) || m.rowPtr.back() < 0 ||
        !r.take(m.rowPtr.back(), &m.colInd) ||
        !r.take(m.colInd.size() * block * block, &h))
      return bad("truncated");
    if (!checkCompressed(m.rowPtr, m.colInd, m.nb))
      return bad("bad block row pointers or block column indices");
    m.values = toFloats(h);
    *dense = fromBsr(m);
    return true;
  }
  if (format == "ell") {
    if (block <= 0 || rows % block || cols % block)
      return bad("rows and cols are not multiples of the block size");
    // The slot count follows from the blob's size.
    int64_t mb = rows / block;
    for (int64_t slots = 1; slots <= cols / block; ++slots) {
      size_t idx = (static_cast<size_t>(mb * slots) * 4 + 63) / 64 * 64;
      size_t vals = static_cast<size_t>(rows * slots * block) * 2;
      if (idx + (vals + 63) / 64 * 64 != size && idx + vals != size)
        continue;
      BlockedEll m;
      m.rows = rows;
      m.cols = cols;
      m.ellBlockSize = block;
      m.ellCols = slots * block;
      if (!r.take(mb * slots, &m.colInd) || !r.take(rows * m.ellCols, &h))
        return bad("truncated");
      for (int32_t c : m.colInd)
        if (c < -1 || c >= cols / block)
          return bad("bad block column index");
      m.values = toFloats(h);
      *dense = fromBlockedEll(m);
      return true;
    }
    return bad("size matches no slot count");
  }
  if (format == "2:4") {
    Sparse24 m;
    m.rows = rows;
    m.cols = cols;
    m.paddedRows = (rows + 15) / 16 * 16;
    m.paddedCols = (cols + 31) / 32 * 32;
    if (!r.take(m.paddedRows * m.paddedCols / 2, &m.values) ||
        !r.take((m.paddedRows / 16) * (m.paddedCols / 32) * 16, &m.meta))
      return bad("truncated");
    *dense = decompress24(m);
    return true;
  }
  return bad("unknown format");
}

SparsityStats measureSparsity(const DenseView &w, int64_t bs) {
  SparsityStats s;
  s.rows = w.rows;
  s.cols = w.cols;
  s.is24 = w.cols % 4 == 0;
  for (int64_t r = 0; r < w.rows; ++r)
    for (int64_t g = 0; g < w.cols; g += 4) {
      int k = 0;
      for (int64_t c = g; c < std::min(w.cols, g + 4); ++c)
        k += w.at(r, c) != 0.0f;
      s.nnz += k;
      if (k > 2)
        s.is24 = false;
    }
  if (bs > 0) {
    s.blockSize = bs;
    int64_t mb = (w.rows + bs - 1) / bs, nb = (w.cols + bs - 1) / bs;
    s.totalBlocks = mb * nb;
    for (int64_t i = 0; i < mb; ++i) {
      int64_t row = 0;
      for (int64_t j = 0; j < nb; ++j)
        row += blockNonzero(w, i * bs, j * bs, bs, bs);
      s.nonzeroBlocks += row;
      s.maxBlocksPerRow = std::max(s.maxBlocksPerRow, row);
    }
  }
  return s;
}

} // namespace cuda
} // namespace lopper
