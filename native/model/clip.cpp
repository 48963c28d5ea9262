#include "model/clip.h"

#include <cmath>

namespace sd {

CLIPTextModel::CLIPTextModel(const CLIPTextConfig& config, Backend& backend, WeightResidency& weights)
    : config_(config), backend_(backend), residency_(weights) {
  SD_CHECK(config_.hidden_act == "quick_gelu" || config_.hidden_act == "gelu", "unsupported CLIP activation \"",
           config_.hidden_act, "\"");
}

Tensor CLIPTextModel::layer(const Tensor& x, int index) {
  // x [B, T, C]; pre-LN: x += attn(ln1 x); x += mlp(ln2 x)
  const Weights w(residency_, concat(kCLIPPrefix, "encoder.layers.", index, "."));
  const float eps = static_cast<float>(config_.layer_norm_eps);
  const int heads = config_.num_attention_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(config_.hidden_size / heads));
  Tensor h = backend_.layer_norm(x, w("layer_norm1.weight"), w("layer_norm1.bias"), eps);
  const Tensor q = backend_.linear(h, w("self_attn.q_proj.weight"), &w("self_attn.q_proj.bias"));
  const Tensor k = backend_.linear(h, w("self_attn.k_proj.weight"), &w("self_attn.k_proj.bias"));
  const Tensor v = backend_.linear(h, w("self_attn.v_proj.weight"), &w("self_attn.v_proj.bias"));
  const Tensor a = backend_.attention(q, k, v, heads, scale, /*causal=*/true);
  Tensor x1 = backend_.linear(a, w("self_attn.out_proj.weight"), &w("self_attn.out_proj.bias"), &x);
  h = backend_.layer_norm(x1, w("layer_norm2.weight"), w("layer_norm2.bias"), eps);
  h = backend_.linear(h, w("mlp.fc1.weight"), &w("mlp.fc1.bias"));
  h = config_.hidden_act == "quick_gelu" ? backend_.quick_gelu(h) : backend_.gelu(h);
  return backend_.linear(h, w("mlp.fc2.weight"), &w("mlp.fc2.bias"), &x1);
}

Tensor CLIPTextModel::forward(const Tensor& ids, int clip_skip) {
  SD_CHECK(ids.ndim() == 2 && ids.dtype() == DType::I32, "text encoder: ids must be I32 [batch, tokens]");
  const int64_t batch = ids.dim(0), tokens = ids.dim(1);
  SD_CHECK(tokens <= config_.max_position_embeddings, "text encoder: ", tokens, " tokens, at most ",
           config_.max_position_embeddings);
  const int layers = config_.num_hidden_layers;
  SD_CHECK(clip_skip >= 1 && clip_skip <= layers, "clip skip must be between 1 and ", layers, ", got ", clip_skip);
  ScopeGuard scope(residency_, kCLIPPrefix);
  const Weights w(residency_, kCLIPPrefix);

  Tensor positions = Tensor::host({batch, tokens}, DType::I32);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < tokens; ++t) positions.data<int32_t>()[b * tokens + t] = static_cast<int32_t>(t);
  Tensor x = backend_.add(backend_.embedding(ids, w("embeddings.token_embedding.weight")),
                          backend_.embedding(positions, w("embeddings.position_embedding.weight")));
  for (int i = 0; i < layers - (clip_skip - 1); ++i) x = layer(x, i);
  x = backend_.layer_norm(x, w("final_layer_norm.weight"), w("final_layer_norm.bias"),
                          static_cast<float>(config_.layer_norm_eps));
  return backend_.download(x);
}

}  // namespace sd
