// The float32 log and sin/cos that torch's AVX2 randn uses (Cephes polynomials
// as vectorised in avx_mathfun.h: log256_ps, sincos256_ps), rewritten as
// portable scalar code that performs the same float32 operations in the same
// order, so the results are identical on every CPU.
//
// torch's AVX2 kernels are compiled by GCC with -mfma and its default
// floating-point contraction, which turns each multiply whose only use is an
// add into a fused multiply-add. Which pairs fuse follows from the statement
// order of avx_mathfun.h (GCC fuses a product into its add when it visits the
// product, in order); fma() below marks exactly those, every other product is
// rounded on its own. Checked against the fixtures: all stored AVX2 values
// match bit for bit, while either "no FMA at all" or "an FMA at every
// multiply-add" differs in a few values per thousand.
//
// Include from a .cpp file that includes sample/strict_fp.h first, so that
// the compiler adds no FMAs of its own.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/float_bits.h"

namespace sd::cephes_f32 {

// a * b + c rounded once.
inline float fma(float a, float b, float c) { return std::fma(a, b, c); }

// Natural log for x > 0 (the randn caller passes 1 - u, u in [0, 1)).
inline float log(float x) {
  constexpr float kSqrtHalf = 0.707106781186547524f;
  constexpr float kP[9] = {7.0376836292E-2f,  -1.1514610310E-1f, 1.1676998740E-1f,
                           -1.2420140846E-1f, +1.4249322787E-1f, -1.6668057665E-1f,
                           +2.0000714765E-1f, -2.4999993993E-1f, +3.3333331174E-1f};
  constexpr float kQ1 = -2.12194440e-4f;
  constexpr float kQ2 = 0.693359375f;

  // Split x = m * 2^e with m in [0.5, 1) by bit manipulation (denormals are
  // clamped to the smallest normal first, as the vector code does).
  const float smallest_normal = bits_float(0x00800000u);
  if (x < smallest_normal) x = smallest_normal;
  const uint32_t bits = float_bits(x);
  const int32_t biased = static_cast<int32_t>(bits >> 23) - 0x7f;
  float m = bits_float((bits & ~0x7f800000u) | float_bits(0.5f));
  float e = static_cast<float>(biased);
  e = e + 1.0f;
  // m < sqrt(1/2): use 2m - 1 and e - 1, else m - 1 (keeps the argument small).
  const bool below = m < kSqrtHalf;
  const float extra = below ? m : 0.0f;
  m = m - 1.0f;
  e = e - (below ? 1.0f : 0.0f);
  m = m + extra;

  const float z = m * m;
  float y = kP[0];
  for (int k = 1; k < 9; ++k) y = fma(y, m, kP[k]);
  y = y * m;
  // y * z fuses with the add of e * q1 (rounded on its own), the next two
  // products with their adds.
  const float e_q1 = e * kQ1;
  y = fma(y, z, e_q1);
  y = fma(-z, 0.5f, y);
  m = m + y;
  m = fma(e, kQ2, m);
  return m;
}

// sin and cos of x together (any x the randn caller produces: [0, 2 pi)).
inline void sincos(float x, float* sin_out, float* cos_out) {
  constexpr float kFourOverPi = 1.27323954473516f;
  constexpr float kMinusDP1 = -0.78515625f;
  constexpr float kMinusDP2 = -2.4187564849853515625e-4f;
  constexpr float kMinusDP3 = -3.77489497744594108e-8f;
  constexpr float kSin0 = -1.9515295891E-4f, kSin1 = 8.3321608736E-3f, kSin2 = -1.6666654611E-1f;
  constexpr float kCos0 = 2.443315711809948E-005f, kCos1 = -1.388731625493765E-003f,
                  kCos2 = 4.166664568298827E-002f;

  uint32_t sin_sign = float_bits(x) & 0x80000000u;
  x = std::fabs(x);

  // Octant j (rounded up to even) and the reduced argument x - j * pi/4,
  // with pi/4 split in three parts for extra precision.
  const float scaled = x * kFourOverPi;
  int32_t j = static_cast<int32_t>(scaled);  // truncation, as cvttps
  j = (j + 1) & ~1;
  const float jf = static_cast<float>(j);
  sin_sign ^= static_cast<uint32_t>(j & 4) << 29;
  const uint32_t cos_sign = static_cast<uint32_t>(~(j - 2) & 4) << 29;
  const bool sin_poly_is_sine = (j & 2) == 0;

  x = fma(jf, kMinusDP1, x);
  x = fma(jf, kMinusDP2, x);
  x = fma(jf, kMinusDP3, x);

  const float z = x * x;
  // cos(x) ~ 1 - z/2 + z^2 (c2 + c1 z + c0 z^2); the second product by z
  // fuses with the subtraction of z/2.
  float c = fma(kCos0, z, kCos1);
  c = fma(c, z, kCos2);
  c = c * z;
  const float half_z = z * 0.5f;
  c = fma(c, z, -half_z);
  c = c + 1.0f;
  // sin(x) ~ x + x z (s2 + s1 z + s0 z^2)
  float s = fma(kSin0, z, kSin1);
  s = fma(s, z, kSin2);
  s = s * z;
  s = fma(s, x, x);

  const float sin_value = sin_poly_is_sine ? s : c;
  const float cos_value = sin_poly_is_sine ? c : s;
  *sin_out = bits_float(float_bits(sin_value) ^ sin_sign);
  *cos_out = bits_float(float_bits(cos_value) ^ cos_sign);
}

}  // namespace sd::cephes_f32
