// FLOPs of one UNet / VAE-decoder forward, counted from the configuration's
// shapes (a multiply-add is 2 FLOPs): convolutions, linear layers and the
// attention products. Norms and activations are left out (a few percent).
#pragma once

#include <cstdint>

#include "model/config.h"

namespace sd {

struct FlopCount {
  double conv = 0, linear = 0, attention = 0;
  double total() const { return conv + linear + attention; }
};

FlopCount unet_flops(const UNetConfig& c, int64_t batch, int64_t latent_h, int64_t latent_w, int64_t context_tokens);
FlopCount vae_decoder_flops(const VAEConfig& c, int64_t batch, int64_t latent_h, int64_t latent_w);

}  // namespace sd
