#include "sample/strict_fp.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "sample/brownian_noise.h"
#include "sample/latent_math.h"
#include "sample/samplers.h"
#include "sample/sleef_f32.h"

// Scalars (sigmas, step sizes) are float32 as in k-diffusion, where they are
// 0-dim float32 tensors; latents are updated with one rounding per tensor op.

namespace sd {

namespace {

using latent::map;

Tensor call_model(const Denoiser& model, const Tensor& x, float sigma) {
  return latent::call_checked(model, x, sigma, "the denoiser's output");
}

using latent::report_step;

Tensor next_noise(const NoiseFn& noise, const Tensor& like) {
  SD_CHECK(noise != nullptr, "this sampler needs a noise source");
  Tensor n = noise();
  latent::check_f32(n, "noise");
  latent::check_same_shape(like, n, "noise");
  return n;
}

// (x - denoised) / sigma
Tensor to_d(const Tensor& x, float sigma, const Tensor& denoised) {
  return map(x, denoised, [sigma](float xv, float dv) {
    const float diff = xv - dv;
    return diff / sigma;
  });
}

// x + d * dt
Tensor step(const Tensor& x, const Tensor& d, float dt) {
  return map(x, d, [dt](float xv, float dv) {
    const float p = dv * dt;
    return xv + p;
  });
}

// x + noise * s_noise * scale
Tensor add_noise(const Tensor& x, const Tensor& noise, float s_noise, float scale) {
  return map(x, noise, [s_noise, scale](float xv, float nv) {
    const float a = nv * s_noise;
    const float b = a * scale;
    return xv + b;
  });
}

// x + noise * sigma_next * root * s_noise (the 2M/3M SDE noise term)
Tensor add_sde_noise(const Tensor& x, const Tensor& noise, float sigma_next, float root, float s_noise) {
  return map(x, noise, [=](float xv, float nv) {
    const float a = nv * sigma_next;
    const float b = a * root;
    const float c = b * s_noise;
    return xv + c;
  });
}

// a * x - b * y (scalars a, b)
Tensor combine(float a, const Tensor& x, float b, const Tensor& y) {
  return map(x, y, [a, b](float xv, float yv) {
    const float p = a * xv;
    const float q = b * yv;
    return p - q;
  });
}

struct AncestralStep {
  float down, up;
};

// get_ancestral_step: the noise level to step down to and the noise to add.
AncestralStep ancestral_step(float from, float to, float eta) {
  if (eta == 0.0f) return {to, 0.0f};
  const float to2 = to * to;
  const float from2 = from * from;
  const float gap = from2 - to2;
  const float num = to2 * gap;
  const float ratio = num / from2;
  const float scaled = eta * std::sqrt(ratio);
  const float up = std::min(to, scaled);
  const float up2 = up * up;
  const float down2 = to2 - up2;
  return {std::sqrt(down2), up};
}

float t_of(float sigma) { return -sleef_f32::log(sigma); }
float sigma_of(float t) { return sleef_f32::exp(-t); }

// exp(lerp(log a, log b, 1/2)) as torch's lerp computes weight 1/2.
float log_midpoint(float a, float b) {
  const float la = sleef_f32::log(a), lb = sleef_f32::log(b);
  const float span = lb - la;
  return sleef_f32::exp(std::fma(-span, 0.5f, lb));
}

float churn_gamma(const KSamplerOptions& o, float sigma, size_t n_sigmas) {
  if (!(o.s_tmin <= sigma && sigma <= o.s_tmax)) return 0.0f;
  const double g = std::min(static_cast<double>(o.s_churn) / static_cast<double>(n_sigmas - 1), std::sqrt(2.0) - 1);
  return static_cast<float>(g);
}

// ---- the samplers ------------------------------------------------------------------

struct Run {
  const Denoiser& model;
  const std::vector<float>& sigmas;
  const KSamplerOptions& o;
  const NoiseFn& noise;
  const StepCallback& callback;
  int steps() const { return static_cast<int>(sigmas.size()) - 1; }
};

// Euler, Heun and DPM2 share the churn prologue: optionally raise the noise
// level to sigma_hat, then evaluate the model there.
struct Churned {
  Tensor x;
  float sigma_hat;
  Tensor denoised;
  Tensor d;
};

Churned churn_and_denoise(const Run& r, Tensor x, int i) {
  const float sigma = r.sigmas[i];
  const float gamma = churn_gamma(r.o, sigma, r.sigmas.size());
  // k-diffusion draws this noise at every step; it only matters with churn.
  Tensor eps;
  if (r.o.s_churn > 0) {
    const float s_noise = r.o.s_noise;
    eps = map(next_noise(r.noise, x), [s_noise](float v) { return v * s_noise; });
  }
  const float sigma_hat = sigma * (gamma + 1.0f);
  if (gamma > 0) {
    const float hat2 = sigma_hat * sigma_hat;
    const float s2 = sigma * sigma;
    const float extra = std::sqrt(hat2 - s2);
    x = map(x, eps, [extra](float xv, float ev) {
      const float p = ev * extra;
      return xv + p;
    });
  }
  Tensor denoised = call_model(r.model, x, sigma_hat);
  Tensor d = to_d(x, sigma_hat, denoised);
  return {std::move(x), sigma_hat, std::move(denoised), std::move(d)};
}

Tensor euler(const Run& r, Tensor x) {
  for (int i = 0; i < r.steps(); ++i) {
    Churned c = churn_and_denoise(r, std::move(x), i);
    report_step(r.callback, i, r.steps(), r.sigmas[i], c.x, c.denoised);
    const float dt = r.sigmas[i + 1] - c.sigma_hat;
    x = step(c.x, c.d, dt);
  }
  return x;
}

Tensor heun(const Run& r, Tensor x) {
  for (int i = 0; i < r.steps(); ++i) {
    Churned c = churn_and_denoise(r, std::move(x), i);
    report_step(r.callback, i, r.steps(), r.sigmas[i], c.x, c.denoised);
    const float next = r.sigmas[i + 1];
    const float dt = next - c.sigma_hat;
    if (next == 0.0f) {
      x = step(c.x, c.d, dt);
    } else {
      const Tensor x2 = step(c.x, c.d, dt);
      const Tensor d2 = to_d(x2, next, call_model(r.model, x2, next));
      const Tensor d_prime = map(c.d, d2, [](float a, float b) {
        const float s = a + b;
        return s / 2.0f;
      });
      x = step(c.x, d_prime, dt);
    }
  }
  return x;
}

Tensor dpm2(const Run& r, Tensor x) {
  for (int i = 0; i < r.steps(); ++i) {
    Churned c = churn_and_denoise(r, std::move(x), i);
    report_step(r.callback, i, r.steps(), r.sigmas[i], c.x, c.denoised);
    const float next = r.sigmas[i + 1];
    if (next == 0.0f) {
      x = step(c.x, c.d, next - c.sigma_hat);
    } else {
      const float sigma_mid = log_midpoint(c.sigma_hat, next);
      const Tensor x2 = step(c.x, c.d, sigma_mid - c.sigma_hat);
      const Tensor d2 = to_d(x2, sigma_mid, call_model(r.model, x2, sigma_mid));
      x = step(c.x, d2, next - c.sigma_hat);
    }
  }
  return x;
}

Tensor euler_ancestral(const Run& r, Tensor x) {
  for (int i = 0; i < r.steps(); ++i) {
    const float sigma = r.sigmas[i], next = r.sigmas[i + 1];
    const Tensor denoised = call_model(r.model, x, sigma);
    const AncestralStep a = ancestral_step(sigma, next, r.o.eta);
    report_step(r.callback, i, r.steps(), sigma, x, denoised);
    const Tensor d = to_d(x, sigma, denoised);
    x = step(x, d, a.down - sigma);
    if (next > 0 && r.o.eta != 0.0f) x = add_noise(x, next_noise(r.noise, x), r.o.s_noise, a.up);
  }
  return x;
}

Tensor dpm2_ancestral(const Run& r, Tensor x) {
  for (int i = 0; i < r.steps(); ++i) {
    const float sigma = r.sigmas[i], next = r.sigmas[i + 1];
    const Tensor denoised = call_model(r.model, x, sigma);
    const AncestralStep a = ancestral_step(sigma, next, r.o.eta);
    report_step(r.callback, i, r.steps(), sigma, x, denoised);
    const Tensor d = to_d(x, sigma, denoised);
    if (a.down == 0.0f) {
      x = step(x, d, a.down - sigma);
    } else {
      const float sigma_mid = log_midpoint(sigma, a.down);
      const Tensor x2 = step(x, d, sigma_mid - sigma);
      const Tensor d2 = to_d(x2, sigma_mid, call_model(r.model, x2, sigma_mid));
      x = step(x, d2, a.down - sigma);
      if (r.o.eta != 0.0f) x = add_noise(x, next_noise(r.noise, x), r.o.s_noise, a.up);
    }
  }
  return x;
}

Tensor lms(const Run& r, Tensor x) {
  SD_CHECK(r.o.lms_order >= 1, "LMS order must be at least 1");
  std::vector<Tensor> ds;  // the last `order` derivatives, oldest first
  for (int i = 0; i < r.steps(); ++i) {
    const float sigma = r.sigmas[i];
    const Tensor denoised = call_model(r.model, x, sigma);
    ds.push_back(to_d(x, sigma, denoised));
    if (static_cast<int>(ds.size()) > r.o.lms_order) ds.erase(ds.begin());
    report_step(r.callback, i, r.steps(), sigma, x, denoised);
    const int order = std::min(i + 1, r.o.lms_order);
    // sum over j of coeff_j * ds[-1 - j], added up in that order, then to x.
    Tensor sum;
    for (int j = 0; j < order; ++j) {
      const float coeff = static_cast<float>(lms_coefficient(order, r.sigmas, i, j));
      const Tensor& d = ds[ds.size() - 1 - j];
      if (j == 0) {
        sum = map(d, [coeff](float v) { return coeff * v; });
      } else {
        sum = map(sum, d, [coeff](float s, float v) {
          const float p = coeff * v;
          return s + p;
        });
      }
    }
    x = map(x, sum, [](float a, float b) { return a + b; });
  }
  return x;
}

Tensor dpmpp_2s_ancestral(const Run& r, Tensor x) {
  for (int i = 0; i < r.steps(); ++i) {
    const float sigma = r.sigmas[i], next = r.sigmas[i + 1];
    const Tensor denoised = call_model(r.model, x, sigma);
    const AncestralStep a = ancestral_step(sigma, next, r.o.eta);
    report_step(r.callback, i, r.steps(), sigma, x, denoised);
    if (a.down == 0.0f) {
      x = step(x, to_d(x, sigma, denoised), a.down - sigma);
    } else {
      // DPM-Solver++(2S) with the midpoint in log-sigma.
      const float t = t_of(sigma), t_next = t_of(a.down);
      const float h = t_next - t;
      const float s = t + 0.5f * h;
      const float sigma_s = sigma_of(s), sigma_t = sigma_of(t);
      const float neg_half_h = -h * 0.5f;
      const Tensor x2 = combine(sigma_s / sigma_t, x, std::expm1(neg_half_h), denoised);
      const Tensor denoised2 = call_model(r.model, x2, sigma_s);
      x = combine(sigma_of(t_next) / sigma_t, x, std::expm1(-h), denoised2);
    }
    if (next > 0 && r.o.eta != 0.0f) x = add_noise(x, next_noise(r.noise, x), r.o.s_noise, a.up);
  }
  return x;
}

Tensor dpmpp_2m(const Run& r, Tensor x) {
  Tensor old_denoised;
  for (int i = 0; i < r.steps(); ++i) {
    const float sigma = r.sigmas[i], next = r.sigmas[i + 1];
    const Tensor denoised = call_model(r.model, x, sigma);
    report_step(r.callback, i, r.steps(), sigma, x, denoised);
    const float t = t_of(sigma), t_next = t_of(next);
    const float h = t_next - t;
    const float ratio = sigma_of(t_next) / sigma_of(t);
    const float e = std::expm1(-h);
    if (!old_denoised.defined() || next == 0.0f) {
      x = combine(ratio, x, e, denoised);
    } else {
      const float h_last = t - t_of(r.sigmas[i - 1]);
      const float rr = h_last / h;
      const float inv2r = 1.0f / (2.0f * rr);
      const float a = 1.0f + inv2r;
      const Tensor denoised_d = combine(a, denoised, inv2r, old_denoised);
      x = combine(ratio, x, e, denoised_d);
    }
    old_denoised = denoised;
  }
  return x;
}

// The Brownian noise of the SDE samplers over the schedule's positive range.
std::unique_ptr<BrownianNoise> brownian_for(const Run& r) {
  float lo = std::numeric_limits<float>::infinity(), hi = 0;
  for (float s : r.sigmas) {
    if (s > 0) lo = std::min(lo, s);
    hi = std::max(hi, s);
  }
  if (!(hi > lo)) return nullptr;  // a single noise level: no noise is drawn
  return std::make_unique<BrownianNoise>(lo, hi, r.noise);
}

Tensor dpmpp_sde(const Run& r, Tensor x) {
  const float eta = r.o.eta;
  auto brownian = eta != 0.0f ? brownian_for(r) : nullptr;
  const float rr = 0.5f;
  const float fac = 1.0f / (2.0f * rr);
  for (int i = 0; i < r.steps(); ++i) {
    const float sigma = r.sigmas[i], next = r.sigmas[i + 1];
    const Tensor denoised = call_model(r.model, x, sigma);
    report_step(r.callback, i, r.steps(), sigma, x, denoised);
    if (next == 0.0f) {
      x = step(x, to_d(x, sigma, denoised), next - sigma);
      continue;
    }
    const float t = t_of(sigma), t_next = t_of(next);
    const float h = t_next - t;
    const float s = t + h * rr;
    const float sigma_t = sigma_of(t), sigma_s = sigma_of(s);
    // Step 1: to the midpoint s, with noise.
    AncestralStep a = ancestral_step(sigma_t, sigma_s, eta);
    const float s_ = t_of(a.down);
    Tensor x2 = combine(sigma_of(s_) / sigma_t, x, std::expm1(t - s_), denoised);
    if (brownian) x2 = add_noise(x2, (*brownian)(sigma_t, sigma_s), r.o.s_noise, a.up);
    const Tensor denoised2 = call_model(r.model, x2, sigma_s);
    // Step 2: to t_next from both predictions.
    a = ancestral_step(sigma_t, sigma_of(t_next), eta);
    const float t_next_ = t_of(a.down);
    const float keep = 1.0f - fac;
    const Tensor denoised_d = map(denoised, denoised2, [keep, fac](float u, float v) {
      const float p = keep * u;
      const float q = fac * v;
      return p + q;
    });
    x = combine(sigma_of(t_next_) / sigma_t, x, std::expm1(t - t_next_), denoised_d);
    if (brownian) x = add_noise(x, (*brownian)(sigma_t, sigma_of(t_next)), r.o.s_noise, a.up);
  }
  return x;
}

Tensor dpmpp_2m_sde(const Run& r, Tensor x) {
  const float eta = r.o.eta;
  auto brownian = eta != 0.0f ? brownian_for(r) : nullptr;
  Tensor old_denoised;
  float h_last = 0;
  for (int i = 0; i < r.steps(); ++i) {
    const float sigma = r.sigmas[i], next = r.sigmas[i + 1];
    const Tensor denoised = call_model(r.model, x, sigma);
    report_step(r.callback, i, r.steps(), sigma, x, denoised);
    float h = h_last;
    if (next == 0.0f) {
      x = denoised;  // the final denoising step
    } else {
      const float t = -sleef_f32::log(sigma), s = -sleef_f32::log(next);
      h = s - t;
      const float eta_h = eta * h;
      const float decay = sleef_f32::exp(-eta_h);
      const float ratio = next / sigma;
      const float scale_x = ratio * decay;
      const float neg_h_eta = -h - eta_h;
      const float phi = -std::expm1(neg_h_eta);
      x = map(x, denoised, [scale_x, phi](float xv, float dv) {
        const float p = scale_x * xv;
        const float q = phi * dv;
        return p + q;
      });
      if (old_denoised.defined()) {
        const float rr = h_last / h;
        const float inv_r = 1.0f / rr;
        float coeff;
        if (r.o.heun_solver) {
          const float q = phi / neg_h_eta;
          coeff = (q + 1.0f) * inv_r;
        } else {
          coeff = (0.5f * phi) * inv_r;
        }
        x = map(x, denoised, old_denoised, [coeff](float xv, float dv, float ov) {
          const float diff = dv - ov;
          const float p = coeff * diff;
          return xv + p;
        });
      }
      if (brownian) x = add_sde_noise(x, (*brownian)(sigma, next), next, std::sqrt(-std::expm1(-2.0f * eta_h)), r.o.s_noise);
    }
    old_denoised = denoised;
    h_last = h;
  }
  return x;
}

Tensor dpmpp_3m_sde(const Run& r, Tensor x) {
  const float eta = r.o.eta;
  auto brownian = eta != 0.0f ? brownian_for(r) : nullptr;
  Tensor denoised_1, denoised_2;
  float h_1 = 0, h_2 = 0;
  bool have_1 = false, have_2 = false;
  for (int i = 0; i < r.steps(); ++i) {
    const float sigma = r.sigmas[i], next = r.sigmas[i + 1];
    const Tensor denoised = call_model(r.model, x, sigma);
    report_step(r.callback, i, r.steps(), sigma, x, denoised);
    float h = h_1;
    if (next == 0.0f) {
      x = denoised;
    } else {
      const float t = -sleef_f32::log(sigma), s = -sleef_f32::log(next);
      h = s - t;
      const float h_eta = h * (eta + 1.0f);
      const float decay = sleef_f32::exp(-h_eta);
      const float one_minus = -std::expm1(-h_eta);
      x = combine(decay, x, -one_minus, denoised);
      if (have_2) {
        const float r0 = h_1 / h, r1 = h_2 / h;
        const float phi_2 = std::expm1(-h_eta) / h_eta + 1.0f;
        const float phi_3 = phi_2 / h_eta - 0.5f;
        const float r_sum = r0 + r1;
        const Tensor d1_0 = map(denoised, denoised_1, [r0](float a, float b) {
          const float diff = a - b;
          return diff / r0;
        });
        const Tensor d1_1 = map(denoised_1, denoised_2, [r1](float a, float b) {
          const float diff = a - b;
          return diff / r1;
        });
        // d1 = d1_0 + (d1_0 - d1_1) * r0 / (r0 + r1); d2 = (d1_0 - d1_1) / (r0 + r1)
        const Tensor d1 = map(d1_0, d1_1, [r0, r_sum](float a, float b) {
          const float diff = a - b;
          const float p = diff * r0;
          const float q = p / r_sum;
          return a + q;
        });
        const Tensor d2 = map(d1_0, d1_1, [r_sum](float a, float b) {
          const float diff = a - b;
          return diff / r_sum;
        });
        x = map(x, d1, d2, [phi_2, phi_3](float xv, float a, float b) {
          const float p = phi_2 * a;
          const float q = phi_3 * b;
          const float s1 = xv + p;
          return s1 - q;
        });
      } else if (have_1) {
        const float rr = h_1 / h;
        const float phi_2 = std::expm1(-h_eta) / h_eta + 1.0f;
        x = map(x, denoised, denoised_1, [rr, phi_2](float xv, float dv, float d1v) {
          const float diff = dv - d1v;
          const float d = diff / rr;
          const float p = phi_2 * d;
          return xv + p;
        });
      }
      if (brownian) {
        const float h_eta2 = -2.0f * h;
        x = add_sde_noise(x, (*brownian)(sigma, next), next, std::sqrt(-std::expm1(h_eta2 * eta)), r.o.s_noise);
      }
    }
    denoised_2 = denoised_1;
    denoised_1 = denoised;
    have_2 = have_1;
    have_1 = true;
    h_2 = h_1;
    h_1 = h;
  }
  return x;
}

}  // namespace

bool k_sampler_uses_noise(KSampler kind, const KSamplerOptions& o) {
  switch (kind) {
    case KSampler::Euler:
    case KSampler::Heun:
    case KSampler::DPM2:
      return o.s_churn > 0;
    case KSampler::EulerAncestral:
    case KSampler::DPM2Ancestral:
    case KSampler::DPMpp2SAncestral:
    case KSampler::DPMppSDE:
    case KSampler::DPMpp2MSDE:
    case KSampler::DPMpp3MSDE:
      return o.eta != 0.0f;
    case KSampler::LMS:
    case KSampler::DPMpp2M:
      return false;
  }
  return false;
}

double lms_coefficient(int order, const std::vector<float>& t, int i, int j) {
  SD_CHECK(order >= 1 && order - 1 <= i && j >= 0 && j < order && i + 1 < static_cast<int>(t.size()),
           "LMS coefficient out of range (order ", order, ", step ", i, ", j ", j, ")");
  // The basis polynomial has degree order - 1 <= 3: 4-point Gauss-Legendre is
  // exact (scipy's quad returns the same integral to rounding). Denominators
  // are float32 differences, as numpy computes them on the float32 sigmas.
  const auto basis = [&](double tau) {
    double prod = 1.0;
    for (int k = 0; k < order; ++k) {
      if (k == j) continue;
      const float den = t[i - j] - t[i - k];
      prod *= (tau - static_cast<double>(t[i - k])) / static_cast<double>(den);
    }
    return prod;
  };
  static const double kNodes[4] = {-0.86113631159405257522, -0.33998104358485626480, 0.33998104358485626480,
                                   0.86113631159405257522};
  static const double kWeights[4] = {0.34785484513745385737, 0.65214515486254614263, 0.65214515486254614263,
                                     0.34785484513745385737};
  SD_CHECK(order <= 8, "LMS order too high for 4-point quadrature");
  const double a = t[i], b = t[i + 1];
  const double half = (b - a) / 2, mid = (a + b) / 2;
  double sum = 0;
  for (int q = 0; q < 4; ++q) sum += kWeights[q] * basis(mid + half * kNodes[q]);
  return sum * half;
}

Tensor sample_k(KSampler kind, const Denoiser& model, Tensor x, const std::vector<float>& sigmas,
                const KSamplerOptions& options, const NoiseFn& noise, const StepCallback& callback) {
  latent::check_f32(x, "the initial latent");
  SD_CHECK(sigmas.size() >= 2, "a sigma schedule needs at least 2 values, got ", sigmas.size());
  SD_CHECK(model != nullptr, "no denoiser");
  for (size_t i = 0; i + 1 < sigmas.size(); ++i)
    SD_CHECK(sigmas[i] > 0 && std::isfinite(sigmas[i]), "sigma ", i, " is ", sigmas[i], ": sigmas before the last must be positive");
  SD_CHECK(options.lms_order <= 4 || kind != KSampler::LMS, "LMS supports order 1 to 4");
  const Run r{model, sigmas, options, noise, callback};
  switch (kind) {
    case KSampler::Euler: return euler(r, std::move(x));
    case KSampler::EulerAncestral: return euler_ancestral(r, std::move(x));
    case KSampler::Heun: return heun(r, std::move(x));
    case KSampler::DPM2: return dpm2(r, std::move(x));
    case KSampler::DPM2Ancestral: return dpm2_ancestral(r, std::move(x));
    case KSampler::LMS: return lms(r, std::move(x));
    case KSampler::DPMpp2SAncestral: return dpmpp_2s_ancestral(r, std::move(x));
    case KSampler::DPMpp2M: return dpmpp_2m(r, std::move(x));
    case KSampler::DPMppSDE: return dpmpp_sde(r, std::move(x));
    case KSampler::DPMpp2MSDE: return dpmpp_2m_sde(r, std::move(x));
    case KSampler::DPMpp3MSDE: return dpmpp_3m_sde(r, std::move(x));
  }
  fail("unknown k-diffusion sampler");
}

}  // namespace sd
