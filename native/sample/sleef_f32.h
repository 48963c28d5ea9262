// float32 log and exp exactly as PyTorch's CPU kernels compute them: torch's
// Vectorized<float>::log()/exp() call SLEEF (Sleef_logf8_u10 / Sleef_expf8_u10,
// FMA builds), which are accurate to 1 ulp but not correctly rounded, so the C
// library's logf/expf differ from them in some last bits. The schedules feed
// these into fractional timesteps where the reference's tolerance is below one
// ulp, so the algorithms are reproduced here step by step (double-float
// arithmetic with FMAs, as SLEEF's FMA variants do).
//
// Include from a .cpp file that includes sample/strict_fp.h first.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "core/float_bits.h"

namespace sd::sleef_f32 {

namespace detail {

// A float pair x + y representing a value to about 48 bits.
struct F2 {
  float x, y;
};

// x + y exactly as the pair (s, error).
inline F2 add2(float x, float y) {
  const float s = x + y;
  const float v = s - x;
  const float a = s - v;
  const float b = x - a;
  const float c = y - v;
  return {s, b + c};
}

// (x.x + x.y) + (y.x + y.y), assuming |x| >= |y|.
inline F2 add(F2 x, F2 y) {
  const float s = x.x + y.x;
  float t = x.x - s;
  t = t + y.x;
  t = t + x.y;
  t = t + y.y;
  return {s, t};
}

// (x.x + x.y) + y, assuming |x| >= |y|.
inline F2 add(F2 x, float y) {
  const float s = x.x + y;
  float t = x.x - s;
  t = t + y;
  t = t + x.y;
  return {s, t};
}

inline F2 mul(F2 x, float y) {
  const float s = x.x * y;
  return {s, std::fma(x.y, y, std::fma(x.x, y, -s))};
}

inline F2 scale(F2 x, float s) { return {x.x * s, x.y * s}; }

inline F2 div(F2 n, F2 d) {
  const float t = 1.0f / d.x;
  const float s = n.x * t;
  const float u = std::fma(t, n.x, -s);
  const float v = std::fma(-d.y, t, std::fma(-d.x, t, 1.0f));
  return {s, std::fma(s, v, std::fma(n.y, t, u))};
}

}  // namespace detail

// Sleef_logf_u10
inline float log(float d) {
  using namespace detail;
  if (std::isnan(d) || d < 0) return std::numeric_limits<float>::quiet_NaN();
  if (d == 0) return -std::numeric_limits<float>::infinity();
  if (std::isinf(d)) return std::numeric_limits<float>::infinity();
  const bool tiny = d < std::numeric_limits<float>::min();
  if (tiny) d = d * (static_cast<float>(int64_t{1} << 32) * static_cast<float>(int64_t{1} << 32));
  // d = m * 2^e with m in [0.75, 1.5).
  int32_t e = static_cast<int32_t>((float_bits(d * (1.0f / 0.75f)) >> 23) & 0xff) - 0x7f;
  const float m = bits_float(float_bits(d) - static_cast<uint32_t>(e * (1 << 23)));
  if (tiny) e -= 64;
  F2 s = mul(F2{0.69314718246459960938f, -1.904654323148236017e-09f}, static_cast<float>(e));
  // log m = 2 atanh((m - 1) / (m + 1)), x = (m - 1) / (m + 1) in double-float.
  const F2 x = div(add2(-1.0f, m), add2(1.0f, m));
  const float x2 = x.x * x.x;
  float t = 0.3027294874e+0f;
  t = std::fma(t, x2, 0.3996108174e+0f);
  t = std::fma(t, x2, 0.6666694880e+0f);
  s = add(s, scale(x, 2.0f));
  const float x3 = x2 * x.x;
  s = add(s, x3 * t);
  return s.x + s.y;
}

// Sleef_expf_u10
inline float exp(float d) {
  using namespace detail;
  if (std::isnan(d)) return d;
  if (d > 100.0f) return std::numeric_limits<float>::infinity();
  if (d < -104.0f) return 0.0f;
  constexpr float kLog2E = 1.442695040888963407359924681001892137426645954152985934135449406931f;
  constexpr float kLn2Hi = 0.693145751953125f;
  constexpr float kLn2Lo = 1.428606765330187045e-06f;
  const int32_t q = static_cast<int32_t>(std::nearbyint(d * kLog2E));
  const float qf = static_cast<float>(q);
  float s = std::fma(qf, -kLn2Hi, d);
  s = std::fma(qf, -kLn2Lo, s);
  float u = 0.000198527617612853646278381f;
  u = std::fma(u, s, 0.00139304355252534151077271f);
  u = std::fma(u, s, 0.00833336077630519866943359f);
  u = std::fma(u, s, 0.0416664853692054748535156f);
  u = std::fma(u, s, 0.166666671633720397949219f);
  u = std::fma(u, s, 0.5f);
  const float s2 = s * s;
  u = 1.0f + std::fma(s2, u, s);
  // u * 2^q in two halves (q may exceed the exponent range of one factor).
  const int32_t q1 = q >> 1;
  const int32_t q2 = q - q1;
  u = u * bits_float(static_cast<uint32_t>(q1 + 0x7f) << 23);
  u = u * bits_float(static_cast<uint32_t>(q2 + 0x7f) << 23);
  return u;
}

}  // namespace sd::sleef_f32
