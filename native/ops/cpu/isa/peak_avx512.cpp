// A register-only FMA loop: the fp32 ceiling of one core with AVX-512.
#include <immintrin.h>

#include <cstdint>

namespace sd {

// Runs `iters` rounds of 16 independent 16-wide FMAs; returns a value that
// depends on all of them (so nothing is optimised away). FLOPs = iters * 512.
float fma_peak_loop_avx512(int64_t iters) {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(1.0f + static_cast<float>(i) * 1e-6f);
  const __m512 m = _mm512_set1_ps(0.9999999f), a = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(acc[i], m, a);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 16; ++i) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

}  // namespace sd
