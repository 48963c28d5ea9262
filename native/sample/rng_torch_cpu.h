// torch.randn on a CPU generator, reproduced exactly (torch 1.13 .. 2.x):
//   MT19937 seeded with init_genrand(seed & 0xFFFFFFFF); a float uniform is
//   (r & 0xFFFFFF) * 2^-24 of one 32-bit output, a double uniform is
//   (r64 & (2^53 - 1)) * 2^-53 of two outputs (first = high word).
//   numel >= 16 (float32, contiguous): fill numel uniforms, then Box-Muller on
//   blocks of 16 (u[j] / u[j+8] pairs); when numel % 16 != 0, 16 more uniforms
//   are drawn and the LAST 16 values are recomputed from them.
//   numel < 16: one double Box-Muller pair per two values; the sine half is kept
//   in the generator and returned by the next small draw (torch's
//   next_double_normal_sample), until the generator is reseeded.
// The 16-block math has two variants in torch: on x86-64 CPUs with AVX2 it uses
// avx_mathfun's float32 polynomials (log256_ps / sincos256_ps), elsewhere the C
// library's logf/cosf/sinf. TorchCpuMath::Avx2 reproduces the former on every
// CPU (portable float32 code, same operations and rounding), which is what the
// webui computes on a typical PC; Scalar uses this platform's libm and matches
// torch's non-AVX2 build where libm is glibc.
#pragma once

#include <cstdint>
#include <optional>

#include "sample/noise_source.h"

namespace sd {

class MT19937 {
 public:
  explicit MT19937(uint32_t seed = 5489);
  uint32_t next();

 private:
  void twist();
  uint32_t state_[624];
  int index_ = 624;
};

enum class TorchCpuMath : uint8_t { Avx2, Scalar };

class TorchCpuGenerator final : public NoiseSource {
 public:
  explicit TorchCpuGenerator(uint64_t seed, TorchCpuMath math = TorchCpuMath::Avx2);

  Tensor randn(const Shape& shape) override;
  void randn_into(float* out, int64_t count) override;

  // MT19937 outputs consumed since seeding (the fixtures record it per draw).
  uint64_t outputs_consumed() const { return consumed_; }

 private:
  uint32_t next_u32();
  float uniform_f32();
  double uniform_f64();
  double normal_f64();
  void normal_fill(float* data, int64_t count);
  void normal_fill_16(float* data) const;

  MT19937 engine_;
  TorchCpuMath math_;
  uint64_t consumed_ = 0;
  std::optional<double> next_double_normal_;
};

}  // namespace sd
