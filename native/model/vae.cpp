#include "model/vae.h"

#include "core/host_allocator.h"
#include "model/vae_blocks.h"
#include "model/vae_tiled.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

namespace sd {

namespace {
const std::string kDecoder = std::string(kVAEPrefix) + "decoder.";
const std::string kEncoder = std::string(kVAEPrefix) + "encoder.";
}  // namespace

VAEModel::VAEModel(const VAEConfig& config, Backend& backend, WeightResidency& weights)
    : config_(config), backend_(backend), residency_(weights) {}

void VAEModel::checkpoint_between_blocks() {
  if (between_blocks) between_blocks();
}

Tensor VAEModel::resnet_block(const Weights& w, Tensor x) {
  checkpoint_between_blocks();
  const Shape in = x.shape();
  Tensor y = vae_resnet_block(backend_, w, std::move(x));
  // After a block that changes the width, nothing later at this level asks
  // the host cache for blocks larger than its output (the decoder's 256-channel
  // input at 512x512: 256 MiB); blocks of the output's size and smaller are
  // asked for again, so they stay mapped.
  if (y.shape() != in) host_trim_larger_than(static_cast<size_t>(y.nbytes()));
  return y;
}

Tensor VAEModel::attention_block(const Weights& w, const Tensor& x) {
  checkpoint_between_blocks();
  return vae_attention_block(backend_, w, x);
}

Tensor VAEModel::decode(const Tensor& z, int tile_pixels) {
  if (tile_pixels > 0) return TiledVAE(config_, backend_, residency_, tile_pixels).decode(z, between_blocks);
  SD_CHECK(z.ndim() == 4 && z.dim(1) == config_.embed_dim, "VAE decode: latent must be [B, ", config_.embed_dim,
           ", h, w], got ", z.describe());
  ScopeGuard scope(residency_, kVAEPrefix);
  const Weights root(residency_, kVAEPrefix);
  const Weights dec(residency_, kDecoder);
  const int levels = static_cast<int>(config_.ch_mult.size());
  Tensor h = vae_decoder_stem(backend_, root, dec, z, [this] { checkpoint_between_blocks(); });
  for (int i = levels - 1; i >= 0; --i) {
    for (int j = 0; j <= config_.num_res_blocks; ++j) {
      h = resnet_block(dec.sub(concat("up.", i, ".block.", j, ".")), std::move(h));
      if (dec.has(concat("up.", i, ".attn.", j, ".norm.weight"))) h = attention_block(dec.sub(concat("up.", i, ".attn.", j, ".")), h);
    }
    if (i > 0) {
      checkpoint_between_blocks();
      // Each level works on tensors 4x the previous level's: the cached blocks
      // of the smaller size, the upsampling's own input last, would only add
      // to the peak (CPU host memory).
      host_trim();
      h = backend_.conv2d(h, dec(concat("up.", i, ".upsample.conv.weight")), &dec(concat("up.", i, ".upsample.conv.bias")),
                          Conv2dParams::same(3).upsampled(2));
      host_trim();
    }
  }
  h = backend_.group_norm_consume(std::move(h), kVAEGroups, dec("norm_out.weight"), dec("norm_out.bias"), kVAENormEps, true);
  h = backend_.conv2d(h, dec("conv_out.weight"), &dec("conv_out.bias"), Conv2dParams::same(3));
  return backend_.download(backend_.nhwc_to_nchw(h));
}

VAEMoments VAEModel::encode(const Tensor& image) {
  SD_CHECK(image.ndim() == 4 && image.dim(1) == config_.in_channels, "VAE encode: image must be [B, ",
           config_.in_channels, ", H, W], got ", image.describe());
  const int levels = static_cast<int>(config_.ch_mult.size());
  const int64_t multiple = int64_t{1} << (levels - 1);
  SD_CHECK(image.dim(2) % multiple == 0 && image.dim(3) % multiple == 0, "VAE encode: image size must be a multiple of ",
           multiple);
  ScopeGuard scope(residency_, kVAEPrefix);
  const Weights root(residency_, kVAEPrefix);
  const Weights enc(residency_, kEncoder);
  Tensor h = backend_.nchw_to_nhwc(backend_.upload(image));
  h = backend_.conv2d(h, enc("conv_in.weight"), &enc("conv_in.bias"), Conv2dParams::same(3));
  for (int i = 0; i < levels; ++i) {
    for (int j = 0; j < config_.num_res_blocks; ++j) {
      h = resnet_block(enc.sub(concat("down.", i, ".block.", j, ".")), std::move(h));
      if (enc.has(concat("down.", i, ".attn.", j, ".norm.weight"))) h = attention_block(enc.sub(concat("down.", i, ".attn.", j, ".")), h);
    }
    if (i + 1 < levels) {
      // CompVis Downsample: pad right and bottom by one, then a stride-2 3x3 conv without padding.
      checkpoint_between_blocks();
      h = backend_.conv2d(h, enc(concat("down.", i, ".downsample.conv.weight")),
                          &enc(concat("down.", i, ".downsample.conv.bias")), Conv2dParams{2, 0, 0, 1, 1});
    }
  }
  h = resnet_block(enc.sub("mid.block_1."), std::move(h));
  h = attention_block(enc.sub("mid.attn_1."), h);
  h = resnet_block(enc.sub("mid.block_2."), std::move(h));
  h = backend_.group_norm_consume(std::move(h), kVAEGroups, enc("norm_out.weight"), enc("norm_out.bias"), kVAENormEps, true);
  h = backend_.conv2d(h, enc("conv_out.weight"), &enc("conv_out.bias"), Conv2dParams::same(3));
  h = backend_.conv2d(h, root("quant_conv.weight"), &root("quant_conv.bias"), Conv2dParams::same(1));
  const Tensor moments = backend_.download(backend_.nhwc_to_nchw(h));  // [B, 2z, h, w]
  const int64_t b = moments.dim(0), zc = moments.dim(1) / 2, hw = moments.dim(2) * moments.dim(3);
  VAEMoments out;
  out.mean = Tensor::host({b, zc, moments.dim(2), moments.dim(3)});
  out.logvar = Tensor::host({b, zc, moments.dim(2), moments.dim(3)});
  const float* m = moments.data<float>();
  for (int64_t n = 0; n < b; ++n) {
    std::memcpy(out.mean.data<float>() + n * zc * hw, m + n * 2 * zc * hw, static_cast<size_t>(zc * hw) * 4);
    const float* lv = m + (n * 2 + 1) * zc * hw;
    float* dst = out.logvar.data<float>() + n * zc * hw;
    for (int64_t i = 0; i < zc * hw; ++i) dst[i] = std::min(20.0f, std::max(-30.0f, lv[i]));
  }
  return out;
}

}  // namespace sd
