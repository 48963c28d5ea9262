// Classifier-free guidance: how the samplers' denoiser callbacks are built from
// the UNet (an EpsModel, implemented by the model code) and the prompt and
// negative-prompt conditionings.
//   k-diffusion family (the webui's CFGDenoiser over k-diffusion's
//   CompVisDenoiser): one UNet batch [cond rows..., uncond rows...];
//   eps = UNet(x / sqrt(sigma^2 + 1), sigma_to_t(sigma)), D = x - sigma eps per
//   row, then D = D_u + sum_k (D_c,k - D_u) * (w_k * scale).
//   DDIM/PLMS (CompVis): one UNet batch [uncond, cond] at the integer
//   timestep, eps = e_u + (e_c - e_u) * scale.
#pragma once

#include <vector>

#include "core/tensor.h"
#include "sample/samplers.h"
#include "sample/schedule.h"

namespace sd {

// The UNet as the samplers need it.
class EpsModel {
 public:
  virtual ~EpsModel() = default;
  // eps = UNet(x, t, context): x [N, 4, h, w] host float32, t the N DDPM
  // timesteps (fractional for k-diffusion samplers), context [N, L, D].
  // Returns [N, 4, h, w] host float32. May throw sd::Cancelled.
  virtual Tensor eps(const Tensor& x, const std::vector<float>& t, const Tensor& context) = 0;
};

struct Guidance {
  Tensor cond;    // [Nc, L, D]: the prompts' conditionings, image by image
  Tensor uncond;  // [B, L', D]: the negative prompt's, one per image (L' may differ from L)
  float scale = 7.5f;
  // Weights of each image's cond rows (the webui's "AND" sub-prompts, which
  // take consecutive rows). Empty: one row per image with weight 1.
  std::vector<std::vector<float>> cond_weights;
  // Run cond and uncond in one UNet call (the webui's default). false makes
  // two calls with half the batch (its --medvram/--lowvram behaviour); the
  // results are the same up to rounding. Contexts of different lengths are
  // always run separately.
  bool one_batch = true;
};

// The guided D(x; sigma) for the k-diffusion samplers. `model` and `schedule`
// are borrowed and must outlive the returned function.
Denoiser make_kdiffusion_denoiser(EpsModel& model, const NoiseSchedule& schedule, Guidance guidance);

// The guided eps(x; t) for DDIM / PLMS (`model` borrowed). uncond_first: CompVis' batch order
// [uncond, cond] (the webui puts cond first; the guided result is the same).
EpsPredictor make_eps_guidance(EpsModel& model, Guidance guidance, bool uncond_first = true);

}  // namespace sd
