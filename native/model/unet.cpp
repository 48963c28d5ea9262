#include "model/unet.h"

#include <cmath>

namespace sd {

namespace {
constexpr int kGroups = 32;
constexpr float kResNormEps = 1e-5f;          // GroupNorm in ResBlocks and `out`
constexpr float kTransformerNormEps = 1e-6f;  // SpatialTransformer.norm
constexpr float kLayerNormEps = 1e-5f;
}  // namespace

UNetModel::UNetModel(const UNetConfig& config, Backend& backend, WeightResidency& weights)
    : config_(config), backend_(backend), residency_(weights) {
  for (size_t i = 0; i < config_.channel_mult.size(); ++i) {
    const int ds = 1 << i;
    bool attention = false;
    for (const int r : config_.attention_resolutions) attention = attention || r == ds;
    levels_.push_back({config_.model_channels * config_.channel_mult[i], attention});
  }
}

int UNetModel::heads_for(int channels) const {
  return config_.num_head_channels > 0 ? channels / config_.num_head_channels : config_.num_heads;
}

void UNetModel::checkpoint_between_blocks() {
  if (between_blocks) between_blocks();
}

Tensor UNetModel::timestep_embedding(const std::vector<float>& timesteps, int dim) {
  // torch: freqs = exp(-ln(10000) * arange(half, float32) / half); args = t * freqs; [cos, sin]
  const int half = dim / 2;
  const float neg_log_period = static_cast<float>(-std::log(10000.0));
  std::vector<float> freqs(static_cast<size_t>(half));
  for (int i = 0; i < half; ++i) freqs[static_cast<size_t>(i)] = std::exp(static_cast<float>(i) * neg_log_period / static_cast<float>(half));
  const int64_t b = static_cast<int64_t>(timesteps.size());
  Tensor emb = Tensor::host_zeros({b, dim});
  float* e = emb.data<float>();
  for (int64_t n = 0; n < b; ++n) {
    for (int i = 0; i < half; ++i) {
      const float arg = timesteps[static_cast<size_t>(n)] * freqs[static_cast<size_t>(i)];
      e[n * dim + i] = std::cos(arg);
      e[n * dim + half + i] = std::sin(arg);
    }
  }
  return emb;
}

Tensor UNetModel::res_block(const Weights& w, const Tensor& x, const Tensor& emb_silu) {
  // x [B, H, W, Cin] -> [B, H, W, Cout]
  Tensor h = backend_.group_norm(x, kGroups, w("in_layers.0.weight"), w("in_layers.0.bias"), kResNormEps, true);
  h = backend_.conv2d(h, w("in_layers.2.weight"), &w("in_layers.2.bias"), Conv2dParams::same(3));
  const Tensor e = backend_.linear(emb_silu, w("emb_layers.1.weight"), &w("emb_layers.1.bias"));  // [B, Cout]
  backend_.add_channel_vector(h, e);
  h = backend_.group_norm(h, kGroups, w("out_layers.0.weight"), w("out_layers.0.bias"), kResNormEps, true);
  Tensor skip = x;
  if (const DeviceWeight* sw = w.optional("skip_connection.weight"))
    skip = backend_.conv2d(x, *sw, &w("skip_connection.bias"), Conv2dParams::same(1));
  return backend_.conv2d(h, w("out_layers.3.weight"), &w("out_layers.3.bias"), Conv2dParams::same(3), &skip);
}

Tensor UNetModel::cross_attention(const Weights& w, const Tensor& x, const Tensor& context, const Tensor& residual,
                                  int heads) {
  // x [B, N, C]; context [B, T, Cctx] (x itself for self-attention)
  const Tensor q = backend_.linear(x, w("to_q.weight"), nullptr);
  const Tensor k = backend_.linear(context, w("to_k.weight"), nullptr);
  const Tensor v = backend_.linear(context, w("to_v.weight"), nullptr);
  const int64_t dim_head = q.dim(-1) / heads;
  const Tensor a = backend_.attention(q, k, v, heads, 1.0f / std::sqrt(static_cast<float>(dim_head)), false);
  return backend_.linear(a, w("to_out.0.weight"), &w("to_out.0.bias"), &residual);
}

Tensor UNetModel::spatial_transformer(const Weights& w, const Tensor& x, const Tensor& context) {
  // x [B, H, W, C]: NHWC is already the token layout [B, H*W, C].
  const int64_t b = x.dim(0), hh = x.dim(1), ww = x.dim(2), c = x.dim(3);
  const int heads = heads_for(static_cast<int>(c));
  Tensor h = backend_.group_norm(x, kGroups, w("norm.weight"), w("norm.bias"), kTransformerNormEps, false);
  h = backend_.conv2d(h, w("proj_in.weight"), &w("proj_in.bias"), Conv2dParams::same(1));
  h = h.reshape({b, hh * ww, c});
  for (int d = 0; d < config_.transformer_depth; ++d) {
    const Weights tb = w.sub(concat("transformer_blocks.", d, "."));
    Tensor n = backend_.layer_norm(h, tb("norm1.weight"), tb("norm1.bias"), kLayerNormEps);
    h = cross_attention(tb.sub("attn1."), n, n, h, heads);
    n = backend_.layer_norm(h, tb("norm2.weight"), tb("norm2.bias"), kLayerNormEps);
    h = cross_attention(tb.sub("attn2."), n, context, h, heads);
    n = backend_.layer_norm(h, tb("norm3.weight"), tb("norm3.bias"), kLayerNormEps);
    Tensor f = backend_.linear(n, tb("ff.net.0.proj.weight"), &tb("ff.net.0.proj.bias"));
    f = backend_.geglu(f);
    h = backend_.linear(f, tb("ff.net.2.weight"), &tb("ff.net.2.bias"), &h);
  }
  h = h.reshape({b, hh, ww, c});
  return backend_.conv2d(h, w("proj_out.weight"), &w("proj_out.bias"), Conv2dParams::same(1), &x);
}

Tensor UNetModel::forward(const Tensor& x, const std::vector<float>& timesteps, const Tensor& context) {
  SD_CHECK(x.ndim() == 4 && x.dim(1) == config_.in_channels, "UNet: input must be [B, ", config_.in_channels,
           ", H, W], got ", x.describe());
  const int64_t batch = x.dim(0);
  const int n_levels = static_cast<int>(levels_.size());
  SD_CHECK(x.dim(2) >= 1 && x.dim(3) >= 1, "UNet: empty latent");
  SD_CHECK(static_cast<int64_t>(timesteps.size()) == batch, "UNet: ", timesteps.size(), " timesteps for batch ", batch);
  SD_CHECK(context.ndim() == 3 && context.dim(0) == batch && context.dim(2) == config_.context_dim,
           "UNet: context must be [", batch, ", T, ", config_.context_dim, "], got ", context.describe());

  const std::string root = kUNetPrefix;
  ScopeGuard model_scope(residency_, root);
  const Weights w(residency_, root);
  const Tensor ctx = backend_.upload(context);

  Tensor emb = backend_.upload(timestep_embedding(timesteps, config_.model_channels));
  emb = backend_.linear(emb, w("time_embed.0.weight"), &w("time_embed.0.bias"));
  emb = backend_.silu(emb);
  emb = backend_.linear(emb, w("time_embed.2.weight"), &w("time_embed.2.bias"));
  const Tensor emb_silu = backend_.silu(emb);  // every ResBlock's emb_layers starts with SiLU

  // Block scopes in execution order, so a streaming policy can prefetch the next one.
  std::vector<std::string> order;
  const auto block = [&](const std::string& name) {
    order.push_back(root + name);
    return order.back();
  };
  int n_input = 1;
  for (int i = 0; i < n_levels; ++i) n_input += config_.num_res_blocks + (i + 1 < n_levels ? 1 : 0);
  for (int i = 0; i < n_input; ++i) block(concat("input_blocks.", i, "."));
  block("middle_block.");
  for (int i = 0; i < n_levels * (config_.num_res_blocks + 1); ++i) block(concat("output_blocks.", i, "."));
  block("out.");
  size_t step = 0;
  const auto enter_next = [&]() {
    const std::string next = step + 1 < order.size() ? order[step + 1] : std::string();
    return std::make_unique<ScopeGuard>(residency_, order[step++], next);
  };

  std::vector<Tensor> skips;
  Tensor h = backend_.nchw_to_nhwc(backend_.upload(x));
  {
    auto g = enter_next();
    const Weights b(residency_, root + "input_blocks.0.");
    h = backend_.conv2d(h, b("0.weight"), &b("0.bias"), Conv2dParams::same(3));
    skips.push_back(h);
  }
  int index = 1;
  for (int i = 0; i < n_levels; ++i) {
    for (int j = 0; j < config_.num_res_blocks; ++j, ++index) {
      checkpoint_between_blocks();
      auto g = enter_next();
      const Weights b(residency_, concat(root, "input_blocks.", index, "."));
      h = res_block(b.sub("0."), h, emb_silu);
      if (levels_[static_cast<size_t>(i)].attention) h = spatial_transformer(b.sub("1."), h, ctx);
      skips.push_back(h);
    }
    if (i + 1 < n_levels) {
      checkpoint_between_blocks();
      auto g = enter_next();
      const Weights b(residency_, concat(root, "input_blocks.", index, "."));
      h = backend_.conv2d(h, b("0.op.weight"), &b("0.op.bias"), Conv2dParams{2, 1, 1, 1, 1});
      skips.push_back(h);
      ++index;
    }
  }
  {
    checkpoint_between_blocks();
    auto g = enter_next();
    const Weights b(residency_, root + "middle_block.");
    h = res_block(b.sub("0."), h, emb_silu);
    h = spatial_transformer(b.sub("1."), h, ctx);
    h = res_block(b.sub("2."), h, emb_silu);
  }
  index = 0;
  for (int i = n_levels - 1; i >= 0; --i) {
    for (int j = 0; j <= config_.num_res_blocks; ++j, ++index) {
      checkpoint_between_blocks();
      auto g = enter_next();
      const Weights b(residency_, concat(root, "output_blocks.", index, "."));
      SD_CHECK(!skips.empty(), "UNet: skip connections out of step with the config");
      h = backend_.concat_channels(h, skips.back());
      skips.pop_back();
      h = res_block(b.sub("0."), h, emb_silu);
      int sub = 1;
      if (levels_[static_cast<size_t>(i)].attention) h = spatial_transformer(b.sub(concat(sub++, ".")), h, ctx);
      if (i > 0 && j == config_.num_res_blocks) {
        // To the size of the skip it meets next (2x, except for sizes that are not
        // multiples of 64 pixels, where a level was rounded up on the way down).
        h = backend_.upsample_nearest(h, skips.back().dim(1), skips.back().dim(2));
        h = backend_.conv2d(h, b(concat(sub, ".conv.weight")), &b(concat(sub, ".conv.bias")), Conv2dParams::same(3));
      }
    }
  }
  {
    auto g = enter_next();
    const Weights b(residency_, root + "out.");
    h = backend_.group_norm(h, kGroups, b("0.weight"), b("0.bias"), kResNormEps, true);
    h = backend_.conv2d(h, b("2.weight"), &b("2.bias"), Conv2dParams::same(3));
  }
  return backend_.download(backend_.nhwc_to_nchw(h));
}

}  // namespace sd
