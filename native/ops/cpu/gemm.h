// CPU matrix products for every layer: C[M, N] = A[M, K] * B[K, N] (+ bias)
// (+ residual). B is always a weight, packed once at load time into panels
// of the micro-kernel's width and kept in its storage precision (fp32, fp16
// or bf16; converted in registers). A is the activation, either dense rows or
// an implicit im2col of an NHWC image (convolution without materialising the
// 9x larger patch matrix).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace sd {

// B packed as [ceil(N / nr)][K][nr], zero-padded past N; with `pairs` (bf16
// weights on CPUs with bf16 dot products) as [ceil(N / nr)][K / 2][nr][2].
// Where element (k, column j of panel jp) lives.
inline int64_t panel_index(int64_t K, int nr, bool pairs, int64_t jp, int64_t k, int64_t j) {
  return pairs ? ((jp * (K / 2) + k / 2) * nr + j) * 2 + (k % 2) : (jp * K + k) * nr + j;
}
struct PackedWeight {
  int64_t K = 0;
  int64_t N = 0;
  int nr = 0;
  DType dtype = DType::F32;
  bool pairs = false;
  Tensor panels;
  // Convolution geometry when packed from a [Cout, Cin, kh, kw] kernel: k = (ky * kw + kx) * Cin + ci.
  int kh = 1, kw = 1, cin = 0;
  size_t bytes() const { return panels.defined() ? panels.nbytes() : 0; }
};

// w: [N, K] (a Linear's [out, in]) in F32/F16/BF16; stored as `storage`.
PackedWeight pack_linear_weight(const Tensor& w, DType storage);
// w: [Cout, Cin, kh, kw].
PackedWeight pack_conv_weight(const Tensor& w, DType storage);
// B given as a row-major [K, N] float matrix (e.g. attention's K^T or V), packed
// as `storage` (F32, or BF16 for bf16 products: k pairs when the CPU has them).
PackedWeight pack_kn_matrix(const float* b, int64_t K, int64_t N, int64_t ldb, DType storage = DType::F32);

struct GemmEpilogue {
  const float* bias = nullptr;      // [N]
  const float* residual = nullptr;  // [M, ldr], added after the bias
  int64_t ldr = 0;
};

// C = A * B with A dense: A[m * lda + k].
void gemm_dense(const float* a, int64_t lda, int64_t M, const PackedWeight& b, float* c, int64_t ldc,
                const GemmEpilogue& epi = {}, bool parallel = true);

struct ConvGeometry {
  int64_t batch = 1, in_h = 0, in_w = 0, in_c = 0;
  int64_t out_h = 0, out_w = 0;
  int stride = 1;
  int pad_top = 0, pad_left = 0;  // bottom/right padding follows from the output size
  // Nearest upsampling applied on the fly: in_h x in_w is the stored image,
  // the convolution reads it as (in_h * upsample) x (in_w * upsample).
  int upsample = 1;
};

// C[(n, oy, ox), co] = conv(input NHWC) with the packed kernel.
void gemm_conv(const float* input, const ConvGeometry& g, const PackedWeight& b, float* c,
               const GemmEpilogue& epi = {});

// The micro-kernel in use, for reports: "avx512 14x32" etc.
const char* gemm_kernel_name();
int gemm_panel_width();

}  // namespace sd
