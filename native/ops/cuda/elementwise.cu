#include <cuda_fp16.h>

#include "ops/cuda/common.cuh"
#include "ops/cuda/cuda_check.h"
#include "ops/cuda/kernels.cuh"

namespace sd {
namespace cuda {

namespace {

#define SD_GRID_LOOP(i, n) \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); i += static_cast<int64_t>(gridDim.x) * blockDim.x)

template <typename T>
__global__ void unary_kernel(const T* x, T* y, int64_t n, Unary op) {
  SD_GRID_LOOP(i, n) {
    const float v = to_float(x[i]);
    const float r = op == Unary::Silu ? silu(v) : op == Unary::Gelu ? gelu_erf(v) : quick_gelu(v);
    y[i] = from_float<T>(r);
  }
}

template <typename T>
__global__ void geglu_kernel(const T* x, T* y, int64_t rows, int f) {
  SD_GRID_LOOP(i, rows * f) {
    const int64_t r = i / f;
    const int c = static_cast<int>(i - r * f);
    const T* xr = x + r * 2 * f;
    y[i] = from_float<T>(to_float(xr[c]) * gelu_erf(to_float(xr[f + c])));
  }
}

template <typename T>
__global__ void add_kernel(const T* a, const T* b, T* y, int64_t n) {
  SD_GRID_LOOP(i, n) { y[i] = from_float<T>(to_float(a[i]) + to_float(b[i])); }
}

template <typename T>
__global__ void add_channel_vector_kernel(T* x, const T* v, int64_t pixels, int channels, int64_t n) {
  SD_GRID_LOOP(i, n) {
    const int c = static_cast<int>(i % channels);
    const int64_t b = i / (pixels * channels);
    x[i] = from_float<T>(to_float(x[i]) + to_float(v[b * channels + c]));
  }
}

template <typename T>
__global__ void upsample_kernel(const T* x, T* y, int h, int w, int c, int oh, int ow, int64_t n) {
  SD_GRID_LOOP(i, n) {
    const int ch = static_cast<int>(i % c);
    int64_t rest = i / c;
    const int ox = static_cast<int>(rest % ow);
    rest /= ow;
    const int oy = static_cast<int>(rest % oh);
    const int64_t b = rest / oh;
    y[i] = x[((b * h + static_cast<int64_t>(oy) * h / oh) * w + static_cast<int64_t>(ox) * w / ow) * c + ch];
  }
}

template <typename T>
__global__ void concat_kernel(const T* a, int ca, const T* b, int cb, T* y, int64_t n) {
  SD_GRID_LOOP(i, n) {
    const int c = static_cast<int>(i % (ca + cb));
    const int64_t r = i / (ca + cb);
    y[i] = c < ca ? a[r * ca + c] : b[r * cb + (c - ca)];
  }
}

template <typename T>
__global__ void embedding_kernel(const int32_t* ids, const T* table, T* y, int64_t count, int width, int rows) {
  SD_GRID_LOOP(i, count * width) {
    const int64_t t = i / width;
    const int c = static_cast<int>(i - t * width);
    int id = ids[t];
    id = id < 0 ? 0 : (id >= rows ? rows - 1 : id);  // ids are validated on the host
    y[i] = table[static_cast<int64_t>(id) * width + c];
  }
}

template <typename T>
__global__ void nchw_to_nhwc_kernel(const T* x, T* y, int channels, int64_t pixels, int64_t n) {
  SD_GRID_LOOP(i, n) {
    const int c = static_cast<int>(i % channels);
    const int64_t rest = i / channels;
    const int64_t p = rest % pixels, b = rest / pixels;
    y[i] = x[(b * channels + c) * pixels + p];
  }
}

template <typename T>
__global__ void nhwc_to_nchw_kernel(const T* x, T* y, int channels, int64_t pixels, int64_t n) {
  SD_GRID_LOOP(i, n) {
    const int64_t p = i % pixels;
    const int64_t rest = i / pixels;
    const int c = static_cast<int>(rest % channels);
    const int64_t b = rest / channels;
    y[i] = x[(b * pixels + p) * channels + c];
  }
}

template <typename From, typename To>
__global__ void cast_kernel(const From* x, To* y, int64_t n) {
  SD_GRID_LOOP(i, n) { y[i] = from_float<To>(to_float(x[i])); }
}

constexpr int kThreads = 256;

}  // namespace

template <typename T>
void unary(const T* x, T* y, int64_t n, Unary op, cudaStream_t s) {
  if (n == 0) return;
  unary_kernel<T><<<blocks_for(n, kThreads), kThreads, 0, s>>>(x, y, n, op);
  SD_CUDA_CHECK_LAUNCH("activation");
}
template <typename T>
void geglu(const T* x, T* y, int64_t rows, int f, cudaStream_t s) {
  if (rows == 0) return;
  geglu_kernel<T><<<blocks_for(rows * f, kThreads), kThreads, 0, s>>>(x, y, rows, f);
  SD_CUDA_CHECK_LAUNCH("geglu");
}
template <typename T>
void add(const T* a, const T* b, T* y, int64_t n, cudaStream_t s) {
  if (n == 0) return;
  add_kernel<T><<<blocks_for(n, kThreads), kThreads, 0, s>>>(a, b, y, n);
  SD_CUDA_CHECK_LAUNCH("add");
}
template <typename T>
void add_channel_vector(T* x, const T* v, int batch, int64_t pixels, int channels, cudaStream_t s) {
  const int64_t n = static_cast<int64_t>(batch) * pixels * channels;
  if (n == 0) return;
  add_channel_vector_kernel<T><<<blocks_for(n, kThreads), kThreads, 0, s>>>(x, v, pixels, channels, n);
  SD_CUDA_CHECK_LAUNCH("add_channel_vector");
}
template <typename T>
void upsample_nearest(const T* x, T* y, int batch, int h, int w, int c, int oh, int ow, cudaStream_t s) {
  const int64_t n = static_cast<int64_t>(batch) * oh * ow * c;
  if (n == 0) return;
  upsample_kernel<T><<<blocks_for(n, kThreads), kThreads, 0, s>>>(x, y, h, w, c, oh, ow, n);
  SD_CUDA_CHECK_LAUNCH("upsample");
}
template <typename T>
void concat_channels(const T* a, int ca, const T* b, int cb, T* y, int64_t rows, cudaStream_t s) {
  const int64_t n = rows * (ca + cb);
  if (n == 0) return;
  concat_kernel<T><<<blocks_for(n, kThreads), kThreads, 0, s>>>(a, ca, b, cb, y, n);
  SD_CUDA_CHECK_LAUNCH("concat");
}
template <typename T>
void embedding(const int32_t* ids, const T* table, T* y, int64_t count, int width, int rows, cudaStream_t s) {
  if (count == 0) return;
  embedding_kernel<T><<<blocks_for(count * width, kThreads), kThreads, 0, s>>>(ids, table, y, count, width, rows);
  SD_CUDA_CHECK_LAUNCH("embedding");
}
template <typename T>
void nchw_to_nhwc(const T* x, T* y, int batch, int channels, int64_t pixels, cudaStream_t s) {
  const int64_t n = static_cast<int64_t>(batch) * channels * pixels;
  if (n == 0) return;
  nchw_to_nhwc_kernel<T><<<blocks_for(n, kThreads), kThreads, 0, s>>>(x, y, channels, pixels, n);
  SD_CUDA_CHECK_LAUNCH("nchw_to_nhwc");
}
template <typename T>
void nhwc_to_nchw(const T* x, T* y, int batch, int64_t pixels, int channels, cudaStream_t s) {
  const int64_t n = static_cast<int64_t>(batch) * channels * pixels;
  if (n == 0) return;
  nhwc_to_nchw_kernel<T><<<blocks_for(n, kThreads), kThreads, 0, s>>>(x, y, channels, pixels, n);
  SD_CUDA_CHECK_LAUNCH("nhwc_to_nchw");
}
template <typename From, typename To>
void cast(const From* x, To* y, int64_t n, cudaStream_t s) {
  if (n == 0) return;
  cast_kernel<From, To><<<blocks_for(n, kThreads), kThreads, 0, s>>>(x, y, n);
  SD_CUDA_CHECK_LAUNCH("cast");
}

#define SD_INSTANTIATE(T)                                                                       \
  template void unary<T>(const T*, T*, int64_t, Unary, cudaStream_t);                         \
  template void geglu<T>(const T*, T*, int64_t, int, cudaStream_t);                           \
  template void add<T>(const T*, const T*, T*, int64_t, cudaStream_t);                        \
  template void add_channel_vector<T>(T*, const T*, int, int64_t, int, cudaStream_t);         \
  template void upsample_nearest<T>(const T*, T*, int, int, int, int, int, int, cudaStream_t); \
  template void concat_channels<T>(const T*, int, const T*, int, T*, int64_t, cudaStream_t);  \
  template void embedding<T>(const int32_t*, const T*, T*, int64_t, int, int, cudaStream_t);  \
  template void nchw_to_nhwc<T>(const T*, T*, int, int, int64_t, cudaStream_t);               \
  template void nhwc_to_nchw<T>(const T*, T*, int, int64_t, int, cudaStream_t);
SD_INSTANTIATE(float)
SD_INSTANTIATE(half)
#undef SD_INSTANTIATE
template void cast<float, half>(const float*, half*, int64_t, cudaStream_t);
template void cast<half, float>(const half*, float*, int64_t, cudaStream_t);

}  // namespace cuda
}  // namespace sd
