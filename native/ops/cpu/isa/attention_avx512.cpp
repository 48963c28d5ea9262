// AVX-512 P*V for attention: out[r][c] = inv[r] * sum_k p[r][k] * v[k][c].
// The softmax's 1/sum is applied here, once per output value, instead of once
// per score. Register tiles follow the head width (attention_layout.h).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "ops/cpu/attention_layout.h"

namespace sd {

namespace {

template <int MR, int NV>
void pv_tile(int64_t nk, const float* const* a, const float* b, float* const* out, const float* inv, int rows,
             __mmask16 last_mask) {
  __m512 acc[MR][NV];
#pragma GCC unroll 14
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 5
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  for (int64_t k = 0; k < nk; ++k) {
    __m512 bv[NV];
#pragma GCC unroll 5
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + (k * NV + v) * 16);
#pragma GCC unroll 14
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(a[r][k]);
#pragma GCC unroll 5
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 14
  for (int r = 0; r < MR; ++r) {
    if (r >= rows) break;
    const __m512 s = _mm512_set1_ps(inv[r]);
#pragma GCC unroll 5
    for (int v = 0; v < NV - 1; ++v) _mm512_storeu_ps(out[r] + v * 16, _mm512_mul_ps(acc[r][v], s));
    _mm512_mask_storeu_ps(out[r] + (NV - 1) * 16, last_mask, _mm512_mul_ps(acc[r][NV - 1], s));
  }
}

}  // namespace

// p: `rows` rows of nk probabilities (stride ldp); vp: V packed in `chunks`
// (value_chunks(dim), attention_layout.h); inv: per-row factors; out: rows of
// `dim` (stride ldo).
void attention_pv_avx512(int64_t nk, const float* p, int64_t ldp, int64_t rows, const float* vp, int64_t dim,
                         const ValueChunk* chunks, size_t n_chunks, const float* inv, float* out, int64_t ldo) {
  for (size_t c = 0; c < n_chunks; ++c) {
    const ValueChunk& chunk = chunks[c];
    const int64_t valid = std::min<int64_t>(int64_t{chunk.vectors} * 16, dim - chunk.col0);
    const int64_t last_lanes = valid - int64_t{chunk.vectors - 1} * 16;
    const __mmask16 last_mask = static_cast<__mmask16>(last_lanes >= 16 ? 0xFFFFu : (1u << last_lanes) - 1u);
    const float* b = vp + nk * chunk.col0;
    for (int64_t r0 = 0; r0 < rows; r0 += chunk.rows) {
      const float* a[14];
      float* o[14];
      const int n = static_cast<int>(std::min<int64_t>(chunk.rows, rows - r0));
      for (int r = 0; r < chunk.rows; ++r) {
        const int64_t row = r0 + std::min(r, n - 1);  // rows past the end repeat the last; never stored
        a[r] = p + row * ldp;
        o[r] = out + row * ldo + chunk.col0;
      }
      switch (chunk.vectors) {
        case 1: pv_tile<14, 1>(nk, a, b, o, inv + r0, n, last_mask); break;
        case 2: pv_tile<14, 2>(nk, a, b, o, inv + r0, n, last_mask); break;
        case 3: pv_tile<8, 3>(nk, a, b, o, inv + r0, n, last_mask); break;
        default: pv_tile<5, 5>(nk, a, b, o, inv + r0, n, last_mask); break;
      }
    }
  }
}

}  // namespace sd
