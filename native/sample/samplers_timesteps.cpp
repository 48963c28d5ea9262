// DDIM and PLMS over DDPM timesteps (CompVis ldm/models/diffusion/ddim.py and
// plms.py; the webui's sd_samplers_timesteps_impl.py computes the same steps).
#include "sample/strict_fp.h"

#include <cmath>
#include <deque>

#include "sample/latent_math.h"
#include "sample/samplers.h"

namespace sd {

namespace {

using latent::map;

void check_run(const TimestepRun& run) {
  const int n = static_cast<int>(run.params.timesteps.size());
  SD_CHECK(n >= 1 && run.params.alphas.size() == static_cast<size_t>(n) &&
               run.params.alphas_prev.size() == static_cast<size_t>(n) && run.params.sigmas.size() == static_cast<size_t>(n),
           "inconsistent DDIM parameters");
  SD_CHECK(run.first_index < n && run.stop_index >= 0, "DDIM/PLMS step range [", run.stop_index, ", ",
           run.first_index, "] outside the ", n, " timesteps");
}

Tensor call_model(const EpsPredictor& model, const Tensor& x, float t) {
  return latent::call_checked(model, x, t, "the eps prediction");
}

using latent::report_step;

struct StepResult {
  Tensor x_prev;
  Tensor pred_x0;
};

// One DDIM update at `index` with noise prediction e (sigma_t * z added when
// noise is given).
StepResult ddim_step(const Tensor& x, const Tensor& e, const DDIMParameters& p, int index, const Tensor* z) {
  const float a_t = static_cast<float>(p.alphas[index]);
  const float a_prev = static_cast<float>(p.alphas_prev[index]);
  const float sigma_t = static_cast<float>(p.sigmas[index]);
  const float sqrt_one_minus_at = std::sqrt(1.0f - a_t);
  const float sqrt_at = std::sqrt(a_t);
  const float sqrt_a_prev = std::sqrt(a_prev);
  const float one_minus_prev = 1.0f - a_prev;
  const float sigma2 = sigma_t * sigma_t;
  const float dir_coeff = std::sqrt(one_minus_prev - sigma2);
  // pred_x0 = (x - sqrt(1 - a_t) e) / sqrt(a_t)
  Tensor pred_x0 = map(x, e, [=](float xv, float ev) {
    const float p1 = sqrt_one_minus_at * ev;
    const float diff = xv - p1;
    return diff / sqrt_at;
  });
  // x_prev = sqrt(a_prev) pred_x0 + sqrt(1 - a_prev - sigma^2) e [+ sigma z]
  Tensor x_prev = map(pred_x0, e, [=](float pv, float ev) {
    const float a = sqrt_a_prev * pv;
    const float b = dir_coeff * ev;
    return a + b;
  });
  if (z) {
    x_prev = map(x_prev, *z, [sigma_t](float xv, float zv) {
      const float n = sigma_t * zv;
      return xv + n;
    });
  }
  return {std::move(x_prev), std::move(pred_x0)};
}

}  // namespace

Tensor sample_ddim(const EpsPredictor& model, Tensor x, const TimestepRun& run, const NoiseFn& noise,
                   const StepCallback& callback) {
  latent::check_f32(x, "the initial latent");
  check_run(run);
  const auto& p = run.params;
  bool stochastic = false;
  for (double s : p.sigmas) stochastic = stochastic || s != 0.0;
  SD_CHECK(!stochastic || noise != nullptr, "DDIM with eta > 0 needs a noise source");
  const int total = run.first_index - run.stop_index + 1;
  int i = 0;
  for (int index = run.first_index; index >= run.stop_index; --index, ++i) {
    const Tensor e = call_model(model, x, static_cast<float>(p.timesteps[index]));
    Tensor z;
    if (stochastic) {
      z = noise();
      latent::check_f32(z, "noise");
      latent::check_same_shape(x, z, "noise");
    }
    StepResult s = ddim_step(x, e, p, index, stochastic ? &z : nullptr);
    x = std::move(s.x_prev);
    report_step(callback, i, total, static_cast<float>(p.timesteps[index]), x, s.pred_x0);
  }
  return x;
}

Tensor sample_plms(const EpsPredictor& model, Tensor x, const TimestepRun& run, const StepCallback& callback) {
  latent::check_f32(x, "the initial latent");
  check_run(run);
  const auto& p = run.params;
  for (double s : p.sigmas) SD_CHECK(s == 0.0, "PLMS runs with eta = 0 only");
  const int total = run.first_index - run.stop_index + 1;
  std::deque<Tensor> old_eps;  // the last (up to 3) plain eps values, newest last
  int i = 0;
  for (int index = run.first_index; index >= run.stop_index; --index, ++i) {
    const float t = static_cast<float>(p.timesteps[index]);
    const Tensor e = call_model(model, x, t);
    Tensor e_prime;
    if (old_eps.empty()) {
      // Pseudo improved Euler: average with the eps at the DDIM-predicted next point.
      const float t_next = static_cast<float>(p.timesteps[index > 0 ? index - 1 : 0]);
      const StepResult probe = ddim_step(x, e, p, index, nullptr);
      const Tensor e_next = call_model(model, probe.x_prev, t_next);
      e_prime = map(e, e_next, [](float a, float b) {
        const float s = a + b;
        return s / 2.0f;
      });
    } else if (old_eps.size() == 1) {
      e_prime = map(e, old_eps[0], [](float a, float b) {
        const float a3 = 3.0f * a;
        const float d = a3 - b;
        return d / 2.0f;
      });
    } else if (old_eps.size() == 2) {
      const Tensor& e1 = old_eps[1];
      const Tensor& e2 = old_eps[0];
      e_prime = map(e, e1, e2, [](float a, float b, float c) {
        const float a23 = 23.0f * a;
        const float b16 = 16.0f * b;
        const float c5 = 5.0f * c;
        const float s1 = a23 - b16;
        const float s2 = s1 + c5;
        return s2 / 12.0f;
      });
    } else {
      const Tensor& e1 = old_eps[2];
      const Tensor& e2 = old_eps[1];
      const Tensor& e3 = old_eps[0];
      const Tensor partial = map(e, e1, e2, [](float a, float b, float c) {
        const float a55 = 55.0f * a;
        const float b59 = 59.0f * b;
        const float c37 = 37.0f * c;
        const float s1 = a55 - b59;
        return s1 + c37;
      });
      e_prime = map(partial, e3, [](float s, float d) {
        const float d9 = 9.0f * d;
        const float s3 = s - d9;
        return s3 / 24.0f;
      });
    }
    StepResult s = ddim_step(x, e_prime, p, index, nullptr);
    old_eps.push_back(e);
    if (old_eps.size() > 3) old_eps.pop_front();
    x = std::move(s.x_prev);
    report_step(callback, i, total, t, x, s.pred_x0);
  }
  return x;
}

}  // namespace sd
