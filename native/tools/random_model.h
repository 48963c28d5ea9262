// Deterministic random-weight SD 1.x checkpoints of any size, for measuring
// and testing the loaders without downloading a model (sd-driver make-model).
// Weights follow PyTorch's default initialisation so that a forward pass
// stays finite: conv/linear weights and biases uniform in +-1/sqrt(fan_in),
// norm weights 1 +- 0.05 and biases +- 0.05, embeddings N(0, 0.02); the
// schedule buffers are the real SD 1.x linear schedule. Values come from a
// counter-based generator (element i of tensor k depends only on seed, k, i)
// and are written streaming, so a 1 B-parameter model never sits in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/dtype.h"
#include "model/config.h"

namespace sd {

struct RandomModelOptions {
  ModelConfig config;
  DType dtype = DType::F16;  // float tensors; position_ids is always I64
  uint64_t seed = 0;
  bool ckpt = false;  // torch.save zip instead of .safetensors
  // Stores the configuration with the weights: "sd_config" metadata in a
  // .safetensors, a "<stem>.config.json" sidecar beside a .ckpt.
  bool embed_config = false;
};

struct WriteProgress {
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
};

// Writes `path` (via a temporary file renamed at the end: never half-written).
void write_random_model(const RandomModelOptions& options, const std::string& path,
                        const std::function<void(const WriteProgress&)>& progress = {});

}  // namespace sd
