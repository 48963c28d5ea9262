// Tiled VAE that computes the same thing as the untiled one. The latent-size
// part (post_quant_conv, conv_in, the mid block with its global attention)
// runs whole; the full-resolution part — convolutions, GroupNorms and
// upsampling — runs layer by layer with feature maps kept in host memory and
// only one tile (plus a one-pixel halo) on the device at a time. GroupNorm
// statistics are taken over the whole map, so unlike overlap-and-blend
// tiling there are no seams and no approximation: results match the
// untiled decoder up to summation order.
#pragma once

#include <functional>

#include "backend/backend.h"
#include "model/config.h"
#include "model/residency.h"

namespace sd {

struct VAEMoments;

class TiledVAE {
 public:
  TiledVAE(const VAEConfig& config, Backend& backend, WeightResidency& residency, int tile_pixels);

  // z [B, z, h, w] (VAE latent space) -> image [B, 3, 8h, 8w]; host F32 NCHW in and out.
  Tensor decode(const Tensor& z, const std::function<void()>& between_layers);

 private:
  struct Affine;  // GroupNorm folded into per-channel scale/shift (+ SiLU)
  Tensor resnet_block(const Weights& w, const Tensor& x, const std::function<void()>& between_layers);
  // out = conv(norm(x)) over the whole host map x [B, H, W, C], one output tile at a time.
  Tensor conv_tiled(const Tensor& x, const DeviceWeight& weight, const DeviceWeight* bias, const Affine* norm,
                    bool upsample_input, const Tensor* residual);
  Affine group_norm_affine(const Tensor& x, const Weights& w, const std::string& name, bool silu);

  VAEConfig config_;
  Backend& backend_;
  WeightResidency& residency_;
  int tile_;
};

}  // namespace sd
