// AVX2 int8 tile. Without VNNI, vpmaddubsw would saturate its 16-bit pair
// sums (255*127*2 > 32767), so both operands are widened to 16 bits and
// multiplied with vpmaddwd (exact: int32 pair sums).
#include "cpu_internal.h"
#include "q8.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <vector>

#define LOPPER_AVX2 __attribute__((target("avx2,fma")))

namespace lopper {
namespace cpu {

namespace {

// The broadcast panel widened to int16: bcw[(q*8 + i)*4 + b].
thread_local std::vector<int16_t> bcWide;

// Columns 8*h8 .. 8*h8 + 7 of vector panel v, rows 4*rh .. 4*rh + 3.
template <bool VS>
LOPPER_AVX2 void tile4x8(const Q8TileArgs &t, const int16_t *bcw, int rh, int v,
                         int h8) {
  __m256i acc[4][2];
  for (int r = 0; r < 4; ++r)
    acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  const uint8_t *vec = t.vec + v * t.vecStride + 32 * h8;
  const int16_t *b = bcw + 16 * rh;
  for (int64_t q = 0; q < t.kq; ++q, vec += 64, b += 32) {
    const __m256i raw =
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(vec));
    __m256i w[2];
    if (VS) {
      w[0] = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(raw));
      w[1] = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(raw, 1));
    } else {
      w[0] = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(raw));
      w[1] = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(raw, 1));
    }
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) {
      long long word;
      __builtin_memcpy(&word, b + 4 * r, 8);
      const __m256i bb = _mm256_set1_epi64x(word);
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(w[0], bb));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(w[1], bb));
    }
  }
  const int j = v * 16 + h8 * 8;
  for (int r = 0; r < 4; ++r) {
    const int row = 4 * rh + r;
    // Lanes (column, half-sum) -> columns.
    __m256i s =
        _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[r][0], acc[r][1]), 0xd8);
    __m256i c;
    __m256 sc;
    if (t.perRow) {
      c = _mm256_set1_epi32(t.corr[row]);
      sc = _mm256_set1_ps(t.scale[row]);
    } else {
      c = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(t.corr + j));
      sc = _mm256_loadu_ps(t.scale + j);
    }
    const __m256 f =
        _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(s, c)), sc);
    _mm256_storeu_ps(t.out + (j / 32) * 256 + row * 32 + j % 32, f);
  }
}

void tileQ8Avx2(const Q8TileArgs &t) {
  const size_t n = static_cast<size_t>(t.kq) * 32;
  if (bcWide.size() < n)
    bcWide.resize(n);
  int16_t *bcw = bcWide.data();
  for (size_t i = 0; i < n; ++i)
    bcw[i] = t.bcSigned ? static_cast<int16_t>(static_cast<int8_t>(t.bc[i]))
                        : static_cast<int16_t>(t.bc[i]);
  for (int rh = 0; rh < 2; ++rh)
    for (int v = 0; v < t.nv; ++v)
      for (int h8 = 0; h8 < 2; ++h8) {
        if (t.bcSigned)
          tile4x8<false>(t, bcw, rh, v, h8);
        else
          tile4x8<true>(t, bcw, rh, v, h8);
      }
}

// Block-sparse: rows 4*rh .. 4*rh + 3, columns 8*h8 .. 8*h8 + 7 of the
// panel, widened like tile4x8 (the activation words widened per block).
LOPPER_AVX2 void sparse4x8(const Q8SparseArgs &t, int rh, int h8) {
  __m256i acc[4][2];
  for (int r = 0; r < 4; ++r)
    acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  for (int64_t b = 0; b < t.nb; ++b) {
    const __m256i raw = _mm256_loadu_si256(
        reinterpret_cast<const __m256i *>(t.blocks + b * 64 + 32 * h8));
    const __m256i w0 = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(raw));
    const __m256i w1 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(raw, 1));
    const uint8_t *a = t.bc + static_cast<int64_t>(t.q[b]) * 32 + 16 * rh;
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) {
      int32_t word;
      __builtin_memcpy(&word, a + 4 * r, 4);
      const __m256i bb =
          _mm256_broadcastq_epi64(_mm_cvtepu8_epi16(_mm_cvtsi32_si128(word)));
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(w0, bb));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(w1, bb));
    }
  }
  const int j = h8 * 8;
  const __m256i c =
      _mm256_loadu_si256(reinterpret_cast<const __m256i *>(t.corr + j));
  const __m256 sc = _mm256_loadu_ps(t.scale + j);
  for (int r = 0; r < 4; ++r) {
    const __m256i s =
        _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[r][0], acc[r][1]), 0xd8);
    _mm256_storeu_ps(
        t.out + (4 * rh + r) * 32 + j,
        _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(s, c)), sc));
  }
}

void sparseTileAvx2(const Q8SparseArgs &t) {
  for (int rh = 0; rh < 2; ++rh)
    for (int h8 = 0; h8 < 2; ++h8)
      sparse4x8(t, rh, h8);
}

} // namespace

const Q8Kernels q8Avx2Kernels = {"avx2", tileQ8Avx2, sparseTileAvx2, q8Quantize,
                                 nullptr};

} // namespace cpu
} // namespace lopper

#endif // __x86_64__
