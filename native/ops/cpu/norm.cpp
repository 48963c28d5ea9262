// GroupNorm and LayerNorm. Statistics are accumulated in double: the fixtures'
// tolerances are ~1e-5 relative end to end, and a float single-pass variance
// over 262144 pixels (VAE at 512x512) would not stay inside them.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "ops/cpu/cpu_ops.h"
#include "ops/cpu/vec_dispatch.h"

namespace sd {
namespace cpu {

void group_norm_affine(const float* x, int64_t batch, int64_t pixels, int64_t channels, int groups,
                       const float* gamma, const float* beta, float eps, float* scale, float* shift) {
  SD_CHECK(groups > 0 && channels % groups == 0, "GroupNorm: ", channels, " channels do not split into ", groups,
           " groups");
  const int64_t per_group = channels / groups;
  ThreadPool& pool = compute_pool();
  const int64_t chunks = std::min<int64_t>(pool.size() * 4, std::max<int64_t>(1, pixels / 64));
  std::vector<double> sums(static_cast<size_t>(chunks * channels * 2));
  for (int64_t n = 0; n < batch; ++n) {
    const float* xn = x + n * pixels * channels;
    // Per-chunk, per-channel sums of x and x^2, then per group.
    pool.run(chunks, [&](int64_t ch) {
      double* s = sums.data() + ch * channels * 2;
      double* s2 = s + channels;
      std::fill(s, s + channels * 2, 0.0);
      const int64_t p0 = pixels * ch / chunks, p1 = pixels * (ch + 1) / chunks;
      channel_sums(xn + p0 * channels, p1 - p0, channels, s, s2);
    });
    for (int g = 0; g < groups; ++g) {
      double sum = 0, sum2 = 0;
      for (int64_t ch = 0; ch < chunks; ++ch) {
        const double* s = sums.data() + ch * channels * 2;
        for (int64_t c = g * per_group; c < (g + 1) * per_group; ++c) {
          sum += s[c];
          sum2 += s[c + channels];
        }
      }
      const double count = static_cast<double>(pixels * per_group);
      const double mean = sum / count;
      const double var = std::max(0.0, sum2 / count - mean * mean);
      const double rstd = 1.0 / std::sqrt(var + static_cast<double>(eps));
      for (int64_t c = g * per_group; c < (g + 1) * per_group; ++c) {
        const double gm = gamma ? gamma[c] : 1.0;
        scale[n * channels + c] = static_cast<float>(rstd * gm);
        shift[n * channels + c] = static_cast<float>((beta ? beta[c] : 0.0) - mean * rstd * gm);
      }
    }
  }
}

void group_norm(const float* x, float* y, int64_t batch, int64_t pixels, int64_t channels, int groups,
                const float* gamma, const float* beta, float eps, bool apply_silu) {
  std::vector<float> scale(static_cast<size_t>(batch * channels)), shift(static_cast<size_t>(batch * channels));
  group_norm_affine(x, batch, pixels, channels, groups, gamma, beta, eps, scale.data(), shift.data());
  for (int64_t n = 0; n < batch; ++n) {
    const float* xn = x + n * pixels * channels;
    float* yn = y + n * pixels * channels;
    const float* sc = scale.data() + n * channels;
    const float* sh = shift.data() + n * channels;
    compute_pool().parallel_for(
        pixels,
        [&](int64_t p0, int64_t p1) {
          for (int64_t p = p0; p < p1; ++p) scale_shift_silu(xn + p * channels, yn + p * channels, sc, sh, channels, apply_silu);
        },
        64);
  }
}

void layer_norm(const float* x, float* y, int64_t rows, int64_t channels, const float* gamma, const float* beta,
                float eps) {
  compute_pool().parallel_for(
      rows,
      [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) layer_norm_row(x + r * channels, y + r * channels, channels, gamma, beta, eps);
      },
      16);
}

}  // namespace cpu
}  // namespace sd
