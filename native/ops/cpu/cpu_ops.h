// CPU kernels other than the GEMM, on host float arrays. Images are NHWC:
// [batch, height * width, channels]; "tokens" are [batch, sequence, channels].
#pragma once

#include <cstdint>

namespace sd {
namespace cpu {

// GroupNorm over x [batch, pixels, channels]; gamma/beta [channels]; optional SiLU after.
void group_norm(const float* x, float* y, int64_t batch, int64_t pixels, int64_t channels, int groups,
                const float* gamma, const float* beta, float eps, bool silu);

// GroupNorm folded into a per-(batch, channel) affine map: y = x * scale + shift.
// scale/shift: [batch, channels]. Statistics in double over each group's values.
void group_norm_affine(const float* x, int64_t batch, int64_t pixels, int64_t channels, int groups,
                       const float* gamma, const float* beta, float eps, float* scale, float* shift);

// LayerNorm over the last dimension of x [rows, channels].
void layer_norm(const float* x, float* y, int64_t rows, int64_t channels, const float* gamma, const float* beta,
                float eps);

// Multi-head attention. q [batch, nq, heads*dim] (row stride ldq), k/v [batch, nk, heads*dim] (strides ldk/ldv),
// out [batch, nq, heads*dim] (stride ldo). softmax(q k^T * scale) v per head, exact softmax per query block:
// never more than a block of queries x nk scores in memory.
// bf16: the two products take bf16 inputs (fp32 accumulation), as PyTorch's bf16 autocast does.
// Which implementation attention() runs on this CPU: "f32-avx512", "bf16-amx",
// "bf16-dot" or "portable" (reports and tests).
const char* attention_driver(bool bf16);
void attention(const float* q, int64_t ldq, const float* k, int64_t ldk, const float* v, int64_t ldv, float* out,
               int64_t ldo, int64_t batch, int64_t nq, int64_t nk, int heads, int64_t dim, float scale, bool causal,
               bool bf16 = false);

void silu(const float* x, float* y, int64_t n);
void gelu(const float* x, float* y, int64_t n);
void quick_gelu(const float* x, float* y, int64_t n);
// x [rows, 2 * f] -> y [rows, f]: y = a * gelu(gate), a = x[:, :f], gate = x[:, f:].
void geglu(const float* x, float* y, int64_t rows, int64_t f);
void add(const float* a, const float* b, float* y, int64_t n);
// x [batch, pixels, channels] += v [batch, channels] (broadcast over pixels).
void add_channel_vector(float* x, const float* v, int64_t batch, int64_t pixels, int64_t channels);

void nchw_to_nhwc(const float* x, float* y, int64_t batch, int64_t channels, int64_t pixels);
void nhwc_to_nchw(const float* x, float* y, int64_t batch, int64_t pixels, int64_t channels);
// Nearest-neighbour resize of x [batch, h, w, c] -> [batch, oh, ow, c].
void upsample_nearest(const float* x, float* y, int64_t batch, int64_t h, int64_t w, int64_t c, int64_t oh, int64_t ow);
// y [rows, ca + cb] = concat(a [rows, ca], b [rows, cb]).
void concat_channels(const float* a, int64_t ca, const float* b, int64_t cb, float* y, int64_t rows);

}  // namespace cpu
}  // namespace sd
