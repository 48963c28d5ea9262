// Which case kinds the engine can run. A kind missing here is reported as
// "not implemented" (and counted as failed), never silently skipped.
#include <map>

#include "conformance/cases.h"

namespace sd {

const CaseRunner* find_case_runner(const std::string& kind) {
  static const std::map<std::string, CaseRunner> runners = {
      {"text_encoder", run_text_encoder_case},
      {"text_encoder_chunked", run_text_encoder_chunked_case},
      {"unet", run_unet_case},
      {"vae_decode", run_vae_decode_case},
      {"vae_encode", run_vae_encode_case},
      {"tokenizer", run_tokenizer_case},
      {"tokenizer_ftfy", run_tokenizer_case},
      {"tokenizer_a1111_chunks", run_tokenizer_a1111_chunks_case},
      {"schedule", run_schedule_case},
      {"torch_randn_cpu", run_torch_randn_cpu_case},
      {"philox_randn", run_philox_randn_case},
      // "sampler" and "img2img" need the UNet, VAE and text encoder: their
      // runners are run_sampler_case / run_img2img_case (sample/sampler_cases.h),
      // which take the networks as a SamplerCaseModels. Register them once
      // Resources can provide those, e.g.
      //   {"sampler", [](CaseContext& c) { run_sampler_case(c, sampler_models(c.resources())); }},
      //   {"img2img", [](CaseContext& c) { run_img2img_case(c, sampler_models(c.resources())); }},
      // Until then `sd-driver sampler-replay` checks the samplers alone.
  };
  const auto it = runners.find(kind);
  return it == runners.end() ? nullptr : &it->second;
}

}  // namespace sd
