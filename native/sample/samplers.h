// The samplers, as functions of a denoiser callback only (no network code):
//   - k-diffusion's (crowsonkb/k-diffusion sampling.py at ab527a9, the commit
//     the webui pins): Euler, Euler a, Heun, DPM2, DPM2 a, LMS, DPM++ 2S a,
//     DPM++ 2M, DPM++ SDE, DPM++ 2M SDE, DPM++ 3M SDE, which see
//     D(x; sigma), the classifier-free-guided denoised prediction;
//   - DDIM and PLMS (CompVis ldm, and the webui's own versions of them), which
//     see eps(x; t), the guided noise prediction at DDPM timestep t.
// Latents are host float32 [B, C, H, W]; every update is written as the
// reference's sequence of float32 tensor operations.
#pragma once

#include <functional>
#include <limits>
#include <vector>

#include "core/tensor.h"
#include "sample/schedule.h"

namespace sd {

// Guided denoised prediction at noise level sigma (same shape as x).
using Denoiser = std::function<Tensor(const Tensor& x, float sigma)>;
// Guided noise prediction at DDPM timestep t (same shape as x).
using EpsPredictor = std::function<Tensor(const Tensor& x, float t)>;
// The next standard-normal tensor shaped like the latent batch (a sampler's
// extra noise: ImageRNG::next for a batch).
using NoiseFn = std::function<Tensor()>;

// What a sampler reports once per step (for progress, live previews and
// cancellation: the callback may throw sd::Cancelled to stop between steps).
struct SamplerStep {
  int index = 0;  // 0-based
  int total = 0;  // steps in this run
  float sigma = 0;  // k-diffusion: sigma of the step; DDIM/PLMS: its timestep
  // k-diffusion: x before the step; DDIM/PLMS: x after it (what each library
  // reports to its callback).
  const Tensor* x = nullptr;
  const Tensor* denoised = nullptr;  // the step's prediction of the clean latent
};
using StepCallback = std::function<void(const SamplerStep&)>;

// ---- k-diffusion ----------------------------------------------------------------

enum class KSampler {
  Euler,
  EulerAncestral,
  Heun,
  DPM2,
  DPM2Ancestral,
  LMS,
  DPMpp2SAncestral,
  DPMpp2M,
  DPMppSDE,
  DPMpp2MSDE,
  DPMpp3MSDE,
};

struct KSamplerOptions {
  // Ancestral / SDE samplers: eta (the webui's "Eta" for ancestral samplers,
  // default 1) and the noise multiplier.
  float eta = 1.0f;
  float s_noise = 1.0f;
  // Euler, Heun, DPM2: Karras et al. "churn" (0 = deterministic).
  float s_churn = 0.0f;
  float s_tmin = 0.0f;
  float s_tmax = std::numeric_limits<float>::infinity();
  int lms_order = 4;
  bool heun_solver = false;  // DPM++ 2M SDE: "heun" instead of "midpoint"
};

// Runs `kind` over sigmas (descending, normally ending in 0) from x, which must
// already be scaled to sigmas[0] (txt2img: noise * sigmas[0]). `noise` serves
// the extra draws (ancestral steps, churn, Brownian increments); it may be
// empty for deterministic samplers.
Tensor sample_k(KSampler kind, const Denoiser& model, Tensor x, const std::vector<float>& sigmas,
                const KSamplerOptions& options = {}, const NoiseFn& noise = {}, const StepCallback& callback = {});

bool k_sampler_uses_noise(KSampler kind, const KSamplerOptions& options);

// k-diffusion's linear_multistep_coeff: integral over [sigmas[i], sigmas[i+1]]
// of the Lagrange basis polynomial j through sigmas[i], ..., sigmas[i-order+1]
// (float64, exact for these polynomials).
double lms_coefficient(int order, const std::vector<float>& sigmas, int i, int j);

// ---- DDIM / PLMS -----------------------------------------------------------------

// Which DDIM/PLMS steps to run: index i steps from timesteps[i] (alpha
// alphas[i]) to alphas_prev[i], for i = first_index down to stop_index.
//   CompVis:            first = n - 1, stop = 0
//   webui 1.6+ (its own DDIM/PLMS, one step fewer): first = n - 1, stop = 1
//   img2img with t_enc: first = t_enc - 1 (CompVis stop 0, webui stop 1)
struct TimestepRun {
  DDIMParameters params;  // timesteps ascending with their alphas and sigmas(eta)
  int first_index = 0;
  int stop_index = 0;
};

// DDIM (eta = params' eta; noise is drawn only when it is non-zero).
Tensor sample_ddim(const EpsPredictor& model, Tensor x, const TimestepRun& run, const NoiseFn& noise = {},
                   const StepCallback& callback = {});

// PLMS: the first step is the 2-evaluation pseudo improved Euler, then
// Adams-Bashforth of order 2, 3, 4 on the previous plain eps values.
Tensor sample_plms(const EpsPredictor& model, Tensor x, const TimestepRun& run, const StepCallback& callback = {});

}  // namespace sd
