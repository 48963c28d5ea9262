// Winograd F(4x4, 3x3) transforms on 8 lanes (AVX2 + FMA + F16C) (winograd_transforms.h).
#include "ops/cpu/isa/winograd_transforms.h"

namespace sd {

namespace {
struct Ymm {
  using T = __m256;
  static constexpr int lanes = 8;
  static T zero() { return _mm256_setzero_ps(); }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static T load(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T mul(float s, T a) { return _mm256_mul_ps(_mm256_set1_ps(s), a); }
  static T fmadd(float s, T a, T b) { return _mm256_fmadd_ps(_mm256_set1_ps(s), a, b); }
};
}  // namespace

const WinogradTransforms& winograd_transforms_avx2() { return winograd::transforms<Ymm>(); }

}  // namespace sd
