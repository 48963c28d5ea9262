#include "model/vae_tiled.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <cstring>
#include <vector>

#include "model/vae_blocks.h"
#include "ops/cpu/cpu_ops.h"
#include "ops/cpu/vec_dispatch.h"

namespace sd {

namespace {
const std::string kDecoder = std::string(kVAEPrefix) + "decoder.";
}  // namespace

struct TiledVAE::Affine {
  std::vector<float> scale, shift;  // [B, C]
  bool silu = false;
};

TiledVAE::TiledVAE(const VAEConfig& config, Backend& backend, WeightResidency& residency, int tile_pixels)
    : config_(config), backend_(backend), residency_(residency), tile_(tile_pixels) {
  SD_CHECK(tile_ >= 8, "VAE tile size must be at least 8 pixels");
  SD_CHECK(config_.attn_resolutions.empty(), "tiled VAE decoding supports SD 1.x decoders (attention only in the mid block)");
}

TiledVAE::Affine TiledVAE::group_norm_affine(const Tensor& x, const Weights& w, const std::string& name, bool silu) {
  const int64_t b = x.dim(0), c = x.dim(3), pixels = x.dim(1) * x.dim(2);
  const Tensor gamma = backend_.download(w(name + ".weight").tensor);
  const Tensor beta = backend_.download(w(name + ".bias").tensor);
  Affine a;
  a.scale.resize(static_cast<size_t>(b * c));
  a.shift.resize(static_cast<size_t>(b * c));
  a.silu = silu;
  cpu::group_norm_affine(x.data<float>(), b, pixels, c, kVAEGroups, gamma.data<float>(), beta.data<float>(), kVAENormEps,
                         a.scale.data(), a.shift.data());
  return a;
}

Tensor TiledVAE::conv_tiled(const Tensor& x, const DeviceWeight& weight, const DeviceWeight* bias, const Affine* norm,
                            bool upsample_input, const Tensor* residual) {
  // x: host [B, H, W, C]; the convolution is 3x3 (padding 1) or 1x1, stride 1,
  // over x or over x upsampled 2x (nearest).
  const int64_t b = x.dim(0), in_h = x.dim(1), in_w = x.dim(2), c = x.dim(3);
  const int64_t up = upsample_input ? 2 : 1;
  const int64_t h = in_h * up, w = in_w * up;
  const int64_t k = weight.shape[2], pad = k / 2, cout = weight.shape[0];
  Tensor out = Tensor::host({b, h, w, cout});
  for (int64_t n = 0; n < b; ++n) {
    const float* xn = x.data<float>() + n * in_h * in_w * c;
    const float* sc = norm ? norm->scale.data() + n * c : nullptr;
    const float* sh = norm ? norm->shift.data() + n * c : nullptr;
    for (int64_t y0 = 0; y0 < h; y0 += tile_) {
      for (int64_t x0 = 0; x0 < w; x0 += tile_) {
        const int64_t th = std::min<int64_t>(tile_, h - y0), tw = std::min<int64_t>(tile_, w - x0);
        const int64_t ih = th + 2 * pad, iw = tw + 2 * pad;
        // Gather the tile and its halo, normalised; outside the picture the
        // network's zero padding applies to the normalised values.
        Tensor tile = Tensor::host({1, ih, iw, c});
        float* t = tile.data<float>();
        for (int64_t r = 0; r < ih; ++r) {
          const int64_t yy = y0 - pad + r;
          for (int64_t q = 0; q < iw; ++q) {
            const int64_t xx = x0 - pad + q;
            float* dst = t + (r * iw + q) * c;
            if (yy < 0 || yy >= h || xx < 0 || xx >= w) {
              std::memset(dst, 0, static_cast<size_t>(c) * 4);
              continue;
            }
            const float* src = xn + ((yy / up) * in_w + xx / up) * c;
            if (norm) {
              scale_shift_silu(src, dst, sc, sh, c, norm->silu);  // GroupNorm's own second pass
            } else {
              std::memcpy(dst, src, static_cast<size_t>(c) * 4);
            }
          }
        }
        Tensor res_dev;
        if (residual) {
          Tensor res = Tensor::host({1, th, tw, cout});
          for (int64_t r = 0; r < th; ++r)
            std::memcpy(res.data<float>() + r * tw * cout,
                        residual->data<float>() + ((n * h + y0 + r) * w + x0) * cout, static_cast<size_t>(tw * cout) * 4);
          res_dev = backend_.upload(res);
        }
        const Tensor y = backend_.download(
            backend_.conv2d(backend_.upload(tile), weight, bias, Conv2dParams{}, residual ? &res_dev : nullptr));
        for (int64_t r = 0; r < th; ++r)
          std::memcpy(out.data<float>() + ((n * h + y0 + r) * w + x0) * cout, y.data<float>() + r * tw * cout,
                      static_cast<size_t>(tw * cout) * 4);
      }
    }
  }
  return out;
}

Tensor TiledVAE::resnet_block(const Weights& w, const Tensor& x, const std::function<void()>& between_layers) {
  if (between_layers) between_layers();
  const Affine n1 = group_norm_affine(x, w, "norm1", true);
  const Tensor h = conv_tiled(x, w("conv1.weight"), &w("conv1.bias"), &n1, false, nullptr);
  const Affine n2 = group_norm_affine(h, w, "norm2", true);
  Tensor skip = x;
  if (const DeviceWeight* s = w.optional("nin_shortcut.weight")) skip = conv_tiled(x, *s, &w("nin_shortcut.bias"), nullptr, false, nullptr);
  return conv_tiled(h, w("conv2.weight"), &w("conv2.bias"), &n2, false, &skip);
}

Tensor TiledVAE::decode(const Tensor& z, const std::function<void()>& between_layers) {
  SD_CHECK(z.ndim() == 4 && z.dim(1) == config_.embed_dim, "VAE decode: latent must be [B, ", config_.embed_dim,
           ", h, w], got ", z.describe());
  ScopeGuard scope(residency_, kVAEPrefix);
  const Weights root(residency_, kVAEPrefix);
  const Weights dec(residency_, kDecoder);
  const int levels = static_cast<int>(config_.ch_mult.size());
  // Latent resolution, whole: small, and the mid block's attention is global.
  Tensor d = vae_decoder_stem(backend_, root, dec, z, between_layers);
  // Full-resolution part: host maps, device tiles.
  Tensor x = backend_.download(d);
  d = Tensor();
  for (int i = levels - 1; i >= 0; --i) {
    for (int j = 0; j <= config_.num_res_blocks; ++j) x = resnet_block(dec.sub(concat("up.", i, ".block.", j, ".")), x, between_layers);
    if (i > 0) {
      if (between_layers) between_layers();
      x = conv_tiled(x, dec(concat("up.", i, ".upsample.conv.weight")), &dec(concat("up.", i, ".upsample.conv.bias")), nullptr,
                     true, nullptr);
    }
  }
  const Affine out_norm = group_norm_affine(x, dec, "norm_out", true);
  x = conv_tiled(x, dec("conv_out.weight"), &dec("conv_out.bias"), &out_norm, false, nullptr);
  Tensor image = Tensor::host({x.dim(0), x.dim(3), x.dim(1), x.dim(2)});
  cpu::nhwc_to_nchw(x.data<float>(), image.data<float>(), x.dim(0), x.dim(1) * x.dim(2), x.dim(3));
  return image;
}

}  // namespace sd
