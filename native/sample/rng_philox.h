// torch.randn(shape, device="cuda") reproduced on any device: the webui's
// default "GPU" random source, which it also computes on the CPU as its "NV"
// source (modules/rng_philox.py). Counter-based, so a draw has no stream state,
// only an offset: 0 for the first draw after seeding, then 1, 2, ...
//   element i of a draw: Philox4x32-10 with counter (offset, 0, i, 0) and key
//   (seed low 32 bits, seed high 32 bits); from its first two outputs x, y:
//   u = x a + a/2, v = y b + b/2 (a = 2.3283064e-10f, b = float(a * 6.2831855f),
//   evaluated in double), value = sqrt(-2 ln u) sin(v), rounded to float once.
// On CUDA, torch advances the offset per draw by an amount that depends on the
// tensor size and the GPU; the NV source (and this class) uses 1, so initial
// noise always matches the webui and later draws match its NV source.
#pragma once

#include <array>
#include <cstdint>

#include "sample/noise_source.h"

namespace sd {

// 10 rounds of Philox4x32 on counter c with key k.
std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k);

class PhiloxGenerator final : public NoiseSource {
 public:
  explicit PhiloxGenerator(uint64_t seed, uint32_t offset = 0) : seed_(seed), offset_(offset) {}

  Tensor randn(const Shape& shape) override;
  void randn_into(float* out, int64_t count) override;

  uint32_t offset() const { return offset_; }

 private:
  uint64_t seed_;
  uint32_t offset_;
};

}  // namespace sd
