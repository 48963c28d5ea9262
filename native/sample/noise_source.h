// Seeded Gaussian noise, reproducing the AUTOMATIC1111 webui's two random
// sources bit for bit (so the same seed gives the same picture):
//   RngSource::Gpu  the webui's default "GPU" source, i.e. torch.randn on CUDA
//                   (Philox4x32-10), which the webui also computes on the CPU as
//                   its "NV" source: rng_philox.h.
//   RngSource::Cpu  torch.randn on a CPU generator (MT19937): rng_torch_cpu.h.
// A NoiseSource is one generator (one seed). ImageRNG holds one generator per
// image of a batch and concatenates, as the webui's modules/rng.py ImageRNG does,
// so a picture does not depend on the batch it was made in.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace sd {

enum class RngSource : uint8_t { Gpu, Cpu };

// "gpu" / "cpu" (also the webui's option values "GPU", "CPU", "NV").
RngSource parse_rng_source(const std::string& name);
const char* rng_source_name(RngSource s);  // "gpu" / "cpu"

// One seeded generator. randn() draws a float32 tensor of standard normals;
// successive draws continue the generator (a stream for the CPU source, the
// next Philox offset for the GPU source), like successive torch.randn calls.
class NoiseSource {
 public:
  virtual ~NoiseSource() = default;
  virtual Tensor randn(const Shape& shape) = 0;
  // Fills `out` (count values) with the next draw; randn() is a wrapper.
  virtual void randn_into(float* out, int64_t count) = 0;
};

std::unique_ptr<NoiseSource> make_noise_source(RngSource source, uint64_t seed);

// The webui's seed handling: -1 asks for a random seed (a uniform integer below
// 4294967294, as its get_fixed_seed draws); any other value must be
// non-negative and is used as is.
uint64_t resolve_seed(int64_t seed);
// Image k of batch b (batch_size images per batch) gets seed + b * batch_size + k.
std::vector<uint64_t> image_seeds(uint64_t seed, int batch_count, int batch_size);

// Per-image noise for a batch (the webui's ImageRNG): generator i is seeded
// with seeds[i]. The first next() is the initial latent noise; later calls are
// the samplers' extra draws (ancestral steps, DDIM with eta > 0). With a
// non-zero eta_noise_seed_delta (the webui's "ENSD" setting) the later draws
// come from fresh generators seeded with seed + delta.
class ImageRNG {
 public:
  // image_shape: one image's latent, [C, H, W].
  ImageRNG(RngSource source, Shape image_shape, std::vector<uint64_t> seeds, uint64_t eta_noise_seed_delta = 0);

  // [batch, C, H, W]
  Tensor next();
  int64_t batch() const { return static_cast<int64_t>(seeds_.size()); }
  const Shape& image_shape() const { return image_shape_; }

 private:
  RngSource source_;
  Shape image_shape_;
  std::vector<uint64_t> seeds_;
  uint64_t eta_noise_seed_delta_;
  bool first_ = true;
  std::vector<std::unique_ptr<NoiseSource>> generators_;
};

}  // namespace sd
