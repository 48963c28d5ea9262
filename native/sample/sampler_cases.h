// Conformance runners for the "sampler" and "img2img" case kinds
// (test/fixtures/README.md), written against the networks' interfaces so the
// model code can plug its UNet, VAE and text encoder in, and a "replay" check
// that needs no network at all.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "conformance/conformance.h"
#include "sample/guidance.h"

namespace sd {

// What the sampler and img2img cases need from the networks.
struct SamplerCaseModels {
  std::shared_ptr<EpsModel> unet;
  // image [N, 3, H, W] in [-1, 1] (before clamping) = decode_first_stage(latent)
  std::function<Tensor(const Tensor& latent)> decode_first_stage;
  // 0.18215 * posterior mean of the VAE encoder for image [N, 3, H, W] in [-1, 1]
  std::function<Tensor(const Tensor& image)> encode_first_stage;
  // Optional: conditioning [N, 77, D] for token ids [N, 77]; without it the
  // cases' stored contexts are used (testing the sampler alone).
  std::function<Tensor(const Tensor& input_ids)> encode_text;
};

void run_sampler_case(CaseContext& ctx, const SamplerCaseModels& models);
void run_img2img_case(CaseContext& ctx, const SamplerCaseModels& models);

class StableDiffusion;
// The loaded model's networks as the sampler cases use them (UNet as an
// EpsModel, decode_first_stage / encode_first_stage with the scale factor,
// the text encoder). The model must outlive the result.
SamplerCaseModels sampler_models(StableDiffusion& model);

// Replays the sampler cases whose trajectories the fixtures record (Euler,
// Euler a, DPM++ 2M, DPM++ 2M Karras, LMS, DDIM): the denoiser returns the
// recorded prediction of each step, so the sampler's own arithmetic, schedule
// and noise handling are checked against the reference without a UNet. The
// img2img cases check their noised starting latent from the recorded init
// latent. One result per case, judged by the cases' tolerances.
std::vector<CaseResult> run_sampler_replay(const std::string& fixture_dir,
                                           const std::function<void(const CaseResult&)>& on_result = {});

}  // namespace sd
