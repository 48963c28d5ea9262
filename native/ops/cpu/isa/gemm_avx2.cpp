// AVX2 + FMA micro-kernel: 6 x 16 fp32 tile in 12 ymm accumulators (the
// classic Haswell shape: 12 FMAs per 2 B loads + 6 broadcasts).
#include <immintrin.h>

#include "ops/cpu/gemm_kernels.h"

namespace sd {

namespace {

constexpr int kMR = 6;
constexpr int kNR = 16;

struct LoadF32 {
  static inline void load(const float* p, __m256& lo, __m256& hi) {
    lo = _mm256_loadu_ps(p);
    hi = _mm256_loadu_ps(p + 8);
  }
};
struct LoadF16 {
  static inline void load(const uint16_t* p, __m256& lo, __m256& hi) {
    lo = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    hi = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8)));
  }
};
struct LoadBF16 {
  static inline void load(const uint16_t* p, __m256& lo, __m256& hi) {
    const __m256i v0 = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    const __m256i v1 = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8)));
    lo = _mm256_castsi256_ps(_mm256_slli_epi32(v0, 16));
    hi = _mm256_castsi256_ps(_mm256_slli_epi32(v1, 16));
  }
};

template <typename Loader, typename BT>
void kernel(int64_t kc, const float* const* a, const BT* bp, float* c, int64_t ldc, bool accumulate) {
  __m256 acc[kMR][2];
#pragma GCC unroll 6
  for (int r = 0; r < kMR; ++r) {
    if (accumulate) {
      acc[r][0] = _mm256_loadu_ps(c + r * ldc);
      acc[r][1] = _mm256_loadu_ps(c + r * ldc + 8);
    } else {
      acc[r][0] = _mm256_setzero_ps();
      acc[r][1] = _mm256_setzero_ps();
    }
  }
  for (int64_t k = 0; k < kc; ++k) {
    __m256 b0, b1;
    Loader::load(bp + k * kNR, b0, b1);
#pragma GCC unroll 6
    for (int r = 0; r < kMR; ++r) {
      const __m256 av = _mm256_broadcast_ss(a[r] + k);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < kMR; ++r) {
    _mm256_storeu_ps(c + r * ldc, acc[r][0]);
    _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
  }
}

void kernel_f32(int64_t kc, const float* const* ap, const float* bp, float* c, int64_t ldc, bool accumulate) {
  kernel<LoadF32>(kc, ap, bp, c, ldc, accumulate);
}
void kernel_f16(int64_t kc, const float* const* ap, const uint16_t* bp, float* c, int64_t ldc, bool accumulate) {
  kernel<LoadF16>(kc, ap, bp, c, ldc, accumulate);
}
void kernel_bf16(int64_t kc, const float* const* ap, const uint16_t* bp, float* c, int64_t ldc, bool accumulate) {
  kernel<LoadBF16>(kc, ap, bp, c, ldc, accumulate);
}

}  // namespace

const GemmMicroKernel& avx2_gemm_kernel() {
  static const GemmMicroKernel k{"avx2 6x16", KernelIsa::Avx2, kMR, kNR, kernel_f32, kernel_f16, kernel_bf16, nullptr, nullptr, nullptr};
  return k;
}

}  // namespace sd
