// txt2img and img2img sampling as the webui runs them: sampler and schedule
// resolution, the sigma / timestep schedule, the starting latent, the noise
// draws, classifier-free guidance, and the sampler loop. The networks stay
// outside: the UNet is an EpsModel; VAE encoding (img2img's init latent) and
// decoding happen before and after.
#pragma once

#include <cmath>
#include <limits>
#include <string>

#include "sample/guidance.h"
#include "sample/noise_source.h"
#include "sample/sampler_table.h"
#include "sample/samplers.h"
#include "sample/schedule.h"

namespace sd {

struct SamplingRequest {
  std::string sampler = "Euler a";  // webui name or alias; "DPM++ 2M Karras" style accepted
  std::string scheduler;            // webui schedule type; "" = Automatic (the sampler's default)
  int steps = 20;
  // Ancestral/SDE/DDIM eta; NaN = the webui default (1 for k-diffusion,
  // 0 for DDIM).
  float eta = std::numeric_limits<float>::quiet_NaN();
  float s_churn = 0.0f, s_tmin = 0.0f, s_tmax = 0.0f /* 0 = infinity */, s_noise = 1.0f;
  SigmaOptions sigma_options;              // the webui's sigma min/max/rho settings
  bool always_discard_next_to_last_sigma = false;
  // DDIM/PLMS: the webui's own implementation (1.6+), which runs one step
  // fewer than CompVis' DDIMSampler/PLMSSampler; false = CompVis.
  bool webui_timestep_samplers = true;
  // img2img
  float denoising_strength = 0.75f;
  bool img2img_fix_steps = false;
};

// Everything a request resolves to before sampling (exposed for tests and
// the infotext: the effective schedule, eta and step count).
struct SamplingPlan {
  ResolvedSampler resolved;
  float eta = 0;
  KSamplerOptions k_options;
  std::vector<float> sigmas;  // k-diffusion: the sigmas run (img2img: the tail)
  TimestepRun timestep_run;   // DDIM/PLMS
  int t_enc = -1;             // img2img: steps of the full schedule that run
  int total_steps = 0;        // sampler steps (progress total)
};

// txt2img plan; img2img when `img2img` is set.
SamplingPlan plan_sampling(const SamplingRequest& request, const NoiseSchedule& schedule, bool img2img);

// The latent a txt2img run starts from: noise * sigmas[0] for k-diffusion,
// the noise itself for DDIM/PLMS. noise: [B, 4, h, w], unit variance.
Tensor txt2img_start(const SamplingPlan& plan, const Tensor& noise);

// img2img's starting latent: init_latent ([B, 4, h, w], 0.18215 * VAE latent)
// noised to the plan's first level: init + noise * sigma (k-diffusion), or
// sqrt(a) init + sqrt(1 - a) noise at DDIM timestep index t_enc.
Tensor img2img_start(const SamplingPlan& plan, const NoiseSchedule& schedule, const Tensor& init_latent,
                     const Tensor& noise);

// Runs the plan's sampler from `start`; extra_noise serves its further draws.
Tensor run_sampler(const SamplingPlan& plan, EpsModel& model, const Guidance& guidance, const NoiseSchedule& schedule,
                   Tensor start, const NoiseFn& extra_noise, const StepCallback& callback = {});

// The same, drawing noise as the webui does: the first ImageRNG draw is the
// initial noise, later draws serve the sampler.
Tensor sample_txt2img(const SamplingPlan& plan, EpsModel& model, const Guidance& guidance,
                      const NoiseSchedule& schedule, ImageRNG& rng, const StepCallback& callback = {});
Tensor sample_img2img(const SamplingPlan& plan, EpsModel& model, const Guidance& guidance,
                      const NoiseSchedule& schedule, const Tensor& init_latent, ImageRNG& rng,
                      const StepCallback& callback = {});

}  // namespace sd
