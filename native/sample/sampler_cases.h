// Conformance runners for the "sampler" and "img2img" case kinds
// (test/fixtures/README.md), written against the networks' interfaces so the
// model code can plug its UNet, VAE and text encoder in, and a "replay" check
// that needs no network at all.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "conformance/conformance.h"
#include "sample/guidance.h"

namespace sd {

// What the sampler and img2img cases need from the networks.
struct SamplerCaseModels {
  EpsModel* unet = nullptr;  // borrowed
  // image [N, 3, H, W] in [-1, 1] (before clamping) = decode_first_stage(latent)
  std::function<Tensor(const Tensor& latent)> decode_first_stage;
  // 0.18215 * posterior mean of the VAE encoder for image [N, 3, H, W] in [-1, 1]
  std::function<Tensor(const Tensor& image)> encode_first_stage;
  // Optional: conditioning [N, 77, D] for token ids [N, 77]; without it the
  // cases' stored contexts are used (testing the sampler alone).
  std::function<Tensor(const Tensor& input_ids)> encode_text;
};

// Registration (native/conformance/runners.cpp), once the networks exist:
//   {"sampler", [](CaseContext& c) { run_sampler_case(c, models_from(c.resources())); }},
//   {"img2img", [](CaseContext& c) { run_img2img_case(c, models_from(c.resources())); }},
void run_sampler_case(CaseContext& ctx, const SamplerCaseModels& models);
void run_img2img_case(CaseContext& ctx, const SamplerCaseModels& models);

// The webui/CompVis conversion of a decoded image to 8 bits:
// uint8(trunc(255 * clamp((x + 1) / 2, 0, 1))) in float32, NCHW -> NHWC.
Tensor image_to_uint8_nhwc(const Tensor& image);

// Replays the sampler cases whose trajectories the fixtures record (Euler,
// Euler a, DPM++ 2M, DPM++ 2M Karras, LMS, DDIM): the denoiser returns the
// recorded prediction of each step, so the sampler's own arithmetic, schedule
// and noise handling are checked against the reference without a UNet. The
// img2img cases check their noised starting latent from the recorded init
// latent. One result per case, judged by the cases' tolerances.
std::vector<CaseResult> run_sampler_replay(const std::string& fixture_dir,
                                           const std::function<void(const CaseResult&)>& on_result = {});

}  // namespace sd
