// detect_model_config: which SD 1.x model a checkpoint holds, or a clear
// error saying what else it is (SD 2.x, SDXL, inpainting, LoRA, VAE, ...).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "core/error.h"
#include "io/checkpoint.h"
#include "model/config.h"
#include "model/sd1_layout.h"

namespace sd {

namespace {

constexpr const char* kSupported = "this engine runs SD 1.x models (SD 1.4, SD 1.5 and their fine-tunes)";

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }
bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

class KeyIndex {
 public:
  explicit KeyIndex(const Checkpoint& ckpt) : ckpt_(ckpt) {
    for (const auto& t : ckpt.tensors()) by_name_.emplace(t.name, &t);
  }
  const StoredTensor* find(const std::string& name) const {
    const auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
  }
  bool has(const std::string& name) const { return find(name) != nullptr; }
  const Shape& shape(const std::string& name) const {
    const StoredTensor* t = find(name);
    SD_CHECK(t != nullptr, ckpt_.path(), " lacks \"", name, "\", which every SD 1.x checkpoint has");
    return t->shape;
  }
  int64_t dim(const std::string& name, size_t d, size_t rank) const {
    const Shape& s = shape(name);
    SD_CHECK(s.size() == rank, ckpt_.path(), ": \"", name, "\" has shape ", shape_str(s), ", not ", rank,
             " dimensions as in SD 1.x");
    return s[d];
  }
  bool any_prefix(const char* prefix) const {
    return std::any_of(by_name_.begin(), by_name_.end(), [&](const auto& kv) { return starts_with(kv.first, prefix); });
  }
  bool any_containing(const char* part) const {
    return std::any_of(by_name_.begin(), by_name_.end(), [&](const auto& kv) { return contains(kv.first, part); });
  }
  const std::string& path() const { return ckpt_.path(); }

 private:
  const Checkpoint& ckpt_;
  std::unordered_map<std::string, const StoredTensor*> by_name_;
};

// Refuses, by name, the files people most often mistake for an SD 1.x model.
void refuse_other_architectures(const KeyIndex& keys) {
  const std::string& path = keys.path();
  if (keys.any_prefix("conditioner.embedders.") || keys.has(std::string(kUNetPrefix) + "label_emb.0.0.weight"))
    fail(path, " is an SDXL checkpoint; ", kSupported);
  if (keys.any_prefix("cond_stage_model.model."))
    fail(path, " is an SD 2.x checkpoint (OpenCLIP text encoder); ", kSupported);
  if (keys.any_containing("lora_down") || keys.any_containing("lora_up") || keys.any_prefix("lora_unet_") ||
      keys.any_prefix("lora_te") || keys.any_containing(".lora_A.") || keys.any_containing(".lora_B."))
    fail(path, " is a LoRA, which modifies a model rather than being one; load an SD 1.x checkpoint (LoRAs are not "
               "supported yet)");
  if (keys.any_prefix("string_to_param") || keys.has("emb_params"))
    fail(path, " is a textual-inversion embedding, not a model; load an SD 1.x checkpoint");
  if (!keys.any_prefix(kUNetPrefix)) {
    if (keys.any_prefix("encoder.") && keys.any_prefix("decoder."))
      fail(path, " is a VAE on its own, not a full model; load an SD 1.x checkpoint (separate VAE files are not "
                 "supported yet)");
    if (keys.any_prefix("down_blocks.") || keys.any_prefix("text_model.") || keys.any_prefix("decoder.up_blocks."))
      fail(path, " is one component of a diffusers-format model; use a single-file .safetensors/.ckpt checkpoint");
    fail(path, " has no UNet weights (model.diffusion_model.*), so it is not a Stable Diffusion checkpoint");
  }
  if (!keys.any_prefix(kVAEPrefix)) fail(path, " has no VAE weights (first_stage_model.*); it is not a complete SD 1.x model");
  if (!keys.any_prefix(kCLIPPrefix) && keys.any_prefix("cond_stage_model.transformer.embeddings."))
    fail(path, " uses the CLIP key names of transformers < 4.19 (cond_stage_model.transformer.embeddings.*), "
               "which are not supported yet; re-save it with a current tool or use another copy of the model");
  if (!keys.any_prefix(kCLIPPrefix))
    fail(path, " has no CLIP text encoder (cond_stage_model.transformer.text_model.*); it is not a complete SD 1.x model");
  const std::string conv_in = std::string(kUNetPrefix) + "input_blocks.0.0.weight";
  const int64_t in_channels = keys.dim(conv_in, 1, 4);
  if (in_channels == 9)
    fail(path, " is an inpainting model (9 UNet input channels), which is not supported yet; ", kSupported);
  if (in_channels == 8) fail(path, " is an InstructPix2Pix model (8 UNet input channels); ", kSupported);
  if (in_channels != 4) fail(path, " has a UNet with ", in_channels, " input channels (SD 1.x has 4); ", kSupported);
  const std::string proj_in = std::string(kUNetPrefix) + "middle_block.1.proj_in.weight";
  if (keys.has(proj_in) && keys.shape(proj_in).size() == 2)
    fail(path, " is an SD 2.x-style model (linear proj_in); ", kSupported);
  const std::string to_k = std::string(kUNetPrefix) + "middle_block.1.transformer_blocks.0.attn2.to_k.weight";
  if (keys.has(to_k) && keys.shape(to_k).size() == 2 && keys.shape(to_k)[1] == 1024)
    fail(path, " is an SD 2.x model (1024-wide text conditioning); ", kSupported);
}

int exact_ratio(int64_t value, int64_t unit, const std::string& what, const std::string& path) {
  SD_CHECK(unit > 0 && value > 0 && value % unit == 0, path, ": ", what, " (", value, ") is not a multiple of ", unit,
           "; the model does not have the SD 1.x layout");
  return static_cast<int>(value / unit);
}

ModelConfig infer_from_shapes(const KeyIndex& keys) {
  const std::string& path = keys.path();
  ModelConfig c;
  const std::string u = kUNetPrefix;
  const std::string ib = u + "input_blocks.";
  UNetConfig& unet = c.unet;
  unet.in_channels = static_cast<int>(keys.dim(ib + "0.0.weight", 1, 4));
  unet.model_channels = static_cast<int>(keys.dim(ib + "0.0.weight", 0, 4));
  unet.out_channels = static_cast<int>(keys.dim(u + "out.2.weight", 0, 4));
  // Input blocks: res blocks per level, split by downsamplers (".0.op").
  std::vector<std::vector<int>> level_widths(1);
  std::vector<bool> level_attention{false};
  for (int n = 1;; ++n) {
    const std::string b = ib + std::to_string(n);
    if (keys.has(b + ".0.op.weight")) {
      level_widths.emplace_back();
      level_attention.push_back(false);
    } else if (keys.has(b + ".0.in_layers.2.weight")) {
      level_widths.back().push_back(static_cast<int>(keys.dim(b + ".0.in_layers.2.weight", 0, 4)));
      if (keys.has(b + ".1.proj_in.weight")) level_attention.back() = true;
    } else {
      break;
    }
  }
  unet.num_res_blocks = static_cast<int>(level_widths[0].size());
  SD_CHECK(unet.num_res_blocks > 0, path, ": the UNet has no residual blocks after input_blocks.0");
  unet.channel_mult.clear();
  unet.attention_resolutions.clear();
  for (size_t level = 0; level < level_widths.size(); ++level) {
    const auto& widths = level_widths[level];
    SD_CHECK(static_cast<int>(widths.size()) == unet.num_res_blocks && widths.front() == widths.back(), path,
             ": the UNet's levels have different numbers or widths of blocks; not the SD 1.x layout");
    unet.channel_mult.push_back(exact_ratio(widths.front(), unet.model_channels, "a UNet level width", path));
    // Listed largest first, as v1-inference.yaml writes [4, 2, 1].
    if (level_attention[level]) unet.attention_resolutions.insert(unet.attention_resolutions.begin(), 1 << level);
  }
  const std::string mid = u + "middle_block.1.transformer_blocks.";
  unet.transformer_depth = 0;
  while (keys.has(mid + std::to_string(unet.transformer_depth) + ".norm1.weight")) ++unet.transformer_depth;
  SD_CHECK(unet.transformer_depth > 0, path, ": the UNet's middle block has no transformer");
  unet.context_dim = static_cast<int>(keys.dim(mid + "0.attn2.to_k.weight", 1, 2));
  unet.num_heads = 8;  // SD 1.x: a fixed count of 8 heads (not stored in the weights)
  unet.num_head_channels = -1;
  for (const int m : unet.channel_mult)
    SD_CHECK(unet.model_channels * m % unet.num_heads == 0, path,
             ": UNet widths are not divisible into 8 attention heads; add a config.json describing the model");

  VAEConfig& vae = c.vae;
  const std::string e = std::string(kVAEPrefix) + "encoder.";
  const std::string d = std::string(kVAEPrefix) + "decoder.";
  vae.ch = static_cast<int>(keys.dim(e + "conv_in.weight", 0, 4));
  vae.in_channels = static_cast<int>(keys.dim(e + "conv_in.weight", 1, 4));
  vae.ch_mult.clear();
  vae.attn_resolutions.clear();
  for (int level = 0; keys.has(e + "down." + std::to_string(level) + ".block.0.conv1.weight"); ++level) {
    const std::string b = e + "down." + std::to_string(level);
    vae.ch_mult.push_back(exact_ratio(keys.dim(b + ".block.0.conv1.weight", 0, 4), vae.ch, "a VAE level width", path));
    if (keys.has(b + ".attn.0.q.weight")) vae.attn_resolutions.push_back(vae.resolution >> level);
  }
  SD_CHECK(!vae.ch_mult.empty(), path, ": the VAE encoder has no levels");
  vae.num_res_blocks = 0;
  while (keys.has(e + "down.0.block." + std::to_string(vae.num_res_blocks) + ".conv1.weight")) ++vae.num_res_blocks;
  vae.z_channels = static_cast<int>(keys.dim(d + "conv_in.weight", 1, 4));
  vae.double_z = keys.dim(e + "conv_out.weight", 0, 4) == 2 * vae.z_channels;
  vae.embed_dim = static_cast<int>(keys.dim(std::string(kVAEPrefix) + "post_quant_conv.weight", 1, 4));
  vae.out_ch = static_cast<int>(keys.dim(d + "conv_out.weight", 0, 4));

  CLIPTextConfig& clip = c.clip;
  const std::string t = kCLIPPrefix;
  clip.vocab_size = static_cast<int>(keys.dim(t + "embeddings.token_embedding.weight", 0, 2));
  clip.hidden_size = static_cast<int>(keys.dim(t + "embeddings.token_embedding.weight", 1, 2));
  clip.max_position_embeddings = static_cast<int>(keys.dim(t + "embeddings.position_embedding.weight", 0, 2));
  clip.num_hidden_layers = 0;
  while (keys.has(t + "encoder.layers." + std::to_string(clip.num_hidden_layers) + ".mlp.fc1.weight"))
    ++clip.num_hidden_layers;
  SD_CHECK(clip.num_hidden_layers > 0, path, ": the CLIP text encoder has no layers");
  clip.intermediate_size = static_cast<int>(keys.dim(t + "encoder.layers.0.mlp.fc1.weight", 0, 2));
  // CLIP text models use 64-wide heads (ViT-L/14: 768 / 64 = 12); not stored in the weights.
  clip.num_attention_heads = clip.hidden_size % 64 == 0 ? clip.hidden_size / 64 : 1;

  const ModelConfig sd15 = ModelConfig::sd15();
  const bool standard = unet.model_channels == sd15.unet.model_channels && unet.channel_mult == sd15.unet.channel_mult &&
                        unet.num_res_blocks == sd15.unet.num_res_blocks && unet.context_dim == sd15.unet.context_dim &&
                        vae.ch == sd15.vae.ch && vae.ch_mult == sd15.vae.ch_mult &&
                        clip.hidden_size == sd15.clip.hidden_size && clip.num_hidden_layers == sd15.clip.num_hidden_layers;
  c.name = standard ? "sd1" : "sd1-custom";
  return c;
}

ModelConfig config_from_text(const std::string& text, const std::string& source) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Error& e) {
    fail(source, " is not valid JSON: ", e.what());
  }
  try {
    return ModelConfig::from_json(j);
  } catch (const Error& e) {
    fail(source, ": ", e.what());
  }
}

// "<stem>.config.json", then "config.json" in the checkpoint's folder; the
// generic name only counts when it is in our format (has a "unet" object), so
// an unrelated config.json (e.g. a diffusers one) is not mistaken for it.
bool read_sidecar(const std::string& checkpoint_path, ModelConfig* out, std::string* where) {
  namespace fs = std::filesystem;
  const fs::path p = fs::u8path(checkpoint_path);
  const fs::path candidates[] = {p.parent_path() / (p.stem().u8string() + ".config.json"), p.parent_path() / "config.json"};
  for (size_t i = 0; i < 2; ++i) {
    std::error_code ec;
    if (!fs::is_regular_file(candidates[i], ec)) continue;
    if (fs::file_size(candidates[i], ec) > (1u << 20)) continue;
    std::ifstream in(candidates[i], std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    const std::string source = candidates[i].u8string();
    if (i == 1) {
      Json j;
      try {
        j = Json::parse(text.str());
      } catch (const Error&) {
        continue;
      }
      if (!j.is_object() || !j.find("unet") || !j.find("unet")->is_object()) continue;
    }
    *out = config_from_text(text.str(), source);
    *where = source;
    return true;
  }
  return false;
}

}  // namespace

void check_config_matches(const Checkpoint& ckpt, const ModelConfig& config, const std::string& config_source) {
  const KeyIndex keys(ckpt);
  const std::vector<TensorSpec> layout = sd1_checkpoint_layout(config);
  std::unordered_map<std::string, const TensorSpec*> expected;
  std::vector<std::string> missing;
  const std::string position_ids = std::string(kCLIPPrefix) + "embeddings.position_ids";
  const auto& schedule = sd1_schedule_buffer_names();
  for (const TensorSpec& spec : layout) {
    expected.emplace(spec.name, &spec);
    const StoredTensor* t = keys.find(spec.name);
    const bool optional = spec.name == position_ids || std::find(schedule.begin(), schedule.end(), spec.name) != schedule.end();
    if (t == nullptr) {
      if (!optional) missing.push_back(spec.name);
      continue;
    }
    // position_ids: shape-checked only (some merges stored it as floats).
    if (spec.name != position_ids && !is_float(t->dtype))
      fail(ckpt.path(), ": \"", spec.name, "\" is ", dtype_name(t->dtype), ", not a float tensor");
    if (t->shape != spec.shape)
      fail(ckpt.path(), ": \"", spec.name, "\" has shape ", shape_str(t->shape), ", but the configuration from ",
           config_source, " needs ", shape_str(spec.shape));
  }
  if (!missing.empty())
    fail(ckpt.path(), " lacks ", missing.size(), " tensor(s) of the SD 1.x model configured by ", config_source, ", e.g. \"",
         missing.front(), "\"; it is not a complete SD 1.x checkpoint");
  for (const auto& t : ckpt.tensors()) {
    const bool ours = starts_with(t.name, kUNetPrefix) || starts_with(t.name, kCLIPPrefix) ||
                      (starts_with(t.name, kVAEPrefix) && !starts_with(t.name, "first_stage_model.loss."));
    if (ours && expected.find(t.name) == expected.end())
      fail(ckpt.path(), " has \"", t.name, "\", which is not part of the SD 1.x model configured by ", config_source,
           "; it is a different architecture");
  }
}

ModelConfig detect_model_config(const Checkpoint& ckpt) { return detect_model_config(ckpt, nullptr); }

ModelConfig detect_model_config(const Checkpoint& ckpt, std::string* source) {
  const KeyIndex keys(ckpt);
  refuse_other_architectures(keys);
  ModelConfig config;
  std::string where;
  const std::string meta = ckpt.metadata("sd_config");
  if (!meta.empty()) {
    where = "its sd_config metadata";
    config = config_from_text(meta, ckpt.path() + ": " + where);
    if (source) *source = "metadata";
  } else if (read_sidecar(ckpt.path(), &config, &where)) {
    if (source) *source = where;
  } else {
    config = infer_from_shapes(keys);
    where = "the shapes of its tensors";
    if (source) *source = "inferred";
  }
  check_config_matches(ckpt, config, where);
  return config;
}

}  // namespace sd
