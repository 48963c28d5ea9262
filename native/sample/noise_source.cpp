#include "sample/strict_fp.h"
#include "sample/noise_source.h"

#include <algorithm>
#include <cctype>
#include <random>

#include "sample/rng_philox.h"
#include "sample/rng_torch_cpu.h"

namespace sd {

RngSource parse_rng_source(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "gpu" || lower == "nv") return RngSource::Gpu;
  if (lower == "cpu") return RngSource::Cpu;
  fail("unknown random number source \"", name, "\": use \"gpu\" (the webui's default) or \"cpu\"");
}

const char* rng_source_name(RngSource s) { return s == RngSource::Gpu ? "gpu" : "cpu"; }

uint64_t resolve_seed(int64_t seed) {
  if (seed == -1) {
    std::random_device device;
    const uint64_t wide = (static_cast<uint64_t>(device()) << 32) | device();
    return wide % 4294967294u;
  }
  SD_CHECK(seed >= 0, "seed must be -1 (random) or a non-negative integer, got ", seed);
  return static_cast<uint64_t>(seed);
}

std::vector<uint64_t> image_seeds(uint64_t seed, int batch_count, int batch_size) {
  SD_CHECK(batch_count >= 1 && batch_size >= 1, "batch count and size must be at least 1");
  std::vector<uint64_t> seeds;
  for (int i = 0; i < batch_count * batch_size; ++i) seeds.push_back(seed + static_cast<uint64_t>(i));
  return seeds;
}

std::unique_ptr<NoiseSource> make_noise_source(RngSource source, uint64_t seed) {
  if (source == RngSource::Gpu) return std::make_unique<PhiloxGenerator>(seed);
  return std::make_unique<TorchCpuGenerator>(seed);
}

ImageRNG::ImageRNG(RngSource source, Shape image_shape, std::vector<uint64_t> seeds, uint64_t eta_noise_seed_delta)
    : source_(source),
      image_shape_(std::move(image_shape)),
      seeds_(std::move(seeds)),
      eta_noise_seed_delta_(eta_noise_seed_delta) {
  SD_CHECK(!seeds_.empty(), "ImageRNG needs at least one seed");
  SD_CHECK(image_shape_.size() == 3, "ImageRNG: an image latent is [C, H, W], got ", shape_str(image_shape_));
  for (uint64_t seed : seeds_) generators_.push_back(make_noise_source(source_, seed));
}

Tensor ImageRNG::next() {
  Shape shape = image_shape_;
  shape.insert(shape.begin(), batch());
  Tensor out = Tensor::host(shape, DType::F32);
  const int64_t per_image = shape_numel(image_shape_);
  float* data = out.data<float>();
  for (size_t i = 0; i < generators_.size(); ++i) generators_[i]->randn_into(data + per_image * i, per_image);
  if (first_) {
    first_ = false;
    if (eta_noise_seed_delta_ != 0) {
      for (size_t i = 0; i < generators_.size(); ++i)
        generators_[i] = make_noise_source(source_, seeds_[i] + eta_noise_seed_delta_);
    }
  }
  return out;
}

}  // namespace sd
