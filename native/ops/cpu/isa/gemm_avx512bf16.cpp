// AVX512-BF16 micro-kernel: 14 x 32 fp32 tile, products in bf16 with fp32
// accumulation (VDPBF16PS does two multiply-adds per lane: twice the fp32 FMA
// rate). A rows arrive as bf16; B is packed in pairs of k ([K/2][32][2]).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace sd {

namespace {
constexpr int kMR = 14;
constexpr int kNR = 32;
}  // namespace

void gemm_bf16_dot_avx512(int64_t k_pairs, const uint16_t* const* a, const uint16_t* bp, float* c, int64_t ldc,
                          bool accumulate) {
  __m512 acc[kMR][2];
#pragma GCC unroll 14
  for (int r = 0; r < kMR; ++r) {
    if (accumulate) {
      acc[r][0] = _mm512_loadu_ps(c + r * ldc);
      acc[r][1] = _mm512_loadu_ps(c + r * ldc + 16);
    } else {
      acc[r][0] = _mm512_setzero_ps();
      acc[r][1] = _mm512_setzero_ps();
    }
  }
  for (int64_t kp = 0; kp < k_pairs; ++kp) {
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp + kp * 2 * kNR);
    const __m512bh b1 = (__m512bh)_mm512_loadu_si512(bp + kp * 2 * kNR + 32);
    _mm_prefetch(reinterpret_cast<const char*>(bp + (kp + 8) * 2 * kNR), _MM_HINT_T0);
#pragma GCC unroll 14
    for (int r = 0; r < kMR; ++r) {
      int32_t pair;
      std::memcpy(&pair, a[r] + 2 * kp, 4);
      const __m512bh av = (__m512bh)_mm512_set1_epi32(pair);
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
    }
  }
#pragma GCC unroll 14
  for (int r = 0; r < kMR; ++r) {
    _mm512_storeu_ps(c + r * ldc, acc[r][0]);
    _mm512_storeu_ps(c + r * ldc + 16, acc[r][1]);
  }
}

// fp32 -> bf16 with round-to-nearest-even, 32 at a time; n even.
void convert_row_bf16_avx512(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + i + 16), _mm512_loadu_ps(src + i));
    _mm512_storeu_si512(dst + i, (__m512i)v);
  }
  for (; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, src + i, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    dst[i] = static_cast<uint16_t>(u >> 16);
  }
}

}  // namespace sd
