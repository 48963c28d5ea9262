// A loaded SD 1.x model: configuration, backend, resident weights and the
// three networks. The entry point the pipeline, the addon and sd-driver use.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "backend/backend.h"
#include "model/clip.h"
#include "model/config.h"
#include "model/residency.h"

namespace sd {

class UNetModel;
class VAEModel;

struct EngineOptions {
  std::string backend = "cpu";      // "cpu" or "cuda"
  DType weight_dtype = DType::F16;  // storage precision of the weights
  std::string memory_mode = "normal";  // "normal", "medvram", "lowvram"
  size_t weight_budget_bytes = 0;      // cap on resident weight bytes (0 = none)
  size_t device_budget_bytes = 0;      // CUDA: cap on all device memory (--vram-budget)
  bool half_activations = true;        // CUDA: fp16 activations (false = --no-half)
  int threads = 0;                  // 0 = default
  bool winograd = true;             // CPU: Winograd 3x3 convolutions (false: the direct sum, for comparisons)
};

DType parse_weight_dtype(const std::string& name);  // "f32" | "f16" | "bf16"

class StableDiffusion {
 public:
  // Loads `checkpoint_path`; `config` overrides detection (tests, sidecars).
  StableDiffusion(const std::string& checkpoint_path, const EngineOptions& options,
                  const ModelConfig* config = nullptr,
                  const std::function<void(const LoadProgress&)>& progress = {});
  ~StableDiffusion();

  const ModelConfig& config() const { return config_; }
  const EngineOptions& options() const { return options_; }
  Backend& backend() { return *backend_; }
  WeightResidency& residency() { return *residency_; }

  CLIPTextModel& text_encoder() { return *clip_; }
  UNetModel& unet() { return *unet_; }
  VAEModel& vae() { return *vae_; }

 private:
  ModelConfig config_;
  EngineOptions options_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<WeightResidency> residency_;
  std::unique_ptr<CLIPTextModel> clip_;
  std::unique_ptr<UNetModel> unet_;
  std::unique_ptr<VAEModel> vae_;
};

}  // namespace sd
