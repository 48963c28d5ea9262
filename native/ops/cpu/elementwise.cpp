#include <algorithm>
#include <cstring>

#include "core/thread_pool.h"
#include "ops/cpu/cpu_ops.h"
#include "ops/cpu/vec_dispatch.h"
#include "ops/cpu/vec_math.h"

namespace sd {
namespace cpu {

namespace {
// Elementwise work is memory-bound; split only when there is enough of it.
constexpr int64_t kGrain = 1 << 15;

template <typename F>
void map(const float* x, float* y, int64_t n, F f) {
  compute_pool().parallel_for(
      n,
      [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) y[i] = f(x[i]);
      },
      kGrain);
}
}  // namespace

void silu(const float* x, float* y, int64_t n) {
  compute_pool().parallel_for(n, [&](int64_t b, int64_t e) { silu_rows(x + b, y + b, e - b); }, kGrain);
}
void gelu(const float* x, float* y, int64_t n) {
  compute_pool().parallel_for(n, [&](int64_t b, int64_t e) { gelu_rows(x + b, y + b, e - b); }, kGrain);
}
void quick_gelu(const float* x, float* y, int64_t n) { map(x, y, n, [](float v) { return sd::quick_gelu(v); }); }

void geglu(const float* x, float* y, int64_t rows, int64_t f) {
  compute_pool().parallel_for(
      rows,
      [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
          const float* a = x + r * 2 * f;
          geglu_row(a, a + f, y + r * f, f);
        }
      },
      std::max<int64_t>(1, kGrain / std::max<int64_t>(f, 1)));
}

void add(const float* a, const float* b, float* y, int64_t n) {
  compute_pool().parallel_for(
      n,
      [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) y[i] = a[i] + b[i];
      },
      kGrain);
}

void add_channel_vector(float* x, const float* v, int64_t batch, int64_t pixels, int64_t channels) {
  for (int64_t n = 0; n < batch; ++n) {
    const float* vn = v + n * channels;
    float* xn = x + n * pixels * channels;
    compute_pool().parallel_for(
        pixels,
        [&](int64_t b, int64_t e) {
          for (int64_t p = b; p < e; ++p) {
            float* row = xn + p * channels;
            for (int64_t c = 0; c < channels; ++c) row[c] += vn[c];
          }
        },
        std::max<int64_t>(1, kGrain / std::max<int64_t>(channels, 1)));
  }
}

void nchw_to_nhwc(const float* x, float* y, int64_t batch, int64_t channels, int64_t pixels) {
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t p = 0; p < pixels; ++p) y[(n * pixels + p) * channels + c] = x[(n * channels + c) * pixels + p];
}

void nhwc_to_nchw(const float* x, float* y, int64_t batch, int64_t pixels, int64_t channels) {
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t p = 0; p < pixels; ++p)
      for (int64_t c = 0; c < channels; ++c) y[(n * channels + c) * pixels + p] = x[(n * pixels + p) * channels + c];
}

void upsample_nearest(const float* x, float* y, int64_t batch, int64_t h, int64_t w, int64_t c, int64_t oh, int64_t ow) {
  const size_t pixel_bytes = static_cast<size_t>(c) * 4;
  compute_pool().parallel_for(batch * oh, [&](int64_t b, int64_t e) {
    for (int64_t nr = b; nr < e; ++nr) {
      const int64_t n = nr / oh, oy = nr % oh;
      const float* src = x + (n * h + oy * h / oh) * w * c;
      float* dst = y + nr * ow * c;
      for (int64_t ox = 0; ox < ow; ++ox) std::memcpy(dst + ox * c, src + (ox * w / ow) * c, pixel_bytes);
    }
  });
}

void concat_channels(const float* a, int64_t ca, const float* b, int64_t cb, float* y, int64_t rows) {
  compute_pool().parallel_for(
      rows,
      [&](int64_t s, int64_t e) {
        for (int64_t r = s; r < e; ++r) {
          std::memcpy(y + r * (ca + cb), a + r * ca, static_cast<size_t>(ca) * 4);
          std::memcpy(y + r * (ca + cb) + ca, b + r * cb, static_cast<size_t>(cb) * 4);
        }
      },
      256);
}

}  // namespace cpu
}  // namespace sd
