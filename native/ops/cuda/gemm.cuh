// CUDA matrix products: C = alpha * A * B (+ bias) (+ residual), optionally
// batched (grid.z = outer x inner, e.g. batch x heads). A is dense rows or the
// implicit im2col of an NHWC image (convolution without a patch matrix); B is
// [N, K] (weights, K contiguous) or [K, N] (attention's V). Half activations
// run on tensor cores (WMMA, sm_70+) with fp32 accumulation; float activations
// and pre-Volta GPUs use a tiled SIMT kernel.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace sd {
namespace cuda {

struct ConvGeo {
  int batch = 0, in_h = 0, in_w = 0, in_c = 0;
  int out_h = 0, out_w = 0;
  int kh = 1, kw = 1, stride = 1, pad_top = 0, pad_left = 0;
};

struct GemmArgs {
  int M = 0, N = 0, K = 0;
  const void* a = nullptr;
  int64_t lda = 0;
  const void* b = nullptr;
  int64_t ldb = 0;
  void* c = nullptr;
  int64_t ldc = 0;
  // Batch z = outer * inner_count + inner; operand offset = outer * stride_outer + inner * stride_inner (elements).
  int batch = 1;
  int inner_count = 1;
  int64_t a_outer = 0, a_inner = 0, b_outer = 0, b_inner = 0, c_outer = 0, c_inner = 0;
  float alpha = 1.0f;
  const float* bias = nullptr;    // [N]
  const void* residual = nullptr; // same type and shape as C, row stride ldr
  int64_t ldr = 0;
  bool conv = false;  // A is the implicit im2col of `geo`
  ConvGeo geo;
  bool b_kn = false;  // B is [K, N] instead of [N, K]
  // Split-K (set by gemm_split_k): block z covers K range [z * k_chunk, (z + 1) * k_chunk)
  // and writes raw fp32 partial sums to c + z * c_outer.
  int split_k = 1;
  int k_chunk = 0;
};

enum class GemmType { Half, Float };

// a/b/c/residual element types: activations and B are `in`; C is `out` (Half or Float).
void gemm(const GemmArgs& args, GemmType in, GemmType out, bool tensor_cores, cudaStream_t stream);

// How many K slices make an unbatched half GEMM fill `sm_count` multiprocessors (1 = don't split).
int gemm_split_k_factor(const GemmArgs& args, int sm_count);
// Half inputs on tensor cores, K split `splits` ways into `workspace` ([splits, M, N] fp32),
// then summed with the epilogue (alpha, bias, residual) into args.c.
void gemm_split_k(const GemmArgs& args, int splits, float* workspace, GemmType out, cudaStream_t stream);

}  // namespace cuda
}  // namespace sd
