#include "sample/strict_fp.h"
#include "sample/rng_philox.h"

#include <cmath>

namespace sd {

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(c[0]) * kM0;
    const uint64_t p1 = static_cast<uint64_t>(c[2]) * kM1;
    c = {static_cast<uint32_t>(p1 >> 32) ^ c[1] ^ k[0], static_cast<uint32_t>(p1),
         static_cast<uint32_t>(p0 >> 32) ^ c[3] ^ k[1], static_cast<uint32_t>(p0)};
    k[0] += kW0;
    k[1] += kW1;
  }
  return c;
}

void PhiloxGenerator::randn_into(float* out, int64_t count) {
  SD_CHECK(count >= 0 && count <= int64_t{0xFFFFFFFF}, "randn: ", count,
           " values do not fit one Philox draw (at most 2^32 - 1)");
  // The float32 constants of curand's Box-Muller, widened to double as the
  // webui's numpy code does.
  const double a = static_cast<double>(2.3283064e-10f);
  const double b = static_cast<double>(static_cast<float>(2.3283064e-10 * 6.2831855));
  const std::array<uint32_t, 2> key = {static_cast<uint32_t>(seed_), static_cast<uint32_t>(seed_ >> 32)};
  const uint32_t offset = offset_++;
  for (int64_t i = 0; i < count; ++i) {
    const auto r = philox4x32_10({offset, 0u, static_cast<uint32_t>(i), 0u}, key);
    // Separate statements: the products must be rounded before the sums (no FMA).
    const double xa = static_cast<double>(r[0]) * a;
    const double yb = static_cast<double>(r[1]) * b;
    const double u = xa + a / 2;
    const double v = yb + b / 2;
    out[i] = static_cast<float>(std::sqrt(-2.0 * std::log(u)) * std::sin(v));
  }
}

Tensor PhiloxGenerator::randn(const Shape& shape) {
  Tensor t = Tensor::host(shape, DType::F32);
  randn_into(t.data<float>(), t.numel());
  return t;
}

}  // namespace sd
