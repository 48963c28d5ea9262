#include "sample/strict_fp.h"
#include "sample/sampling.h"

#include <cmath>

#include "sample/latent_math.h"

namespace sd {

namespace {

// The webui's get_sigmas: the schedule for `steps` (one more when the sampler
// discards the next-to-last sigma, which is then dropped).
std::vector<float> webui_sigmas(const SamplingRequest& req, const ResolvedSampler& r, const NoiseSchedule& schedule,
                                int steps) {
  const bool discard = r.sampler->discard_next_to_last_sigma || req.always_discard_next_to_last_sigma;
  std::vector<float> sigmas = scheduler_sigmas(r.scheduler->name, steps + (discard ? 1 : 0), schedule, req.sigma_options);
  if (discard && sigmas.size() >= 3) sigmas.erase(sigmas.end() - 2);
  return sigmas;
}

}  // namespace

SamplingPlan plan_sampling(const SamplingRequest& req, const NoiseSchedule& schedule, bool img2img) {
  SD_CHECK(req.steps >= 1 && req.steps <= 1000, "steps must be between 1 and 1000, got ", req.steps);
  SamplingPlan plan;
  plan.resolved = resolve_sampler(req.sampler, req.scheduler);
  const SamplerInfo& s = *plan.resolved.sampler;
  plan.eta = std::isnan(req.eta) ? s.eta_default : req.eta;
  SD_CHECK(std::isfinite(plan.eta) && plan.eta >= 0, "eta must be a non-negative number, got ", plan.eta);
  if (!s.takes_eta) plan.eta = s.eta_default;
  KSamplerOptions& o = plan.k_options;
  o.eta = plan.eta;
  o.heun_solver = s.heun_solver;
  o.s_noise = req.s_noise;
  if (s.takes_churn) {
    o.s_churn = req.s_churn;
    o.s_tmin = req.s_tmin;
    o.s_tmax = req.s_tmax == 0.0f ? std::numeric_limits<float>::infinity() : req.s_tmax;
  }
  Img2ImgSteps i2i{req.steps, req.steps};
  if (img2img) {
    i2i = img2img_steps(req.steps, req.denoising_strength, req.img2img_fix_steps);
    SD_CHECK(i2i.steps >= 1 && i2i.steps <= 1000, "img2img needs ", i2i.steps,
             " schedule steps for this strength; use a higher denoising strength or fewer steps");
    plan.t_enc = i2i.t_enc;
  }
  if (s.family == SamplerFamily::KDiffusion) {
    std::vector<float> sigmas = webui_sigmas(req, plan.resolved, schedule, i2i.steps);
    plan.sigmas = img2img ? img2img_sigma_tail(sigmas, i2i) : sigmas;
    plan.total_steps = static_cast<int>(plan.sigmas.size()) - 1;
  } else {
    TimestepRun& run = plan.timestep_run;
    run.params = ddim_parameters(schedule, ddim_timesteps(i2i.steps, schedule.timesteps()), plan.eta);
    const int n = static_cast<int>(run.params.timesteps.size());
    const int stop = req.webui_timestep_samplers ? 1 : 0;
    if (img2img) {
      SD_CHECK(i2i.t_enc < n, "img2img: t_enc ", i2i.t_enc, " beyond the ", n, " DDIM timesteps");
      run.first_index = i2i.t_enc - 1;
    } else {
      run.first_index = n - 1;
    }
    run.stop_index = stop;
    plan.total_steps = std::max(0, run.first_index - run.stop_index + 1);
  }
  return plan;
}

Tensor txt2img_start(const SamplingPlan& plan, const Tensor& noise) {
  latent::check_f32(noise, "the initial noise");
  if (plan.resolved.sampler->family != SamplerFamily::KDiffusion) return latent::clone(noise);
  const float sigma_max = plan.sigmas.front();
  return latent::map(noise, [sigma_max](float v) { return v * sigma_max; });
}

Tensor img2img_start(const SamplingPlan& plan, const NoiseSchedule& schedule, const Tensor& init_latent,
                     const Tensor& noise) {
  latent::check_f32(init_latent, "the init latent");
  latent::check_f32(noise, "the noise");
  latent::check_same_shape(init_latent, noise, "the img2img noise");
  SD_CHECK(plan.t_enc >= 0, "img2img_start needs a plan made for img2img");
  if (plan.resolved.sampler->family == SamplerFamily::KDiffusion) {
    const float sigma = plan.sigmas.front();
    return latent::map(init_latent, noise, [sigma](float a, float n) {
      const float p = n * sigma;
      return a + p;
    });
  }
  const auto& p = plan.timestep_run.params;
  const float a = schedule.alphas_cumprod_f32()[p.timesteps[plan.t_enc]];
  const float sqrt_a = std::sqrt(a);
  const float sqrt_one_minus = std::sqrt(1.0f - a);
  return latent::map(init_latent, noise, [sqrt_a, sqrt_one_minus](float v, float n) {
    const float p1 = v * sqrt_a;
    const float p2 = n * sqrt_one_minus;
    return p1 + p2;
  });
}

Tensor run_sampler(const SamplingPlan& plan, EpsModel& model, const Guidance& guidance, const NoiseSchedule& schedule,
                   Tensor start, const NoiseFn& extra_noise, const StepCallback& callback) {
  const SamplerInfo& s = *plan.resolved.sampler;
  if (s.family == SamplerFamily::KDiffusion) {
    return sample_k(s.k, make_kdiffusion_denoiser(model, schedule, guidance), std::move(start), plan.sigmas,
                    plan.k_options, extra_noise, callback);
  }
  const EpsPredictor eps = make_eps_guidance(model, guidance);
  if (s.timesteps == TimestepSampler::PLMS) return sample_plms(eps, std::move(start), plan.timestep_run, callback);
  return sample_ddim(eps, std::move(start), plan.timestep_run, extra_noise, callback);
}

Tensor sample_txt2img(const SamplingPlan& plan, EpsModel& model, const Guidance& guidance,
                      const NoiseSchedule& schedule, ImageRNG& rng, const StepCallback& callback) {
  const Tensor noise = rng.next();
  return run_sampler(plan, model, guidance, schedule, txt2img_start(plan, noise), [&rng]() { return rng.next(); },
                     callback);
}

Tensor sample_img2img(const SamplingPlan& plan, EpsModel& model, const Guidance& guidance,
                      const NoiseSchedule& schedule, const Tensor& init_latent, ImageRNG& rng,
                      const StepCallback& callback) {
  const Tensor noise = rng.next();
  return run_sampler(plan, model, guidance, schedule, img2img_start(plan, schedule, init_latent, noise),
                     [&rng]() { return rng.next(); }, callback);
}

}  // namespace sd
