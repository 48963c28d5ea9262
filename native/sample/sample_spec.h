// A JSON-in / JSON-out sampling run with an analytic UNet, for testing the
// samplers against independent implementations (`sd-driver sample --spec`).
//
// The analytic model is the exact denoiser of Gaussian data: each latent
// element is N(mu, variance), with mu = mu_cond for prompt rows and mu_uncond
// for negative-prompt rows, so guided sampling has closed forms. Its eps at
// DDPM timestep t (a = 1 / (1 + sigma(t)^2)) is
//   sqrt(1 - a) (x - sqrt(a) mu) / (a variance + 1 - a).
//
// Spec (all lists flat, row-major):
//   shape [B, C, H, W]; mode "txt2img" | "img2img"; sampler, scheduler, steps,
//   eta, s_churn, s_tmin, s_tmax, s_noise, sigma_min, sigma_max, rho,
//   webui_timestep_samplers, denoising_strength, img2img_fix_steps,
//   always_discard_next_to_last_sigma (as SamplingRequest);
//   model: {mu_cond, mu_uncond: C*H*W values or one, variance, cfg_scale};
//   noise: B*C*H*W values and extra_noise: [[...], ...] (each draw in order),
//     or rng: {source: "gpu"|"cpu", seeds: [...], eta_noise_seed_delta};
//   init_latent (img2img); trajectory: true for per-step x and denoised;
//   cancel_after: k to cancel from the step callback after k steps.
// Result: {latent (null when cancelled), start, sigmas | timesteps, t_enc,
//   total_steps, completed_steps, cancelled, model_calls, draws, steps?}.
#pragma once

#include "core/json.h"

namespace sd {

Json run_sample_spec(const Json& spec);

}  // namespace sd
