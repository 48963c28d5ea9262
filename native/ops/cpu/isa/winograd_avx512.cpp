// The three transforms of Winograd F(4x4, 3x3) on 16 lanes at a time (the
// driver, the GEMMs between them and the reasons are in ops/cpu/winograd.cpp).
// With d a 6x6 input patch, g a 3x3 kernel and Y the 4x4 output:
//   Y = A^T [ (G g G^T) . (B^T d B) ] A
// points 0, 1, -1, 2, -2 and infinity (Lavin & Gray), checked against float64
// references by `sd-driver check-ops`. Raw pointers only: this file is built
// with AVX-512 flags, and nothing inline from a shared header may be emitted
// from here.
#include <immintrin.h>

#include <cstdint>

namespace sd {

namespace {

inline __m512 mul(float s, __m512 x) { return _mm512_mul_ps(_mm512_set1_ps(s), x); }
inline __m512 fmadd(float s, __m512 x, __m512 y) { return _mm512_fmadd_ps(_mm512_set1_ps(s), x, y); }

// B^T applied to 6 values: the 1D input transform.
inline void input_1d(const __m512 d[6], __m512 t[6]) {
  const __m512 a = fmadd(-4.0f, d[2], d[4]), b = fmadd(-4.0f, d[1], d[3]);
  const __m512 c = _mm512_sub_ps(d[4], d[2]), e = mul(2.0f, _mm512_sub_ps(d[3], d[1]));
  t[0] = fmadd(4.0f, d[0], fmadd(-5.0f, d[2], d[4]));
  t[1] = _mm512_add_ps(a, b);
  t[2] = _mm512_sub_ps(a, b);
  t[3] = _mm512_add_ps(c, e);
  t[4] = _mm512_sub_ps(c, e);
  t[5] = fmadd(4.0f, d[1], fmadd(-5.0f, d[3], d[5]));
}

// A^T applied to 6 values: the 1D output transform.
inline void output_1d(const __m512 m[6], __m512 o[4]) {
  const __m512 s1 = _mm512_add_ps(m[1], m[2]), d1 = _mm512_sub_ps(m[1], m[2]);
  const __m512 s3 = _mm512_add_ps(m[3], m[4]), d3 = _mm512_sub_ps(m[3], m[4]);
  o[0] = _mm512_add_ps(_mm512_add_ps(m[0], s1), s3);
  o[1] = fmadd(2.0f, d3, d1);
  o[2] = fmadd(4.0f, s3, s1);
  o[3] = _mm512_add_ps(fmadd(8.0f, d3, d1), m[5]);
}

// G applied to 3 values: the 1D weight transform.
inline void weight_1d(const __m512 g[3], __m512 u[6]) {
  const __m512 s = _mm512_add_ps(g[0], g[2]);
  const __m512 q = fmadd(1.0f / 24.0f, g[0], mul(1.0f / 6.0f, g[2])), r = mul(1.0f / 12.0f, g[1]);
  u[0] = mul(0.25f, g[0]);
  u[1] = mul(-1.0f / 6.0f, _mm512_add_ps(s, g[1]));
  u[2] = mul(-1.0f / 6.0f, _mm512_sub_ps(s, g[1]));
  u[3] = _mm512_add_ps(q, r);
  u[4] = _mm512_sub_ps(q, r);
  u[5] = g[2];
}

inline __m512 load_tap(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 load_tap(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Row PY of G applied to 3 values.
template <int PY>
inline __m512 weight_row(const __m512 g[3]) {
  if constexpr (PY == 0) return mul(0.25f, g[0]);
  if constexpr (PY == 1) return mul(-1.0f / 6.0f, _mm512_add_ps(_mm512_add_ps(g[0], g[2]), g[1]));
  if constexpr (PY == 2) return mul(-1.0f / 6.0f, _mm512_sub_ps(_mm512_add_ps(g[0], g[2]), g[1]));
  if constexpr (PY == 3) return _mm512_add_ps(fmadd(1.0f / 24.0f, g[0], mul(1.0f / 6.0f, g[2])), mul(1.0f / 12.0f, g[1]));
  if constexpr (PY == 4) return _mm512_sub_ps(fmadd(1.0f / 24.0f, g[0], mul(1.0f / 6.0f, g[2])), mul(1.0f / 12.0f, g[1]));
  return g[2];
}

// The 6 points (PY, 0..5): row PY of G along the kernel's rows, then all of G
// along its columns. Computing one row of points at a time keeps the slices
// in L2 next to the products that read them: all 36 at once (1.2-1.8 MB)
// were written out to L3 and read back.
template <int PY, typename W>
void weights_row(const W* w, int64_t tap_stride, int64_t n, float* u, int64_t u_stride) {
  for (int64_t e = 0; e < n; e += 16) {
    __m512 z[3];
    for (int kx = 0; kx < 3; ++kx) {
      __m512 g[3];
      for (int ky = 0; ky < 3; ++ky) g[ky] = load_tap(w + (ky * 3 + kx) * tap_stride + e);
      z[kx] = weight_row<PY>(g);
    }
    __m512 t[6];
    weight_1d(z, t);
    for (int px = 0; px < 6; ++px) _mm512_storeu_ps(u + px * u_stride + e, t[px]);
  }
}

template <typename W>
void weights(const W* w, int64_t tap_stride, int64_t n, int py, float* u, int64_t u_stride) {
  switch (py) {
    case 0: return weights_row<0>(w, tap_stride, n, u, u_stride);
    case 1: return weights_row<1>(w, tap_stride, n, u, u_stride);
    case 2: return weights_row<2>(w, tap_stride, n, u, u_stride);
    case 3: return weights_row<3>(w, tap_stride, n, u, u_stride);
    case 4: return weights_row<4>(w, tap_stride, n, u, u_stride);
    default: return weights_row<5>(w, tap_stride, n, u, u_stride);
  }
}

}  // namespace

void winograd_input_tile_avx512(const float* const* pixels, int64_t channels, float* v, int64_t v_stride) {
  for (int64_t c = 0; c < channels; c += 16) {
    __m512 rows[6][6];  // B^T d: row i of the transform, column j of the patch
    for (int j = 0; j < 6; ++j) {
      __m512 d[6], t[6];
      for (int i = 0; i < 6; ++i) {
        const float* p = pixels[i * 6 + j];
        d[i] = p ? _mm512_loadu_ps(p + c) : _mm512_setzero_ps();
      }
      input_1d(d, t);
      for (int i = 0; i < 6; ++i) rows[i][j] = t[i];
    }
    for (int i = 0; i < 6; ++i) {
      __m512 t[6];
      input_1d(rows[i], t);
      for (int j = 0; j < 6; ++j) _mm512_storeu_ps(v + (i * 6 + j) * v_stride + c, t[j]);
    }
  }
}

void winograd_weights_f32_avx512(const float* w, int64_t tap_stride, int64_t n, int py, float* u, int64_t u_stride) {
  weights(w, tap_stride, n, py, u, u_stride);
}

void winograd_weights_f16_avx512(const uint16_t* w, int64_t tap_stride, int64_t n, int py, float* u,
                                 int64_t u_stride) {
  weights(w, tap_stride, n, py, u, u_stride);
}

void winograd_output_tile_avx512(const float* m, int64_t m_stride, int64_t cols, const float* bias,
                                 float* const* out, const float* const* residual) {
  for (int64_t c = 0; c < cols; c += 16) {
    __m512 rows[4][6];  // A^T M: output row i, transform column j
    for (int j = 0; j < 6; ++j) {
      __m512 mv[6], o[4];
      for (int i = 0; i < 6; ++i) mv[i] = _mm512_loadu_ps(m + (i * 6 + j) * m_stride + c);
      output_1d(mv, o);
      for (int i = 0; i < 4; ++i) rows[i][j] = o[i];
    }
    const __m512 b = bias ? _mm512_loadu_ps(bias + c) : _mm512_setzero_ps();
    for (int i = 0; i < 4; ++i) {
      __m512 o[4];
      output_1d(rows[i], o);
      for (int j = 0; j < 4; ++j) {
        float* dst = out[i * 4 + j];
        if (!dst) continue;
        __m512 y = _mm512_add_ps(o[j], b);
        if (residual) y = _mm512_add_ps(y, _mm512_loadu_ps(residual[i * 4 + j] + c));
        _mm512_storeu_ps(dst + c, y);
      }
    }
  }
}

}  // namespace sd
