#include "sample/strict_fp.h"
#include "sample/rng_torch_cpu.h"

#include <cmath>

#include "sample/rng_cephes_f32.h"

namespace sd {

// ---- MT19937 (Matsumoto & Nishimura, init_genrand seeding) -------------------

MT19937::MT19937(uint32_t seed) {
  state_[0] = seed;
  for (uint32_t i = 1; i < 624; ++i) state_[i] = 1812433253u * (state_[i - 1] ^ (state_[i - 1] >> 30)) + i;
  index_ = 624;
}

void MT19937::twist() {
  constexpr uint32_t kUpper = 0x80000000u, kLower = 0x7fffffffu, kMatrix = 0x9908b0dfu;
  for (int i = 0; i < 624; ++i) {
    const uint32_t y = (state_[i] & kUpper) | (state_[(i + 1) % 624] & kLower);
    state_[i] = state_[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? kMatrix : 0u);
  }
  index_ = 0;
}

uint32_t MT19937::next() {
  if (index_ >= 624) twist();
  uint32_t y = state_[index_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

// ---- torch's CPU normal distribution -----------------------------------------

namespace {

constexpr double kPi = 3.141592653589793238462643383279502884;  // = c10::pi<double>
// 2 * pi as torch's AVX2 kernel rounds it to float32.
constexpr float kTwoPiF = static_cast<float>(2.0 * kPi);

}  // namespace

TorchCpuGenerator::TorchCpuGenerator(uint64_t seed, TorchCpuMath math)
    : engine_(static_cast<uint32_t>(seed & 0xFFFFFFFFu)), math_(math) {}

uint32_t TorchCpuGenerator::next_u32() {
  ++consumed_;
  return engine_.next();
}

float TorchCpuGenerator::uniform_f32() {
  // 24 random bits, exact in float32: [0, 1).
  return static_cast<float>(next_u32() & 0xFFFFFFu) * (1.0f / 16777216.0f);
}

double TorchCpuGenerator::uniform_f64() {
  const uint64_t hi = next_u32();
  const uint64_t lo = next_u32();
  const uint64_t r = (hi << 32) | lo;
  return static_cast<double>(r & ((uint64_t{1} << 53) - 1)) * (1.0 / 9007199254740992.0);
}

double TorchCpuGenerator::normal_f64() {
  if (next_double_normal_) {
    const double cached = *next_double_normal_;
    next_double_normal_.reset();
    return cached;
  }
  const double u1 = uniform_f64();
  const double u2 = uniform_f64();
  const double r = std::sqrt(-2.0 * std::log(1.0 - u2));
  const double theta = 2.0 * kPi * u1;
  next_double_normal_ = r * std::sin(theta);
  return r * std::cos(theta);
}

// data[0..16) holds uniforms on entry and normals on exit: values j and j + 8
// are the cosine and sine halves of one Box-Muller pair.
void TorchCpuGenerator::normal_fill_16(float* data) const {
  if (math_ == TorchCpuMath::Avx2) {
    for (int j = 0; j < 8; ++j) {
      const float u1 = 1.0f - data[j];
      const float u2 = data[j + 8];
      const float radius = std::sqrt(-2.0f * cephes_f32::log(u1));
      const float theta = kTwoPiF * u2;
      float s, c;
      cephes_f32::sincos(theta, &s, &c);
      data[j] = radius * c;
      data[j + 8] = radius * s;
    }
  } else {
    for (int j = 0; j < 8; ++j) {
      const float u1 = 1.0f - data[j];
      const float u2 = data[j + 8];
      const float radius = std::sqrt(-2.0f * std::log(u1));
      // torch: 2.0f * c10::pi<double> * u2, evaluated in double, stored as float.
      const float theta = static_cast<float>(2.0 * kPi * static_cast<double>(u2));
      data[j] = radius * std::cos(theta);
      data[j + 8] = radius * std::sin(theta);
    }
  }
}

void TorchCpuGenerator::normal_fill(float* data, int64_t count) {
  for (int64_t i = 0; i < count; ++i) data[i] = uniform_f32();
  for (int64_t i = 0; i + 16 <= count; i += 16) normal_fill_16(data + i);
  if (count % 16 != 0) {
    // The tail: redraw and recompute the last 16 values (overlapping the
    // previous block), as torch does.
    float* tail = data + count - 16;
    for (int i = 0; i < 16; ++i) tail[i] = uniform_f32();
    normal_fill_16(tail);
  }
}

void TorchCpuGenerator::randn_into(float* out, int64_t count) {
  SD_CHECK(count >= 0, "randn: negative element count");
  if (count >= 16) {
    normal_fill(out, count);
  } else {
    for (int64_t i = 0; i < count; ++i) out[i] = static_cast<float>(normal_f64());
  }
}

Tensor TorchCpuGenerator::randn(const Shape& shape) {
  Tensor t = Tensor::host(shape, DType::F32);
  randn_into(t.data<float>(), t.numel());
  return t;
}

}  // namespace sd
