// The SD 1.x autoencoder (CompVis AutoencoderKL; weights under
// first_stage_model.): decoder for latents -> pictures, encoder for img2img.
#pragma once

#include <functional>

#include "backend/backend.h"
#include "model/config.h"
#include "model/residency.h"

namespace sd {

struct VAEMoments {
  Tensor mean;    // host F32 [B, z, h, w], the posterior mean (VAE latent space)
  Tensor logvar;  // clamped to [-30, 20] as DiagonalGaussianDistribution does
};

class VAEModel {
 public:
  VAEModel(const VAEConfig& config, Backend& backend, WeightResidency& weights);

  // z in the VAE's own latent space (diffusion latent / scale_factor), host F32
  // [B, z_channels, h, w] -> image host F32 [B, out_ch, 8h, 8w], roughly [-1, 1], unclamped.
  // tile_pixels > 0: the full-resolution layers run in tiles of that many
  // output pixels (same result, bounded device memory; see vae_tiled.h).
  Tensor decode(const Tensor& z, int tile_pixels = 0);
  // image host F32 [B, in_channels, H, W] in [-1, 1] -> posterior moments.
  VAEMoments encode(const Tensor& image);

  std::function<void()> between_blocks;

 private:
  Tensor resnet_block(const Weights& w, Tensor x);
  Tensor attention_block(const Weights& w, const Tensor& x);
  void checkpoint_between_blocks();

  VAEConfig config_;
  Backend& backend_;
  WeightResidency& residency_;
};

}  // namespace sd
