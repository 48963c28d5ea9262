#include "model/sd1_layout.h"

#include <algorithm>

#include "core/error.h"

namespace sd {

namespace {

class LayoutBuilder {
 public:
  std::vector<TensorSpec> specs;

  void add(const std::string& name, Shape shape, DType dtype = DType::F32) {
    specs.push_back({name, std::move(shape), dtype});
  }
  // Conv2d weight [out, in, k, k] + bias [out].
  void conv(const std::string& p, int64_t in, int64_t out, int64_t k) {
    add(p + ".weight", {out, in, k, k});
    add(p + ".bias", {out});
  }
  // Linear weight [out, in] (+ bias [out]).
  void linear(const std::string& p, int64_t in, int64_t out, bool bias = true) {
    add(p + ".weight", {out, in});
    if (bias) add(p + ".bias", {out});
  }
  // GroupNorm / LayerNorm affine parameters.
  void norm(const std::string& p, int64_t c) {
    add(p + ".weight", {c});
    add(p + ".bias", {c});
  }

  // --- UNet (ldm/modules/diffusionmodules/openaimodel.py) ------------------
  void unet_res_block(const std::string& p, int64_t in, int64_t out, int64_t emb) {
    norm(p + ".in_layers.0", in);
    conv(p + ".in_layers.2", in, out, 3);
    linear(p + ".emb_layers.1", emb, out);
    norm(p + ".out_layers.0", out);
    conv(p + ".out_layers.3", out, out, 3);
    if (in != out) conv(p + ".skip_connection", in, out, 1);
  }
  // SpatialTransformer (ldm/modules/attention.py); inner dim = channels for
  // SD 1.x (heads * dim_head), conv1x1 proj_in/out.
  void spatial_transformer(const std::string& p, int64_t c, int depth, int64_t context) {
    norm(p + ".norm", c);
    conv(p + ".proj_in", c, c, 1);
    for (int d = 0; d < depth; ++d) {
      const std::string b = p + ".transformer_blocks." + std::to_string(d);
      for (const char* attn : {".attn1", ".attn2"}) {
        const int64_t kv_in = std::string(attn) == ".attn1" ? c : context;
        linear(b + attn + ".to_q", c, c, false);
        linear(b + attn + ".to_k", kv_in, c, false);
        linear(b + attn + ".to_v", kv_in, c, false);
        linear(b + attn + ".to_out.0", c, c);
      }
      linear(b + ".ff.net.0.proj", c, c * 8);  // GEGLU: value and gate halves
      linear(b + ".ff.net.2", c * 4, c);
      norm(b + ".norm1", c);
      norm(b + ".norm2", c);
      norm(b + ".norm3", c);
    }
    conv(p + ".proj_out", c, c, 1);
  }

  void unet(const UNetConfig& u) {
    const std::string p = kUNetPrefix;
    const int64_t mc = u.model_channels, emb = mc * 4;
    const auto has_attention = [&](int ds) {
      return std::find(u.attention_resolutions.begin(), u.attention_resolutions.end(), ds) != u.attention_resolutions.end();
    };
    linear(p + "time_embed.0", mc, emb);
    linear(p + "time_embed.2", emb, emb);
    conv(p + "input_blocks.0.0", u.in_channels, mc, 3);
    std::vector<int64_t> skip_channels{mc};
    int64_t ch = mc;
    int ds = 1, n = 1;
    const int levels = static_cast<int>(u.channel_mult.size());
    for (int level = 0; level < levels; ++level) {
      for (int r = 0; r < u.num_res_blocks; ++r, ++n) {
        const std::string b = p + "input_blocks." + std::to_string(n);
        const int64_t out = mc * u.channel_mult[static_cast<size_t>(level)];
        unet_res_block(b + ".0", ch, out, emb);
        ch = out;
        if (has_attention(ds)) spatial_transformer(b + ".1", ch, u.transformer_depth, u.context_dim);
        skip_channels.push_back(ch);
      }
      if (level != levels - 1) {
        conv(p + "input_blocks." + std::to_string(n) + ".0.op", ch, ch, 3);
        skip_channels.push_back(ch);
        ds *= 2;
        ++n;
      }
    }
    unet_res_block(p + "middle_block.0", ch, ch, emb);
    spatial_transformer(p + "middle_block.1", ch, u.transformer_depth, u.context_dim);
    unet_res_block(p + "middle_block.2", ch, ch, emb);
    n = 0;
    for (int level = levels - 1; level >= 0; --level) {
      for (int r = 0; r <= u.num_res_blocks; ++r, ++n) {
        const std::string b = p + "output_blocks." + std::to_string(n);
        const int64_t skip = skip_channels.back();
        skip_channels.pop_back();
        const int64_t out = mc * u.channel_mult[static_cast<size_t>(level)];
        unet_res_block(b + ".0", ch + skip, out, emb);
        ch = out;
        int index = 1;
        if (has_attention(ds)) spatial_transformer(b + "." + std::to_string(index++), ch, u.transformer_depth, u.context_dim);
        if (level > 0 && r == u.num_res_blocks) {
          conv(b + "." + std::to_string(index) + ".conv", ch, ch, 3);
          ds /= 2;
        }
      }
    }
    norm(p + "out.0", ch);
    conv(p + "out.2", ch, u.out_channels, 3);
  }

  // --- VAE (ldm/modules/diffusionmodules/model.py Encoder/Decoder) ---------
  void vae_res_block(const std::string& p, int64_t in, int64_t out) {
    norm(p + ".norm1", in);
    conv(p + ".conv1", in, out, 3);
    norm(p + ".norm2", out);
    conv(p + ".conv2", out, out, 3);
    if (in != out) conv(p + ".nin_shortcut", in, out, 1);
  }
  void vae_attention(const std::string& p, int64_t c) {
    norm(p + ".norm", c);
    for (const char* x : {".q", ".k", ".v", ".proj_out"}) conv(p + x, c, c, 1);
  }
  void vae_mid(const std::string& p, int64_t c) {
    vae_res_block(p + ".block_1", c, c);
    vae_attention(p + ".attn_1", c);
    vae_res_block(p + ".block_2", c, c);
  }

  void vae(const VAEConfig& v) {
    const std::string p = kVAEPrefix;
    const int levels = static_cast<int>(v.ch_mult.size());
    const auto has_attention = [&](int res) {
      return std::find(v.attn_resolutions.begin(), v.attn_resolutions.end(), res) != v.attn_resolutions.end();
    };
    const auto width = [&](int level) { return static_cast<int64_t>(v.ch) * v.ch_mult[static_cast<size_t>(level)]; };
    // Encoder.
    conv(p + "encoder.conv_in", v.in_channels, v.ch, 3);
    int64_t ch = v.ch;
    int res = v.resolution;
    for (int level = 0; level < levels; ++level) {
      const std::string d = p + "encoder.down." + std::to_string(level);
      for (int b = 0; b < v.num_res_blocks; ++b) {
        vae_res_block(d + ".block." + std::to_string(b), ch, width(level));
        ch = width(level);
        if (has_attention(res)) vae_attention(d + ".attn." + std::to_string(b), ch);
      }
      if (level != levels - 1) {
        conv(d + ".downsample.conv", ch, ch, 3);
        res /= 2;
      }
    }
    vae_mid(p + "encoder.mid", ch);
    norm(p + "encoder.norm_out", ch);
    conv(p + "encoder.conv_out", ch, v.double_z ? 2 * v.z_channels : v.z_channels, 3);
    // Decoder.
    ch = width(levels - 1);
    conv(p + "decoder.conv_in", v.z_channels, ch, 3);
    vae_mid(p + "decoder.mid", ch);
    for (int level = levels - 1; level >= 0; --level) {
      const std::string u = p + "decoder.up." + std::to_string(level);
      for (int b = 0; b <= v.num_res_blocks; ++b) {
        vae_res_block(u + ".block." + std::to_string(b), ch, width(level));
        ch = width(level);
        if (has_attention(res)) vae_attention(u + ".attn." + std::to_string(b), ch);
      }
      if (level != 0) {
        conv(u + ".upsample.conv", ch, ch, 3);
        res *= 2;
      }
    }
    norm(p + "decoder.norm_out", ch);
    conv(p + "decoder.conv_out", ch, v.out_ch, 3);
    conv(p + "quant_conv", 2 * v.z_channels, 2 * v.embed_dim, 1);
    conv(p + "post_quant_conv", v.embed_dim, v.z_channels, 1);
  }

  // --- CLIP text model (transformers CLIPTextModel names) -------------------
  void clip(const CLIPTextConfig& c) {
    const std::string p = kCLIPPrefix;
    const int64_t h = c.hidden_size;
    add(p + "embeddings.token_embedding.weight", {c.vocab_size, h});
    add(p + "embeddings.position_embedding.weight", {c.max_position_embeddings, h});
    add(p + "embeddings.position_ids", {1, c.max_position_embeddings}, DType::I64);
    for (int l = 0; l < c.num_hidden_layers; ++l) {
      const std::string b = p + "encoder.layers." + std::to_string(l);
      for (const char* proj : {".self_attn.k_proj", ".self_attn.v_proj", ".self_attn.q_proj", ".self_attn.out_proj"})
        linear(b + proj, h, h);
      norm(b + ".layer_norm1", h);
      linear(b + ".mlp.fc1", h, c.intermediate_size);
      linear(b + ".mlp.fc2", c.intermediate_size, h);
      norm(b + ".layer_norm2", h);
    }
    norm(p + "final_layer_norm", h);
  }
};

}  // namespace

const std::vector<std::string>& sd1_schedule_buffer_names() {
  static const std::vector<std::string> names{
      "betas",
      "alphas_cumprod",
      "alphas_cumprod_prev",
      "sqrt_alphas_cumprod",
      "sqrt_one_minus_alphas_cumprod",
      "log_one_minus_alphas_cumprod",
      "sqrt_recip_alphas_cumprod",
      "sqrt_recipm1_alphas_cumprod",
      "posterior_variance",
      "posterior_log_variance_clipped",
      "posterior_mean_coef1",
      "posterior_mean_coef2",
  };
  return names;
}

std::vector<TensorSpec> sd1_checkpoint_layout(const ModelConfig& config) {
  SD_CHECK(config.unet.num_head_channels <= 0 || config.unet.model_channels % config.unet.num_head_channels == 0,
           "invalid UNet head configuration");
  SD_CHECK(!config.vae.ch_mult.empty() && config.vae.num_res_blocks > 0, "invalid VAE configuration");
  LayoutBuilder b;
  b.unet(config.unet);
  b.vae(config.vae);
  b.clip(config.clip);
  for (const auto& name : sd1_schedule_buffer_names()) b.add(name, {config.diffusion.timesteps});
  return std::move(b.specs);
}

}  // namespace sd
