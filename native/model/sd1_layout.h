// Every tensor of an SD 1.x single-file checkpoint, by key, shape and type,
// as v1-5-pruned-emaonly.safetensors holds them (CompVis LatentDiffusion
// state dict: UNetModel, AutoencoderKL, transformers CLIPTextModel, and the
// 12 DDPM schedule buffers). Derived from a ModelConfig, so it describes the
// tiny test model and the full-size one alike.
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/config.h"

namespace sd {

struct TensorSpec {
  std::string name;
  Shape shape;
  DType dtype = DType::F32;
};

// The 12 schedule buffers LatentDiffusion registers (each [timesteps]).
const std::vector<std::string>& sd1_schedule_buffer_names();

// In module order (UNet, VAE, CLIP, schedule buffers), not sorted.
std::vector<TensorSpec> sd1_checkpoint_layout(const ModelConfig& config);

}  // namespace sd
