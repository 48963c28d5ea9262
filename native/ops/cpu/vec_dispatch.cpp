#include "ops/cpu/vec_dispatch.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/cpu/gemm_kernels.h"
#include "ops/cpu/vec_math.h"

namespace sd {

#ifdef SD_X86_KERNELS
float softmax_exp_row_avx512(float* row, int64_t visible, int64_t n, float scale);
void channel_sums_avx512(const float* x, int64_t pixels, int64_t channels, double* sum, double* sum2);
void layer_norm_row_avx512(const float* x, float* y, int64_t n, const float* gamma, const float* beta, float eps);
void silu_avx512(const float* x, float* y, int64_t n);
void gelu_avx512(const float* x, float* y, int64_t n);
void geglu_row_avx512(const float* a, const float* gate, float* out, int64_t f);
void scale_shift_silu_avx512(const float* x, float* y, const float* scale, const float* shift, int64_t channels, bool silu);
float softmax_exp_row_avx2(float* row, int64_t visible, int64_t n, float scale);
void silu_avx2(const float* x, float* y, int64_t n);
void gelu_avx2(const float* x, float* y, int64_t n);
void geglu_row_avx2(const float* a, const float* gate, float* out, int64_t f);
void scale_shift_silu_avx2(const float* x, float* y, const float* scale, const float* shift, int64_t channels, bool silu);
#endif

namespace {
// The GEMM kernel's instruction set: SD_GEMM_KERNEL=avx2|generic (the tests'
// way to run an old laptop's code paths here) moves the element loops too.
bool use_avx512() {
  static const bool yes = active_gemm_kernel().isa == KernelIsa::Avx512;
  return yes;
}
bool use_avx2() {
  static const bool yes = active_gemm_kernel().isa == KernelIsa::Avx2;
  return yes;
}
}  // namespace

float softmax_exp_row(float* row, int64_t visible, int64_t n, float scale) {
#ifdef SD_X86_KERNELS
  if (use_avx512()) return softmax_exp_row_avx512(row, visible, n, scale);
  if (use_avx2()) return softmax_exp_row_avx2(row, visible, n, scale);
#endif
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < visible; ++j) mx = std::max(mx, row[j]);
  mx *= scale;
  float sum = 0;
  for (int64_t j = 0; j < visible; ++j) {
    row[j] = fast_exp(row[j] * scale - mx);
    sum += row[j];
  }
  for (int64_t j = visible; j < n; ++j) row[j] = 0.0f;
  return sum;
}

void channel_sums(const float* x, int64_t pixels, int64_t channels, double* sum, double* sum2) {
#ifdef SD_X86_KERNELS
  if (use_avx512()) return channel_sums_avx512(x, pixels, channels, sum, sum2);
#endif
  for (int64_t p = 0; p < pixels; ++p) {
    const float* row = x + p * channels;
    for (int64_t c = 0; c < channels; ++c) {
      const double v = row[c];
      sum[c] += v;
      sum2[c] += v * v;
    }
  }
}

void softmax_row(float* row, int64_t visible, int64_t n, float scale) {
  const float inv = 1.0f / softmax_exp_row(row, visible, n, scale);
  for (int64_t j = 0; j < visible; ++j) row[j] *= inv;
}

void layer_norm_row(const float* x, float* y, int64_t n, const float* gamma, const float* beta, float eps) {
#ifdef SD_X86_KERNELS
  if (use_avx512()) return layer_norm_row_avx512(x, y, n, gamma, beta, eps);
#endif
  double sum = 0;
  for (int64_t c = 0; c < n; ++c) sum += x[c];
  const double mean = sum / static_cast<double>(n);
  double var = 0;
  for (int64_t c = 0; c < n; ++c) {
    const double d = x[c] - mean;
    var += d * d;
  }
  var /= static_cast<double>(n);
  const double rstd = 1.0 / std::sqrt(var + static_cast<double>(eps));
  for (int64_t c = 0; c < n; ++c) y[c] = static_cast<float>((x[c] - mean) * rstd * gamma[c] + beta[c]);
}

void silu_rows(const float* x, float* y, int64_t n) {
#ifdef SD_X86_KERNELS
  if (use_avx512()) return silu_avx512(x, y, n);
  if (use_avx2()) return silu_avx2(x, y, n);
#endif
  for (int64_t i = 0; i < n; ++i) y[i] = silu(x[i]);
}

void gelu_rows(const float* x, float* y, int64_t n) {
#ifdef SD_X86_KERNELS
  if (use_avx512()) return gelu_avx512(x, y, n);
  if (use_avx2()) return gelu_avx2(x, y, n);
#endif
  for (int64_t i = 0; i < n; ++i) y[i] = gelu_erf(x[i]);
}

void geglu_row(const float* a, const float* gate, float* out, int64_t f) {
#ifdef SD_X86_KERNELS
  if (use_avx512()) return geglu_row_avx512(a, gate, out, f);
  if (use_avx2()) return geglu_row_avx2(a, gate, out, f);
#endif
  for (int64_t i = 0; i < f; ++i) out[i] = a[i] * gelu_erf(gate[i]);
}

void scale_shift_silu(const float* x, float* y, const float* scale, const float* shift, int64_t channels, bool apply_silu) {
#ifdef SD_X86_KERNELS
  if (use_avx512()) return scale_shift_silu_avx512(x, y, scale, shift, channels, apply_silu);
  if (use_avx2()) return scale_shift_silu_avx2(x, y, scale, shift, channels, apply_silu);
#endif
  for (int64_t c = 0; c < channels; ++c) {
    const float v = x[c] * scale[c] + shift[c];
    y[c] = apply_silu ? silu(v) : v;
  }
}

}  // namespace sd
