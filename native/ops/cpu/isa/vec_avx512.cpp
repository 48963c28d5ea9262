// AVX-512 versions of the exp-based element loops (softmax, SiLU, GELU,
// GEGLU). Same formulas as vec_math.h, 16 lanes at a time: compilers will
// not vectorise those scalar versions by themselves (they keep float
// reductions in order and do not if-convert the range clamps).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "ops/cpu/isa/simd_math.h"
#include "ops/cpu/vec_math.h"

namespace sd {

namespace {

struct Zmm {
  using T = __m512;
  static T set(float v) { return _mm512_set1_ps(v); }
  static T zero() { return _mm512_setzero_ps(); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T div(T a, T b) { return _mm512_div_ps(a, b); }
  static T min(T a, T b) { return _mm512_min_ps(a, b); }
  static T max(T a, T b) { return _mm512_max_ps(a, b); }
  static T fmadd(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T fnmadd(T a, T b, T c) { return _mm512_fnmadd_ps(a, b, c); }
  static T round(T a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T abs(T a) { return _mm512_abs_ps(a); }
  // One instruction; exact, as multiplying by the built power of two was.
  static T scale_pow2(T p, T n) { return _mm512_scalef_ps(p, n); }
  static T odd(T r, T x) { return _mm512_mask_sub_ps(r, _mm512_cmp_ps_mask(x, zero(), _CMP_LT_OQ), zero(), r); }
};

inline __m512 exp16(__m512 x) { return simd::exp<Zmm>(x); }
inline __m512 silu16(__m512 x) { return simd::silu<Zmm>(x); }
inline __m512 gelu16(__m512 x) { return simd::gelu<Zmm>(x); }

}  // namespace

// LayerNorm of one row with the scalar version's double-precision statistics
// and affine step, 8 lanes at a time (it was 1.5% of an fp32 UNet step, 3% of
// a bf16 one, as scalar loops).
void layer_norm_row_avx512(const float* x, float* y, int64_t n, const float* gamma, const float* beta, float eps) {
  __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
  int64_t c = 0;
  for (; c + 16 <= n; c += 16) {
    s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm256_loadu_ps(x + c)));
    s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_loadu_ps(x + c + 8)));
  }
  double sum = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
  for (; c < n; ++c) sum += x[c];
  const double mean = sum / static_cast<double>(n);
  const __m512d vmean = _mm512_set1_pd(mean);
  s0 = _mm512_setzero_pd();
  s1 = _mm512_setzero_pd();
  for (c = 0; c + 16 <= n; c += 16) {
    const __m512d d0 = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + c)), vmean);
    const __m512d d1 = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + c + 8)), vmean);
    s0 = _mm512_fmadd_pd(d0, d0, s0);
    s1 = _mm512_fmadd_pd(d1, d1, s1);
  }
  double var = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
  for (; c < n; ++c) var += (x[c] - mean) * (x[c] - mean);
  var /= static_cast<double>(n);
  const double rstd = 1.0 / std::sqrt(var + static_cast<double>(eps));
  const __m512d vrstd = _mm512_set1_pd(rstd);
  for (c = 0; c + 8 <= n; c += 8) {
    const __m512d d = _mm512_mul_pd(_mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + c)), vmean), vrstd);
    const __m512d out = _mm512_fmadd_pd(d, _mm512_cvtps_pd(_mm256_loadu_ps(gamma + c)), _mm512_cvtps_pd(_mm256_loadu_ps(beta + c)));
    _mm256_storeu_ps(y + c, _mm512_cvtpd_ps(out));
  }
  for (; c < n; ++c) y[c] = static_cast<float>((x[c] - mean) * rstd * gamma[c] + beta[c]);
}

// Per-channel sums of x and x^2 over `pixels` rows of `channels` (NHWC), in
// double, 8 channels per vector: each channel still adds its pixels in order,
// so the result is the scalar loop's to the bit.
void channel_sums_avx512(const float* x, int64_t pixels, int64_t channels, double* sum, double* sum2) {
  // 16 pixels at a time (16 rows of channels stay in L1 while every group of
  // 8 channels goes over them), so the image is read once.
  for (int64_t p0 = 0; p0 < pixels; p0 += 16) {
    const int64_t p1 = p0 + 16 < pixels ? p0 + 16 : pixels;
    int64_t c = 0;
    for (; c + 8 <= channels; c += 8) {
      __m512d s = _mm512_loadu_pd(sum + c), s2 = _mm512_loadu_pd(sum2 + c);
      for (int64_t p = p0; p < p1; ++p) {
        const __m512d v = _mm512_cvtps_pd(_mm256_loadu_ps(x + p * channels + c));
        s = _mm512_add_pd(s, v);
        s2 = _mm512_fmadd_pd(v, v, s2);
      }
      _mm512_storeu_pd(sum + c, s);
      _mm512_storeu_pd(sum2 + c, s2);
    }
    for (; c < channels; ++c)
      for (int64_t p = p0; p < p1; ++p) {
        const double v = x[p * channels + c];
        sum[c] += v;
        sum2[c] += v * v;
      }
  }
}

// max(row[0..visible)), visible >= 1: the softmax's first pass, also used by
// the bf16 attention driver on its score chunks.
float row_max_avx512(const float* row, int64_t visible) {
  __m512 vmax = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  int64_t j = 0;
  for (; j + 16 <= visible; j += 16) vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(row + j));
  if (j < visible) {
    const __mmask16 m = static_cast<__mmask16>((1u << (visible - j)) - 1);
    vmax = _mm512_mask_max_ps(vmax, m, vmax, _mm512_maskz_loadu_ps(m, row + j));
  }
  return _mm512_reduce_max_ps(vmax);
}

float softmax_exp_row_avx512(float* row, int64_t visible, int64_t n, float scale) {
  const float mx = row_max_avx512(row, visible) * scale;
  const __m512 vscale = _mm512_set1_ps(scale), vmx = _mm512_set1_ps(mx);
  __m512 vsum = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= visible; j += 16) {
    const __m512 e = exp16(_mm512_fmsub_ps(_mm512_loadu_ps(row + j), vscale, vmx));
    _mm512_storeu_ps(row + j, e);
    vsum = _mm512_add_ps(vsum, e);
  }
  if (j < visible) {
    const __mmask16 m = static_cast<__mmask16>((1u << (visible - j)) - 1);
    const __m512 e = _mm512_maskz_mov_ps(m, exp16(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(m, row + j), vscale, vmx)));
    _mm512_mask_storeu_ps(row + j, m, e);
    vsum = _mm512_add_ps(vsum, e);
  }
  for (j = visible; j < n; ++j) row[j] = 0.0f;
  return _mm512_reduce_add_ps(vsum);
}

void silu_avx512(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, silu16(_mm512_loadu_ps(x + i)));
  for (; i < n; ++i) y[i] = silu(x[i]);
}

void gelu_avx512(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, gelu16(_mm512_loadu_ps(x + i)));
  for (; i < n; ++i) y[i] = gelu_erf(x[i]);
}

void geglu_row_avx512(const float* a, const float* gate, float* out, int64_t f) {
  int64_t i = 0;
  for (; i + 16 <= f; i += 16) _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_loadu_ps(a + i), gelu16(_mm512_loadu_ps(gate + i))));
  for (; i < f; ++i) out[i] = a[i] * gelu_erf(gate[i]);
}

void scale_shift_silu_avx512(const float* x, float* y, const float* scale, const float* shift, int64_t channels, bool apply_silu) {
  int64_t c = 0;
  for (; c + 16 <= channels; c += 16) {
    __m512 v = _mm512_fmadd_ps(_mm512_loadu_ps(x + c), _mm512_loadu_ps(scale + c), _mm512_loadu_ps(shift + c));
    if (apply_silu) v = silu16(v);
    _mm512_storeu_ps(y + c, v);
  }
  for (; c < channels; ++c) {
    const float v = x[c] * scale[c] + shift[c];
    y[c] = apply_silu ? silu(v) : v;
  }
}

}  // namespace sd
