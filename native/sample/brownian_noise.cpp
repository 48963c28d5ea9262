#include "sample/strict_fp.h"
#include "sample/brownian_noise.h"

#include <cmath>

#include "sample/latent_math.h"

namespace sd {

BrownianNoise::BrownianNoise(double sigma_min, double sigma_max, NoiseFn draw)
    : t0_(sigma_min), t1_(sigma_max), draw_(std::move(draw)) {
  SD_CHECK(draw_ != nullptr, "the SDE samplers need a noise source");
  SD_CHECK(sigma_min > 0 && sigma_max > sigma_min, "bad Brownian interval [", sigma_min, ", ", sigma_max, "]");
}

const Tensor& BrownianNoise::at(double t) {
  // Queries are sigmas of the schedule; allow float rounding at the ends.
  const double slack = 1e-6 * t1_;
  SD_CHECK(t >= t0_ - slack && t <= t1_ + slack, "Brownian noise queried at ", t, " outside [", t0_, ", ", t1_, "]");
  t = std::min(std::max(t, t0_), t1_);
  if (auto it = points_.find(t); it != points_.end()) return it->second;
  if (points_.empty()) {
    // W(t0) = 0, W(t1) ~ N(0, t1 - t0).
    const Tensor z = draw_();
    latent::check_f32(z, "noise");
    points_.emplace(t0_, latent::map(z, [](float) { return 0.0f; }));
    const float scale = static_cast<float>(std::sqrt(t1_ - t0_));
    points_.emplace(t1_, latent::map(z, [scale](float v) { return v * scale; }));
    if (auto it = points_.find(t); it != points_.end()) return it->second;
  }
  // Bridge between the neighbours l < t < r: mean on the chord, variance
  // (t - l)(r - t) / (r - l).
  auto right = points_.upper_bound(t);
  auto left = std::prev(right);
  const double l = left->first, r = right->first;
  const float w = static_cast<float>((t - l) / (r - l));
  const float sd = static_cast<float>(std::sqrt((t - l) * (r - t) / (r - l)));
  const Tensor z = draw_();
  latent::check_same_shape(left->second, z, "Brownian noise");
  const Tensor chord = latent::map(left->second, right->second, [w](float a, float b) {
    const float step = (b - a) * w;
    return a + step;
  });
  return points_.emplace(t, latent::map(chord, z, [sd](float m, float v) {
                             const float dev = v * sd;
                             return m + dev;
                           }))
      .first->second;
}

Tensor BrownianNoise::operator()(float sigma, float sigma_next) {
  const double a = sigma, b = sigma_next;
  SD_CHECK(a != b, "Brownian noise over an empty interval");
  const Tensor wa = at(a);  // a shared handle: the next query inserts into the map
  const Tensor wb = at(b);
  const float inv = static_cast<float>(1.0 / std::sqrt(std::fabs(b - a)));
  return latent::map(wb, wa, [inv](float vb, float va) {
    const float diff = vb - va;
    return diff * inv;
  });
}

}  // namespace sd
