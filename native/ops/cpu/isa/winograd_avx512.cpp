// Winograd F(4x4, 3x3) transforms on 16 lanes (winograd_transforms.h).
#include "ops/cpu/isa/winograd_transforms.h"

namespace sd {

namespace {
struct Zmm {
  using T = __m512;
  static constexpr int lanes = 16;
  static T zero() { return _mm512_setzero_ps(); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static T load(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T mul(float s, T a) { return _mm512_mul_ps(_mm512_set1_ps(s), a); }
  static T fmadd(float s, T a, T b) { return _mm512_fmadd_ps(_mm512_set1_ps(s), a, b); }
};
}  // namespace

const WinogradTransforms& winograd_transforms_avx512() { return winograd::transforms<Zmm>(); }

}  // namespace sd
