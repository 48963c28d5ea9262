// CUDA kernels other than the GEMM. T is the activation type (half or float);
// images are NHWC [B, pixels, C], token sequences [B, T, C]. Every launcher
// checks its launch and names the operation on failure.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace sd {
namespace cuda {

// `stats`: device workspace of batch * groups float2 (mean, rstd).
template <typename T>
void group_norm(const T* x, T* y, int batch, int64_t pixels, int channels, int groups, const float* gamma,
                const float* beta, float eps, bool silu, float2* stats, cudaStream_t s);
template <typename T>
void layer_norm(const T* x, T* y, int64_t rows, int channels, const float* gamma, const float* beta, float eps,
                cudaStream_t s);
// Row softmax of scores [rows, n] (float) scaled by `scale`, written as T; with `causal`, row r of
// query block q0 sees keys <= q0 + r % rows_per_batch.
template <typename T>
void softmax_rows(const float* scores, T* probs, int64_t rows, int n, float scale, bool causal, int rows_per_item,
                  int query_offset, cudaStream_t s);

enum class Unary { Silu, Gelu, QuickGelu };
template <typename T>
void unary(const T* x, T* y, int64_t n, Unary op, cudaStream_t s);
template <typename T>
void geglu(const T* x, T* y, int64_t rows, int f, cudaStream_t s);
template <typename T>
void add(const T* a, const T* b, T* y, int64_t n, cudaStream_t s);
template <typename T>
void add_channel_vector(T* x, const T* v, int batch, int64_t pixels, int channels, cudaStream_t s);
template <typename T>
void upsample_nearest(const T* x, T* y, int batch, int h, int w, int c, int oh, int ow, cudaStream_t s);
template <typename T>
void concat_channels(const T* a, int ca, const T* b, int cb, T* y, int64_t rows, cudaStream_t s);
template <typename T>
void embedding(const int32_t* ids, const T* table, T* y, int64_t count, int width, int rows, cudaStream_t s);
template <typename T>
void nchw_to_nhwc(const T* x, T* y, int batch, int channels, int64_t pixels, cudaStream_t s);
template <typename T>
void nhwc_to_nchw(const T* x, T* y, int batch, int64_t pixels, int channels, cudaStream_t s);
template <typename From, typename To>
void cast(const From* x, To* y, int64_t n, cudaStream_t s);

}  // namespace cuda
}  // namespace sd
