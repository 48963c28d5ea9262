// FLOPs of one UNet / VAE-decoder forward, counted from the configuration's
// shapes (a multiply-add is 2 FLOPs): convolutions, linear layers and the
// attention products. Norms and activations are left out (a few percent).
#pragma once

#include <cstdint>

#include "model/config.h"

namespace sd {

struct FlopCount {
  double conv = 0, linear = 0, attention = 0;
  // The part of `conv` in stride-1 3x3 convolutions with channel counts in
  // multiples of 16: what the CPU's Winograd F(4x4, 3x3) does in a quarter of the multiplications.
  double conv3x3 = 0;
  double total() const { return conv + linear + attention; }
  // FLOPs actually executed when those convolutions run as Winograd (its transforms left out).
  double winograd_executed() const { return total() - 0.75 * conv3x3; }
};

FlopCount unet_flops(const UNetConfig& c, int64_t batch, int64_t latent_h, int64_t latent_w, int64_t context_tokens);
FlopCount vae_decoder_flops(const VAEConfig& c, int64_t batch, int64_t latent_h, int64_t latent_w);

}  // namespace sd
