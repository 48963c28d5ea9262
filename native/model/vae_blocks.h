// The VAE's two block types (CompVis ldm/modules/diffusionmodules/model.py),
// shared by the whole-picture and the tiled decoders.
#pragma once

#include <functional>

#include "backend/backend.h"
#include "model/residency.h"

namespace sd {

// GroupNorm(32, eps 1e-6) everywhere in the VAE.
constexpr int kVAEGroups = 32;
constexpr float kVAENormEps = 1e-6f;

// ResnetBlock: x + conv2(swish(norm2(conv1(swish(norm1(x)))))), x through nin_shortcut when channels change.
Tensor vae_resnet_block(Backend& backend, const Weights& w, Tensor x);
// AttnBlock: single-head attention over all pixels, q/k/v/proj_out as 1x1 convs, + x.
Tensor vae_attention_block(Backend& backend, const Weights& w, const Tensor& x);

// The decoder at latent resolution, which both decoders run on the whole
// picture: post_quant_conv, conv_in and the mid block (resnet, attention,
// resnet). `z` is the host latent [B, C, h, w]; the result is NHWC on the
// backend. `before_block`, when set, runs before each of the three blocks.
Tensor vae_decoder_stem(Backend& backend, const Weights& root, const Weights& dec, const Tensor& z,
                        const std::function<void()>& before_block);

}  // namespace sd
