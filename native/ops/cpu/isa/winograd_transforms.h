// The three transforms of Winograd F(4x4, 3x3), written once over a SIMD
// register type and instantiated by winograd_avx512.cpp and winograd_avx2.cpp
// (the driver, the GEMMs between them and the reasons are in
// ops/cpu/winograd.cpp). With d a 6x6 input patch, g a 3x3 kernel and Y the
// 4x4 output:
//   Y = A^T [ (G g G^T) . (B^T d B) ] A
// points 0, 1, -1, 2, -2 and infinity (Lavin & Gray), checked against float64
// references by `sd-driver check-ops`.
//
// Only the instruction-set files include this, each under its own compiler
// flags: everything here is in an anonymous namespace so that no copy built
// for one instruction set can be linked into code that runs on another.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "ops/cpu/winograd_kernels.h"

namespace sd {
namespace {
namespace winograd {

// Vec: the register type with lanes, zero, load (float and fp16), store, add,
// sub, mul(float, v) and fmadd(float, v, w) = s * v + w.

template <typename Vec>
inline void input_1d(const typename Vec::T d[6], typename Vec::T t[6]) {
  const auto a = Vec::fmadd(-4.0f, d[2], d[4]), b = Vec::fmadd(-4.0f, d[1], d[3]);
  const auto c = Vec::sub(d[4], d[2]), e = Vec::mul(2.0f, Vec::sub(d[3], d[1]));
  t[0] = Vec::fmadd(4.0f, d[0], Vec::fmadd(-5.0f, d[2], d[4]));
  t[1] = Vec::add(a, b);
  t[2] = Vec::sub(a, b);
  t[3] = Vec::add(c, e);
  t[4] = Vec::sub(c, e);
  t[5] = Vec::fmadd(4.0f, d[1], Vec::fmadd(-5.0f, d[3], d[5]));
}

template <typename Vec>
inline void output_1d(const typename Vec::T m[6], typename Vec::T o[4]) {
  const auto s1 = Vec::add(m[1], m[2]), d1 = Vec::sub(m[1], m[2]);
  const auto s3 = Vec::add(m[3], m[4]), d3 = Vec::sub(m[3], m[4]);
  o[0] = Vec::add(Vec::add(m[0], s1), s3);
  o[1] = Vec::fmadd(2.0f, d3, d1);
  o[2] = Vec::fmadd(4.0f, s3, s1);
  o[3] = Vec::add(Vec::fmadd(8.0f, d3, d1), m[5]);
}

template <typename Vec>
inline void weight_1d(const typename Vec::T g[3], typename Vec::T u[6]) {
  const auto s = Vec::add(g[0], g[2]);
  const auto q = Vec::fmadd(1.0f / 24.0f, g[0], Vec::mul(1.0f / 6.0f, g[2])), r = Vec::mul(1.0f / 12.0f, g[1]);
  u[0] = Vec::mul(0.25f, g[0]);
  u[1] = Vec::mul(-1.0f / 6.0f, Vec::add(s, g[1]));
  u[2] = Vec::mul(-1.0f / 6.0f, Vec::sub(s, g[1]));
  u[3] = Vec::add(q, r);
  u[4] = Vec::sub(q, r);
  u[5] = g[2];
}

// Row PY of G applied to 3 values.
template <typename Vec, int PY>
inline typename Vec::T weight_row(const typename Vec::T g[3]) {
  if constexpr (PY == 0) return Vec::mul(0.25f, g[0]);
  if constexpr (PY == 1) return Vec::mul(-1.0f / 6.0f, Vec::add(Vec::add(g[0], g[2]), g[1]));
  if constexpr (PY == 2) return Vec::mul(-1.0f / 6.0f, Vec::sub(Vec::add(g[0], g[2]), g[1]));
  const auto q = Vec::fmadd(1.0f / 24.0f, g[0], Vec::mul(1.0f / 6.0f, g[2]));
  if constexpr (PY == 3) return Vec::add(q, Vec::mul(1.0f / 12.0f, g[1]));
  if constexpr (PY == 4) return Vec::sub(q, Vec::mul(1.0f / 12.0f, g[1]));
  return g[2];
}

// The 6 points (PY, 0..5): row PY of G along the kernel's rows, then all of G
// along its columns. One row of points at a time keeps the slices in L2
// beside the products that read them (all 36 at once are 1.2-1.8 MB).
template <typename Vec, int PY, typename W>
void weights_row(const W* w, int64_t tap_stride, int64_t n, float* u, int64_t u_stride) {
  for (int64_t e = 0; e < n; e += Vec::lanes) {
    typename Vec::T z[3], t[6];
    for (int kx = 0; kx < 3; ++kx) {
      typename Vec::T g[3];
      for (int ky = 0; ky < 3; ++ky) g[ky] = Vec::load(w + (ky * 3 + kx) * tap_stride + e);
      z[kx] = weight_row<Vec, PY>(g);
    }
    weight_1d<Vec>(z, t);
    for (int px = 0; px < 6; ++px) Vec::store(u + px * u_stride + e, t[px]);
  }
}

template <typename Vec, typename W>
void weights(const W* w, int64_t tap_stride, int64_t n, int py, float* u, int64_t u_stride) {
  switch (py) {
    case 0: return weights_row<Vec, 0>(w, tap_stride, n, u, u_stride);
    case 1: return weights_row<Vec, 1>(w, tap_stride, n, u, u_stride);
    case 2: return weights_row<Vec, 2>(w, tap_stride, n, u, u_stride);
    case 3: return weights_row<Vec, 3>(w, tap_stride, n, u, u_stride);
    case 4: return weights_row<Vec, 4>(w, tap_stride, n, u, u_stride);
    default: return weights_row<Vec, 5>(w, tap_stride, n, u, u_stride);
  }
}

template <typename Vec>
void input_tile(const float* const* pixels, int64_t channels, float* v, int64_t v_stride) {
  for (int64_t c = 0; c < channels; c += Vec::lanes) {
    typename Vec::T rows[6][6];  // B^T d: row i of the transform, column j of the patch
    for (int j = 0; j < 6; ++j) {
      typename Vec::T d[6], t[6];
      for (int i = 0; i < 6; ++i) {
        const float* p = pixels[i * 6 + j];
        d[i] = p ? Vec::load(p + c) : Vec::zero();
      }
      input_1d<Vec>(d, t);
      for (int i = 0; i < 6; ++i) rows[i][j] = t[i];
    }
    for (int i = 0; i < 6; ++i) {
      typename Vec::T t[6];
      input_1d<Vec>(rows[i], t);
      for (int j = 0; j < 6; ++j) Vec::store(v + (i * 6 + j) * v_stride + c, t[j]);
    }
  }
}

template <typename Vec>
void output_tile(const float* m, int64_t m_stride, int64_t cols, const float* bias, float* const* out,
                 const float* const* residual) {
  for (int64_t c = 0; c < cols; c += Vec::lanes) {
    typename Vec::T rows[4][6];  // A^T M: output row i, transform column j
    for (int j = 0; j < 6; ++j) {
      typename Vec::T mv[6], o[4];
      for (int i = 0; i < 6; ++i) mv[i] = Vec::load(m + (i * 6 + j) * m_stride + c);
      output_1d<Vec>(mv, o);
      for (int i = 0; i < 4; ++i) rows[i][j] = o[i];
    }
    const auto b = bias ? Vec::load(bias + c) : Vec::zero();
    for (int i = 0; i < 4; ++i) {
      typename Vec::T o[4];
      output_1d<Vec>(rows[i], o);
      for (int j = 0; j < 4; ++j) {
        float* dst = out[i * 4 + j];
        if (!dst) continue;
        auto y = Vec::add(o[j], b);
        if (residual) y = Vec::add(y, Vec::load(residual[i * 4 + j] + c));
        Vec::store(dst + c, y);
      }
    }
  }
}

// The table an instruction-set file hands to the driver.
template <typename Vec>
const WinogradTransforms& transforms() {
  static const WinogradTransforms t{input_tile<Vec>, weights<Vec, float>, weights<Vec, uint16_t>, output_tile<Vec>};
  return t;
}

}  // namespace winograd
}  // namespace
}  // namespace sd
