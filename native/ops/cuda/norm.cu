// GroupNorm (+SiLU) and LayerNorm. Statistics accumulate in double, as on the
// CPU, so both backends agree to fp32 rounding.
#include <cuda_fp16.h>

#include "ops/cuda/common.cuh"
#include "ops/cuda/cuda_check.h"
#include "ops/cuda/kernels.cuh"

namespace sd {
namespace cuda {

namespace {

// One block per (group, batch item): mean and rstd of the group's values.
template <typename T>
__global__ void group_stats(const T* x, int64_t pixels, int channels, int per_group, float eps, float2* stats) {
  const int g = blockIdx.x, n = blockIdx.y;
  const T* xn = x + static_cast<int64_t>(n) * pixels * channels + g * per_group;
  const int64_t count = pixels * per_group;
  double s = 0, s2 = 0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
    const int64_t p = i / per_group;
    const int c = static_cast<int>(i - p * per_group);
    const double v = to_float(xn[p * channels + c]);
    s += v;
    s2 += v * v;
  }
  s = block_sum(s);
  s2 = block_sum(s2);
  if (threadIdx.x == 0) {
    const double mean = s / static_cast<double>(count);
    const double var = fmax(0.0, s2 / static_cast<double>(count) - mean * mean);
    stats[n * gridDim.x + g] = make_float2(static_cast<float>(mean), static_cast<float>(1.0 / sqrt(var + eps)));
  }
}

template <typename T>
__global__ void group_apply(const T* x, T* y, int64_t pixels, int channels, int per_group, int groups,
                            const float2* stats, const float* gamma, const float* beta, bool silu_after, int64_t total) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int c = static_cast<int>(i % channels);
    const int64_t n = i / (pixels * channels);
    const float2 st = stats[n * groups + c / per_group];
    float v = (to_float(x[i]) - st.x) * st.y * gamma[c] + beta[c];
    if (silu_after) v = silu(v);
    y[i] = from_float<T>(v);
  }
}

template <typename T>
__global__ void layer_norm_rows(const T* x, T* y, int channels, const float* gamma, const float* beta, float eps) {
  const int64_t row = blockIdx.x;
  const T* xr = x + row * channels;
  T* yr = y + row * channels;
  double s = 0;
  for (int c = threadIdx.x; c < channels; c += blockDim.x) s += to_float(xr[c]);
  const double mean = block_sum(s) / channels;
  double v2 = 0;
  for (int c = threadIdx.x; c < channels; c += blockDim.x) {
    const double d = to_float(xr[c]) - mean;
    v2 += d * d;
  }
  const double rstd = 1.0 / sqrt(block_sum(v2) / channels + eps);
  for (int c = threadIdx.x; c < channels; c += blockDim.x)
    yr[c] = from_float<T>(static_cast<float>((to_float(xr[c]) - mean) * rstd) * gamma[c] + beta[c]);
}

template <typename T>
__global__ void softmax_kernel(const float* scores, T* probs, int n, float scale, bool causal, int rows_per_item,
                               int query_offset) {
  const int64_t row = blockIdx.x;
  const float* sr = scores + row * n;
  T* pr = probs + row * n;
  const int visible = causal ? min(n, query_offset + static_cast<int>(row % rows_per_item) + 1) : n;
  __shared__ float red[32];
  float mx = -INFINITY;
  for (int j = threadIdx.x; j < visible; j += blockDim.x) mx = fmaxf(mx, sr[j] * scale);
  mx = warp_max(mx);
  if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = mx;
  __syncthreads();
  if (threadIdx.x < 32) {
    float v = threadIdx.x < (blockDim.x + 31) / 32 ? red[threadIdx.x] : -INFINITY;
    v = warp_max(v);
    if (threadIdx.x == 0) red[0] = v;
  }
  __syncthreads();
  mx = red[0];
  float sum = 0;
  for (int j = threadIdx.x; j < visible; j += blockDim.x) sum += __expf(sr[j] * scale - mx);
  sum = block_sum(sum);
  const float inv = 1.0f / sum;
  for (int j = threadIdx.x; j < n; j += blockDim.x)
    pr[j] = from_float<T>(j < visible ? __expf(sr[j] * scale - mx) * inv : 0.0f);
}

}  // namespace

template <typename T>
void group_norm(const T* x, T* y, int batch, int64_t pixels, int channels, int groups, const float* gamma,
                const float* beta, float eps, bool silu, float2* stats, cudaStream_t s) {
  SD_CHECK(groups > 0 && channels % groups == 0, "GroupNorm: ", channels, " channels do not split into ", groups, " groups");
  group_stats<T><<<dim3(groups, batch), 512, 0, s>>>(x, pixels, channels, channels / groups, eps, stats);
  SD_CUDA_CHECK_LAUNCH("group_norm statistics");
  const int64_t total = static_cast<int64_t>(batch) * pixels * channels;
  group_apply<T><<<blocks_for(total, 256), 256, 0, s>>>(x, y, pixels, channels, channels / groups, groups, stats, gamma,
                                                         beta, silu, total);
  SD_CUDA_CHECK_LAUNCH("group_norm");
}

template <typename T>
void layer_norm(const T* x, T* y, int64_t rows, int channels, const float* gamma, const float* beta, float eps,
                cudaStream_t s) {
  if (rows == 0) return;
  layer_norm_rows<T><<<static_cast<unsigned>(rows), 256, 0, s>>>(x, y, channels, gamma, beta, eps);
  SD_CUDA_CHECK_LAUNCH("layer_norm");
}

template <typename T>
void softmax_rows(const float* scores, T* probs, int64_t rows, int n, float scale, bool causal, int rows_per_item,
                  int query_offset, cudaStream_t s) {
  if (rows == 0) return;
  softmax_kernel<T><<<static_cast<unsigned>(rows), 256, 0, s>>>(scores, probs, n, scale, causal, rows_per_item, query_offset);
  SD_CUDA_CHECK_LAUNCH("attention softmax");
}

#define SD_INSTANTIATE(T)                                                                                        \
  template void group_norm<T>(const T*, T*, int, int64_t, int, int, const float*, const float*, float, bool,   \
                              float2*, cudaStream_t);                                                         \
  template void layer_norm<T>(const T*, T*, int64_t, int, const float*, const float*, float, cudaStream_t);    \
  template void softmax_rows<T>(const float*, T*, int64_t, int, float, bool, int, int, cudaStream_t);
SD_INSTANTIATE(float)
SD_INSTANTIATE(half)
#undef SD_INSTANTIATE

}  // namespace cuda
}  // namespace sd
