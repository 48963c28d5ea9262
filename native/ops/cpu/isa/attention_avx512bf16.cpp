// The bf16 attention driver's exponentials, straight into the bf16
// probabilities its P*V product reads, without writing fp32 back first. Its
// 2^x keeps 3e-5 relative error (a degree-4 polynomial and VSCALEFPS), some
// seventy times below bf16's own rounding of the result (2e-3), for half the
// instructions of the fp32 path's exp; at 512x512 the softmax was a tenth of
// a bf16 UNet step.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace sd {

namespace {

// e^x for x <= 0 (scores minus their maximum).
inline __m512 exp16_for_bf16(__m512 x) {
  const __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f));
  const __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_sub_ps(t, n);  // [-0.5, 0.5]
  // 2^f, Taylor coefficients of e^(f ln 2) to degree 4 (relative error < 3e-5 on the interval).
  __m512 p = _mm512_set1_ps(9.6181291e-3f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.5504109e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.4022651e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.9314718e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);  // p * 2^n; underflows to 0 far below the maximum
}

// core/half.h's float_to_bf16 is inline, so a copy built with this file's
// AVX-512 flags could be the one the linker keeps for generic code; this one
// has internal linkage (no NaN inputs reach it: the exponentials are finite).
inline uint16_t to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

}  // namespace

// p[j] = bf16(exp(scale * s[j] - shift)) for j < visible, 0 up to n; returns
// the sum of the fp32 exponentials.
float exp_to_bf16_avx512(const float* s, uint16_t* p, int64_t visible, int64_t n, float scale, float shift) {
  const __m512 vscale = _mm512_set1_ps(scale), vshift = _mm512_set1_ps(shift);
  __m512 vsum = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 32 <= visible; j += 32) {
    const __m512 e0 = exp16_for_bf16(_mm512_fmsub_ps(_mm512_loadu_ps(s + j), vscale, vshift));
    const __m512 e1 = exp16_for_bf16(_mm512_fmsub_ps(_mm512_loadu_ps(s + j + 16), vscale, vshift));
    vsum = _mm512_add_ps(vsum, _mm512_add_ps(e0, e1));
    _mm512_storeu_si512(p + j, (__m512i)_mm512_cvtne2ps_pbh(e1, e0));
  }
  float sum = _mm512_reduce_add_ps(vsum);
  alignas(64) float tail[16];
  for (; j < visible; j += 16) {
    const int64_t lanes = visible - j < 16 ? visible - j : 16;
    const __mmask16 m = static_cast<__mmask16>(lanes >= 16 ? 0xFFFFu : (1u << lanes) - 1u);
    const __m512 e = _mm512_maskz_mov_ps(m, exp16_for_bf16(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(m, s + j), vscale, vshift)));
    sum += _mm512_reduce_add_ps(e);
    _mm512_store_ps(tail, e);
    for (int64_t l = 0; l < lanes; ++l) p[j + l] = to_bf16(tail[l]);
  }
  for (j = visible; j < n; ++j) p[j] = 0;
  return sum;
}

}  // namespace sd
