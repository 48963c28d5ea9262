// The element loops that use exp: AVX-512 when the CPU has it, AVX2 + FMA
// otherwise, else the portable scalar versions (same formulas, vec_math.h).
#pragma once

#include <cstdint>

namespace sd {

void softmax_row(float* row, int64_t visible, int64_t n, float scale);
// exp(scale * x - max) over the first `visible` entries, 0 past them; returns
// their sum, so a caller can divide once per output row instead of per score.
float softmax_exp_row(float* row, int64_t visible, int64_t n, float scale);
// sum[c] += x[p][c], sum2[c] += x[p][c]^2 over the pixels, in double (GroupNorm's statistics).
void channel_sums(const float* x, int64_t pixels, int64_t channels, double* sum, double* sum2);
// LayerNorm of one row; statistics and the affine step in double.
void layer_norm_row(const float* x, float* y, int64_t n, const float* gamma, const float* beta, float eps);
void silu_rows(const float* x, float* y, int64_t n);
void gelu_rows(const float* x, float* y, int64_t n);
void geglu_row(const float* a, const float* gate, float* out, int64_t f);
// y = x * scale + shift per channel (+ SiLU): GroupNorm's second pass.
void scale_shift_silu(const float* x, float* y, const float* scale, const float* shift, int64_t channels, bool silu);

}  // namespace sd
