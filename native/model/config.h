// SD 1.x model configuration. Defaults are SD 1.5's
// (CompVis configs/stable-diffusion/v1-inference.yaml, and transformers'
// CLIPTextConfig of openai/clip-vit-large-patch14); field names follow those
// files so a config.json / safetensors "sd_config" maps one to one.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"

namespace sd {

class Checkpoint;

struct UNetConfig {
  int in_channels = 4;
  int out_channels = 4;
  int model_channels = 320;
  std::vector<int> channel_mult{1, 2, 4, 4};
  int num_res_blocks = 2;
  std::vector<int> attention_resolutions{4, 2, 1};  // downsampling factors with attention
  int num_heads = 8;           // fixed head count (dim_head = channels / num_heads) ...
  int num_head_channels = -1;  // ... unless this is > 0 (SD 2.x style)
  int transformer_depth = 1;
  int context_dim = 768;
};

struct VAEConfig {
  int embed_dim = 4;
  int ch = 128;
  std::vector<int> ch_mult{1, 2, 4, 4};
  int num_res_blocks = 2;
  int z_channels = 4;
  bool double_z = true;
  int in_channels = 3;
  int out_ch = 3;
  std::vector<int> attn_resolutions{};  // attention only in the mid blocks for SD 1.x
  int resolution = 256;
};

struct CLIPTextConfig {
  int vocab_size = 49408;
  int max_position_embeddings = 77;
  int hidden_size = 768;
  int num_hidden_layers = 12;
  int num_attention_heads = 12;
  int intermediate_size = 3072;
  std::string hidden_act = "quick_gelu";
  double layer_norm_eps = 1e-5;
  int bos_token_id = 49406;
  int eos_token_id = 49407;
  int pad_token_id = 49407;
};

struct DiffusionConfig {
  int timesteps = 1000;
  double linear_start = 0.00085;
  double linear_end = 0.012;
  std::string parameterization = "eps";
  double scale_factor = 0.18215;
};

struct ModelConfig {
  std::string name = "sd15";
  UNetConfig unet;
  VAEConfig vae;
  CLIPTextConfig clip;
  DiffusionConfig diffusion;

  static ModelConfig sd15();
  // From the fixture / sidecar format (config.json: unet, vae.ddconfig, clip, diffusion).
  static ModelConfig from_json(const Json& j);
  Json to_json() const;
};

// Key prefixes of the SD 1.x checkpoint layout.
constexpr const char* kUNetPrefix = "model.diffusion_model.";
constexpr const char* kVAEPrefix = "first_stage_model.";
constexpr const char* kCLIPPrefix = "cond_stage_model.transformer.text_model.";

// Works out the configuration of a checkpoint: its "sd_config" metadata, a
// config.json beside it, or else the architecture read from key names and
// shapes. Throws sd::Error naming what is missing for a non-SD-1.x file.
// (model/detect_config.cpp)
ModelConfig detect_model_config(const Checkpoint& ckpt);
// Same; `source` receives where the configuration came from: "metadata",
// the sidecar's path, or "inferred" (shapes only: head counts are not stored
// in the weights, so inference assumes SD 1.x's 8 UNet heads and CLIP's
// hidden/64 text heads).
ModelConfig detect_model_config(const Checkpoint& ckpt, std::string* source);
// Throws unless every tensor `config` needs is in `ckpt` with the expected
// shape (the schedule buffers and position_ids may be absent).
void check_config_matches(const Checkpoint& ckpt, const ModelConfig& config, const std::string& config_source);

}  // namespace sd
