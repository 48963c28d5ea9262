// exp, erf, SiLU and GELU on a SIMD register: vec_math.h's scalar formulas,
// written once and instantiated by vec_avx512.cpp (16 lanes) and vec_avx2.cpp
// (8 lanes). Only the instruction-set files include this, each under its own
// compiler flags, so everything here has internal linkage.
//
// V provides: T; set(float); zero(); add, sub, mul, div, min, max; fmadd(a, b,
// c) = a * b + c; fnmadd(a, b, c) = c - a * b; round (to nearest); abs;
// scale_pow2(p, n) = p * 2^n for whole n >= -126; odd(r, x) = x < 0 ? -r : r.
#pragma once

#include <immintrin.h>

namespace sd {
namespace {
namespace simd {

// exp(x), ~1 ulp on [-87, 88]; 0 below, +inf above.
template <typename V>
inline typename V::T exp(typename V::T x) {
  x = V::max(V::set(-87.3365f), V::min(V::set(88.7228f), x));
  // x = n ln2 + r with ln2 split in two for an exact reduction; Cephes' expf polynomial.
  const auto n = V::round(V::mul(x, V::set(1.44269504088896341f)));
  auto r = V::fnmadd(n, V::set(0.693359375f), x);
  r = V::fnmadd(n, V::set(-2.12194440e-4f), r);
  auto p = V::set(1.9875691500e-4f);
  p = V::fmadd(p, r, V::set(1.3981999507e-3f));
  p = V::fmadd(p, r, V::set(8.3334519073e-3f));
  p = V::fmadd(p, r, V::set(4.1665795894e-2f));
  p = V::fmadd(p, r, V::set(1.6666665459e-1f));
  p = V::fmadd(p, r, V::set(5.0000001201e-1f));
  p = V::fmadd(V::mul(p, r), r, V::add(r, V::set(1.0f)));
  return V::scale_pow2(p, n);
}

template <typename V>
inline typename V::T silu(typename V::T x) {
  return V::div(x, V::add(V::set(1.0f), exp<V>(V::sub(V::zero(), x))));
}

// erf through erfc's Chebyshev fit (Numerical Recipes erfcc), without branches.
template <typename V>
inline typename V::T erf(typename V::T x) {
  const auto z = V::abs(x);
  const auto t = V::div(V::set(1.0f), V::fmadd(V::set(0.5f), z, V::set(1.0f)));
  auto q = V::set(0.17087277f);
  q = V::fmadd(q, t, V::set(-0.82215223f));
  q = V::fmadd(q, t, V::set(1.48851587f));
  q = V::fmadd(q, t, V::set(-1.13520398f));
  q = V::fmadd(q, t, V::set(0.27886807f));
  q = V::fmadd(q, t, V::set(-0.18628806f));
  q = V::fmadd(q, t, V::set(0.09678418f));
  q = V::fmadd(q, t, V::set(0.37409196f));
  q = V::fmadd(q, t, V::set(1.00002368f));
  const auto poly = V::fmadd(q, t, V::sub(V::mul(V::sub(V::zero(), z), z), V::set(1.26551223f)));
  return V::odd(V::sub(V::set(1.0f), V::mul(t, exp<V>(poly))), x);
}

template <typename V>
inline typename V::T gelu(typename V::T x) {
  const auto e = erf<V>(V::mul(x, V::set(0.70710678118654752f)));
  return V::mul(V::mul(V::set(0.5f), x), V::add(V::set(1.0f), e));
}

}  // namespace simd
}  // namespace
}  // namespace sd
