#include "tools/flop_count.h"

#include <vector>

namespace sd {

namespace {

struct Counter {
  FlopCount f;
  int64_t batch;
  void conv(int64_t h, int64_t w, int64_t cin, int64_t cout, int64_t k, bool stride_one = true) {
    const double flops = 2.0 * batch * h * w * cin * cout * k * k;
    f.conv += flops;
    if (k == 3 && stride_one && cin % 16 == 0 && cout % 16 == 0) f.conv3x3 += flops;
  }
  void linear(int64_t rows, int64_t in, int64_t out) { f.linear += 2.0 * batch * rows * in * out; }
  void attention(int64_t nq, int64_t nk, int64_t width) { f.attention += 4.0 * batch * nq * nk * width; }

  void res_block(int64_t h, int64_t w, int64_t cin, int64_t cout, int64_t emb) {
    conv(h, w, cin, cout, 3);
    conv(h, w, cout, cout, 3);
    if (cin != cout) conv(h, w, cin, cout, 1);
    linear(1, emb, cout);
  }
  void transformer(int64_t h, int64_t w, int64_t c, int64_t ctx_tokens, int64_t ctx_dim, int depth) {
    const int64_t n = h * w;
    conv(h, w, c, c, 1);  // proj_in
    for (int d = 0; d < depth; ++d) {
      linear(n, c, 3 * c);  // self q, k, v
      attention(n, n, c);
      linear(n, c, c);       // out
      linear(n, c, c);       // cross q
      linear(ctx_tokens, ctx_dim, 2 * c);  // cross k, v
      attention(n, ctx_tokens, c);
      linear(n, c, c);
      linear(n, c, 8 * c);   // GEGLU in
      linear(n, 4 * c, c);   // out
    }
    conv(h, w, c, c, 1);  // proj_out
  }
};

}  // namespace

FlopCount unet_flops(const UNetConfig& u, int64_t batch, int64_t lh, int64_t lw, int64_t context_tokens) {
  Counter k{{}, batch};
  const int64_t mc = u.model_channels, emb = 4 * mc;
  k.linear(1, mc, emb);
  k.linear(1, emb, emb);
  const int levels = static_cast<int>(u.channel_mult.size());
  std::vector<int64_t> skips;
  int64_t h = lh, w = lw, ch = mc;
  k.conv(h, w, u.in_channels, mc, 3);
  skips.push_back(ch);
  for (int i = 0; i < levels; ++i) {
    bool attn = false;
    for (const int r : u.attention_resolutions) attn = attn || r == (1 << i);
    for (int j = 0; j < u.num_res_blocks; ++j) {
      k.res_block(h, w, ch, mc * u.channel_mult[i], emb);
      ch = mc * u.channel_mult[i];
      if (attn) k.transformer(h, w, ch, context_tokens, u.context_dim, u.transformer_depth);
      skips.push_back(ch);
    }
    if (i + 1 < levels) {
      k.conv(h / 2, w / 2, ch, ch, 3, /*stride_one=*/false);  // stride 2: output size
      h /= 2;
      w /= 2;
      skips.push_back(ch);
    }
  }
  k.res_block(h, w, ch, ch, emb);
  k.transformer(h, w, ch, context_tokens, u.context_dim, u.transformer_depth);
  k.res_block(h, w, ch, ch, emb);
  for (int i = levels - 1; i >= 0; --i) {
    bool attn = false;
    for (const int r : u.attention_resolutions) attn = attn || r == (1 << i);
    for (int j = 0; j <= u.num_res_blocks; ++j) {
      const int64_t skip = skips.back();
      skips.pop_back();
      k.res_block(h, w, ch + skip, mc * u.channel_mult[i], emb);
      ch = mc * u.channel_mult[i];
      if (attn) k.transformer(h, w, ch, context_tokens, u.context_dim, u.transformer_depth);
      if (i > 0 && j == u.num_res_blocks) {
        h *= 2;
        w *= 2;
        k.conv(h, w, ch, ch, 3);
      }
    }
  }
  k.conv(h, w, ch, u.out_channels, 3);
  return k.f;
}

FlopCount vae_decoder_flops(const VAEConfig& v, int64_t batch, int64_t lh, int64_t lw) {
  Counter k{{}, batch};
  const int levels = static_cast<int>(v.ch_mult.size());
  int64_t h = lh, w = lw, ch = v.ch * v.ch_mult.back();
  k.conv(h, w, v.embed_dim, v.embed_dim, 1);
  k.conv(h, w, v.z_channels, ch, 3);
  const auto resnet = [&](int64_t cin, int64_t cout) {
    k.conv(h, w, cin, cout, 3);
    k.conv(h, w, cout, cout, 3);
    if (cin != cout) k.conv(h, w, cin, cout, 1);
  };
  resnet(ch, ch);
  for (int i = 0; i < 4; ++i) k.conv(h, w, ch, ch, 1);  // q, k, v, proj_out
  k.attention(h * w, h * w, ch);
  resnet(ch, ch);
  for (int i = levels - 1; i >= 0; --i) {
    const int64_t out = v.ch * v.ch_mult[i];
    for (int j = 0; j <= v.num_res_blocks; ++j) {
      resnet(ch, out);
      ch = out;
    }
    if (i > 0) {
      h *= 2;
      w *= 2;
      k.conv(h, w, ch, ch, 3);
    }
  }
  k.conv(h, w, ch, v.out_ch, 3);
  return k.f;
}

}  // namespace sd
