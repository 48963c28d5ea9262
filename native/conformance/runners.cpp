// Which case kinds the engine can run. A kind missing here is reported as
// "not implemented" (and counted as failed), never silently skipped.
#include <map>

#include "conformance/cases.h"
#include "sample/sampler_cases.h"

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
      {"sampler", [](CaseContext& c) { run_sampler_case(c, sampler_models(c.resources().model())); }},
      {"img2img", [](CaseContext& c) { run_img2img_case(c, sampler_models(c.resources().model())); }},
  };
  const auto it = runners.find(kind);
  return it == runners.end() ? nullptr : &it->second;
}

}  // namespace sd
