// CLIP ViT-L/14 text transformer (the SD 1.x text encoder), weights named as
// transformers' CLIPTextModel under cond_stage_model.transformer.text_model.
#pragma once

#include "backend/backend.h"
#include "model/config.h"
#include "model/residency.h"

namespace sd {

class CLIPTextModel {
 public:
  CLIPTextModel(const CLIPTextConfig& config, Backend& backend, WeightResidency& weights);

  // ids: host I32 [B, T] (T <= max_position_embeddings) -> host F32 [B, T, hidden].
  // clip_skip 1 = last layer (SD 1.x); N = final_layer_norm of the output of
  // layer (layers - N), as AUTOMATIC1111's "Clip skip".
  Tensor forward(const Tensor& ids, int clip_skip = 1);

 private:
  Tensor layer(const Tensor& x, int index);

  CLIPTextConfig config_;
  Backend& backend_;
  WeightResidency& residency_;
};

}  // namespace sd
