// AVX-512 micro-kernel: 14 x 32 fp32 tile in 28 zmm accumulators; each k step
// loads two B vectors (fp16/bf16 widened in registers) and broadcasts 14 A
// values — 28 FMAs per 16 loads, which keeps both FMA ports busy.
#include <immintrin.h>

#include "ops/cpu/gemm_kernels.h"

namespace sd {

namespace {

constexpr int kMR = 14;
constexpr int kNR = 32;

struct LoadF32 {
  static inline void load(const float* p, __m512& lo, __m512& hi) {
    lo = _mm512_loadu_ps(p);
    hi = _mm512_loadu_ps(p + 16);
  }
};
struct LoadF16 {
  static inline void load(const uint16_t* p, __m512& lo, __m512& hi) {
    lo = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    hi = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16)));
  }
};
struct LoadBF16 {
  static inline void load(const uint16_t* p, __m512& lo, __m512& hi) {
    const __m512i v0 = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    const __m512i v1 = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16)));
    lo = _mm512_castsi512_ps(_mm512_slli_epi32(v0, 16));
    hi = _mm512_castsi512_ps(_mm512_slli_epi32(v1, 16));
  }
};

template <typename Loader, typename BT>
void kernel(int64_t kc, const float* const* a, const BT* bp, float* c, int64_t ldc, bool accumulate) {
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
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b0, b1;
    Loader::load(bp + k * kNR, b0, b1);
    _mm_prefetch(reinterpret_cast<const char*>(bp + (k + 8) * kNR), _MM_HINT_T0);
#pragma GCC unroll 14
    for (int r = 0; r < kMR; ++r) {
      const __m512 av = _mm512_set1_ps(a[r][k]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 14
  for (int r = 0; r < kMR; ++r) {
    _mm512_storeu_ps(c + r * ldc, acc[r][0]);
    _mm512_storeu_ps(c + r * ldc + 16, acc[r][1]);
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

void widen_f16(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; i += 16)
    _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
}

}  // namespace

const GemmMicroKernel& avx512_gemm_kernel() {
  static const GemmMicroKernel k{"avx512 14x32", KernelIsa::Avx512, kMR, kNR, kernel_f32, kernel_f16, kernel_bf16, nullptr, nullptr, nullptr, widen_f16};
  return k;
}

}  // namespace sd
