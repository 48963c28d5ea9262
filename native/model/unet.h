// The SD 1.x denoiser, CompVis openaimodel.UNetModel with
// use_spatial_transformer (weights under model.diffusion_model.). Generic over
// the config: the tiny fixtures and the real 860M-parameter UNet run this code.
#pragma once

#include <functional>
#include <vector>

#include "backend/backend.h"
#include "model/config.h"
#include "model/residency.h"

namespace sd {

class UNetModel {
 public:
  UNetModel(const UNetConfig& config, Backend& backend, WeightResidency& weights);

  // x: host F32 [B, in_channels, H, W] (H, W multiples of 2^(levels-1));
  // timesteps: B values (fractional allowed); context: host F32 [B, T, context_dim].
  // Returns eps, host F32 [B, out_channels, H, W].
  Tensor forward(const Tensor& x, const std::vector<float>& timesteps, const Tensor& context);

  // Called between blocks; throw sd::Cancelled from it to stop.
  std::function<void()> between_blocks;

  // Sinusoidal embedding exactly as openaimodel.timestep_embedding (float32, cos first).
  static Tensor timestep_embedding(const std::vector<float>& timesteps, int dim);

 private:
  struct Level {
    int channels;
    bool attention;
  };
  Tensor res_block(const Weights& w, const Tensor& x, const Tensor& emb_silu);
  Tensor spatial_transformer(const Weights& w, const Tensor& x, const Tensor& context);
  Tensor cross_attention(const Weights& w, const Tensor& x, const Tensor& context, const Tensor& residual, int heads);
  int heads_for(int channels) const;
  void checkpoint_between_blocks();

  UNetConfig config_;
  Backend& backend_;
  WeightResidency& residency_;
  std::vector<Level> levels_;
};

}  // namespace sd
