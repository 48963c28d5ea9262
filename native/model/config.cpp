#include "model/config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "io/checkpoint.h"

namespace sd {

ModelConfig ModelConfig::sd15() { return ModelConfig{}; }

namespace {

int get_int(const Json& obj, const char* key, int fallback) {
  const Json* v = obj.find(key);
  return v && !v->is_null() ? static_cast<int>(v->as_int(key)) : fallback;
}

double get_double(const Json& obj, const char* key, double fallback) {
  const Json* v = obj.find(key);
  return v && !v->is_null() ? v->as_number(key) : fallback;
}

std::vector<int> get_ints(const Json& obj, const char* key, const std::vector<int>& fallback) {
  const Json* v = obj.find(key);
  if (!v || v->is_null()) return fallback;
  std::vector<int> out;
  for (const Json& x : v->as_array(key)) out.push_back(static_cast<int>(x.as_int(key)));
  return out;
}

Json ints(const std::vector<int>& v) {
  Json a = Json::array();
  for (const int x : v) a.push(Json::number(x));
  return a;
}

}  // namespace

ModelConfig ModelConfig::from_json(const Json& j) {
  ModelConfig c;
  SD_CHECK(j.is_object(), "model config must be a JSON object");
  if (const Json* name = j.find("name"); name && name->is_string()) c.name = name->as_string();
  if (const Json* u = j.find("unet")) {
    c.unet.in_channels = get_int(*u, "in_channels", c.unet.in_channels);
    c.unet.out_channels = get_int(*u, "out_channels", c.unet.out_channels);
    c.unet.model_channels = get_int(*u, "model_channels", c.unet.model_channels);
    c.unet.channel_mult = get_ints(*u, "channel_mult", c.unet.channel_mult);
    c.unet.num_res_blocks = get_int(*u, "num_res_blocks", c.unet.num_res_blocks);
    c.unet.attention_resolutions = get_ints(*u, "attention_resolutions", c.unet.attention_resolutions);
    c.unet.num_heads = get_int(*u, "num_heads", c.unet.num_heads);
    c.unet.num_head_channels = get_int(*u, "num_head_channels", c.unet.num_head_channels);
    c.unet.transformer_depth = get_int(*u, "transformer_depth", c.unet.transformer_depth);
    c.unet.context_dim = get_int(*u, "context_dim", c.unet.context_dim);
  }
  if (const Json* v = j.find("vae")) {
    c.vae.embed_dim = get_int(*v, "embed_dim", c.vae.embed_dim);
    const Json& dd = v->find("ddconfig") ? v->at("ddconfig") : *v;
    c.vae.ch = get_int(dd, "ch", c.vae.ch);
    c.vae.ch_mult = get_ints(dd, "ch_mult", c.vae.ch_mult);
    c.vae.num_res_blocks = get_int(dd, "num_res_blocks", c.vae.num_res_blocks);
    c.vae.z_channels = get_int(dd, "z_channels", c.vae.z_channels);
    if (const Json* dz = dd.find("double_z")) c.vae.double_z = dz->as_bool("double_z");
    c.vae.in_channels = get_int(dd, "in_channels", c.vae.in_channels);
    c.vae.out_ch = get_int(dd, "out_ch", c.vae.out_ch);
    c.vae.attn_resolutions = get_ints(dd, "attn_resolutions", c.vae.attn_resolutions);
    c.vae.resolution = get_int(dd, "resolution", c.vae.resolution);
  }
  if (const Json* t = j.find("clip")) {
    c.clip.vocab_size = get_int(*t, "vocab_size", c.clip.vocab_size);
    c.clip.max_position_embeddings = get_int(*t, "max_position_embeddings", c.clip.max_position_embeddings);
    c.clip.hidden_size = get_int(*t, "hidden_size", c.clip.hidden_size);
    c.clip.num_hidden_layers = get_int(*t, "num_hidden_layers", c.clip.num_hidden_layers);
    c.clip.num_attention_heads = get_int(*t, "num_attention_heads", c.clip.num_attention_heads);
    c.clip.intermediate_size = get_int(*t, "intermediate_size", c.clip.intermediate_size);
    if (const Json* act = t->find("hidden_act")) c.clip.hidden_act = act->as_string("hidden_act");
    c.clip.layer_norm_eps = get_double(*t, "layer_norm_eps", c.clip.layer_norm_eps);
    c.clip.bos_token_id = get_int(*t, "bos_token_id", c.clip.bos_token_id);
    c.clip.eos_token_id = get_int(*t, "eos_token_id", c.clip.eos_token_id);
    c.clip.pad_token_id = get_int(*t, "pad_token_id", c.clip.pad_token_id);
  }
  if (const Json* d = j.find("diffusion")) {
    c.diffusion.timesteps = get_int(*d, "timesteps", c.diffusion.timesteps);
    c.diffusion.linear_start = get_double(*d, "linear_start", c.diffusion.linear_start);
    c.diffusion.linear_end = get_double(*d, "linear_end", c.diffusion.linear_end);
    if (const Json* p = d->find("parameterization")) c.diffusion.parameterization = p->as_string("parameterization");
    c.diffusion.scale_factor = get_double(*d, "scale_factor", c.diffusion.scale_factor);
    if (const Json* bs = d->find("beta_schedule"); bs && bs->is_string())
      SD_CHECK(bs->as_string() == "linear" || bs->as_string() == "scaled_linear", "unsupported beta_schedule \"",
               bs->as_string(), "\" (SD 1.x uses \"linear\")");
  }
  SD_CHECK(c.diffusion.parameterization == "eps", "unsupported parameterization \"", c.diffusion.parameterization,
           "\": only SD 1.x eps-prediction models are supported");
  SD_CHECK(c.unet.model_channels > 0 && !c.unet.channel_mult.empty() && c.unet.num_res_blocks > 0,
           "invalid UNet configuration");
  SD_CHECK(c.unet.num_heads > 0 || c.unet.num_head_channels > 0, "invalid UNet head configuration");
  return c;
}

Json ModelConfig::to_json() const {
  Json j = Json::object();
  j.set("name", Json::string(name));
  Json u = Json::object();
  u.set("in_channels", Json::number(unet.in_channels));
  u.set("out_channels", Json::number(unet.out_channels));
  u.set("model_channels", Json::number(unet.model_channels));
  u.set("channel_mult", ints(unet.channel_mult));
  u.set("num_res_blocks", Json::number(unet.num_res_blocks));
  u.set("attention_resolutions", ints(unet.attention_resolutions));
  u.set("num_heads", Json::number(unet.num_heads));
  u.set("num_head_channels", Json::number(unet.num_head_channels));
  u.set("transformer_depth", Json::number(unet.transformer_depth));
  u.set("context_dim", Json::number(unet.context_dim));
  j.set("unet", u);
  Json dd = Json::object();
  dd.set("ch", Json::number(vae.ch));
  dd.set("ch_mult", ints(vae.ch_mult));
  dd.set("num_res_blocks", Json::number(vae.num_res_blocks));
  dd.set("z_channels", Json::number(vae.z_channels));
  dd.set("double_z", Json::boolean(vae.double_z));
  dd.set("in_channels", Json::number(vae.in_channels));
  dd.set("out_ch", Json::number(vae.out_ch));
  dd.set("attn_resolutions", ints(vae.attn_resolutions));
  dd.set("resolution", Json::number(vae.resolution));
  Json v = Json::object();
  v.set("embed_dim", Json::number(vae.embed_dim));
  v.set("ddconfig", dd);
  j.set("vae", v);
  Json c = Json::object();
  c.set("vocab_size", Json::number(clip.vocab_size));
  c.set("max_position_embeddings", Json::number(clip.max_position_embeddings));
  c.set("hidden_size", Json::number(clip.hidden_size));
  c.set("num_hidden_layers", Json::number(clip.num_hidden_layers));
  c.set("num_attention_heads", Json::number(clip.num_attention_heads));
  c.set("intermediate_size", Json::number(clip.intermediate_size));
  c.set("hidden_act", Json::string(clip.hidden_act));
  c.set("layer_norm_eps", Json::number(clip.layer_norm_eps));
  c.set("bos_token_id", Json::number(clip.bos_token_id));
  c.set("eos_token_id", Json::number(clip.eos_token_id));
  c.set("pad_token_id", Json::number(clip.pad_token_id));
  j.set("clip", c);
  Json d = Json::object();
  d.set("timesteps", Json::number(diffusion.timesteps));
  d.set("beta_schedule", Json::string("linear"));
  d.set("linear_start", Json::number(diffusion.linear_start));
  d.set("linear_end", Json::number(diffusion.linear_end));
  d.set("parameterization", Json::string(diffusion.parameterization));
  d.set("scale_factor", Json::number(diffusion.scale_factor));
  j.set("diffusion", d);
  return j;
}

}  // namespace sd
