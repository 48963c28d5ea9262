#pragma once

#include <napi.h>

#include <atomic>
#include <memory>

namespace sd {
class StableDiffusion;
class ClipTokenizer;
}

namespace sd_addon {

struct GenerateState {
  sd::StableDiffusion* model = nullptr;           // borrowed from the Model object
  std::shared_ptr<sd::ClipTokenizer> tokenizer;   // loaded once per model
  std::string vocab_path;
  std::atomic<int> stop{0};
};

// model.generate(request, onStep?) -> Promise<{pixels, batch, width, height, interrupted, plan}>
// `state` must stay valid for the job's life (held by the Model object).
Napi::Value start_generate(const Napi::CallbackInfo& info, std::shared_ptr<GenerateState> state,
                           std::function<void()> done);

}  // namespace sd_addon
