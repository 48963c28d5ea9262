// Packing weights into micro-kernel panels, once, at load time.
#include <cstring>
#include <vector>

#include "core/half.h"
#include "ops/cpu/gemm.h"
#include "ops/cpu/gemm_kernels.h"

namespace sd {

namespace {

// Writes one float as the panel's storage type.
inline void store_as(DType t, void* base, int64_t index, float v) {
  switch (t) {
    case DType::F32: static_cast<float*>(base)[index] = v; break;
    case DType::F16: static_cast<uint16_t*>(base)[index] = float_to_half(v); break;
    case DType::BF16: static_cast<uint16_t*>(base)[index] = float_to_bf16(v); break;
    default: fail("weights are stored as F32, F16 or BF16");
  }
}

// bf16 weights go in k pairs when the CPU multiplies in bf16 and every K-block
// the driver cuts starts at an even k (`even_blocks`). With AMX, only when every
// block is a multiple of 32 (`blocks_of_32`): AMX takes those, and on AMX
// machines the bf16 dot product left for other blocks is slower than fp32
// (82 vs 147 GFLOP/s a core measured here), so such weights stay widened to fp32.
PackedWeight make_panels(int64_t K, int64_t N, DType storage, bool even_blocks, bool blocks_of_32) {
  SD_CHECK(storage == DType::F32 || storage == DType::F16 || storage == DType::BF16,
           "weights are stored as F32, F16 or BF16, not ", dtype_name(storage));
  PackedWeight p;
  p.K = K;
  p.N = N;
  p.nr = active_gemm_kernel().nr;
  p.dtype = storage;
  const GemmMicroKernel& kern = active_gemm_kernel();
  p.pairs = storage == DType::BF16 && kern.bf16_dot != nullptr && K % 2 == 0 && even_blocks &&
            (kern.amx_32x32 == nullptr || blocks_of_32);
  const int64_t panels = (N + p.nr - 1) / p.nr;
  p.panels = Tensor::host_zeros({panels, K, p.nr}, storage);
  return p;
}

// Row n of the source weight as floats (K values in the source's own order).
void source_row(const Tensor& w, int64_t n, int64_t K, std::vector<float>& out) {
  out.resize(static_cast<size_t>(K));
  const uint8_t* base = static_cast<const uint8_t*>(w.raw()) + static_cast<size_t>(n * K) * dtype_size(w.dtype());
  convert_to_f32(w.dtype(), base, out.data(), static_cast<size_t>(K));
}

// The common case, weights already in the storage type (fp16 checkpoints
// stored as fp16) and no k pairs: the values are moved as they are. Going
// through float and back gave the same bits at a third of the load's CPU time.
template <typename E>
void move_values(const Tensor& w, PackedWeight& p, int64_t cin, int64_t taps) {
  const E* src = static_cast<const E*>(w.raw());
  E* dst = static_cast<E*>(p.panels.raw());
  const int64_t K = p.K, nr = p.nr;
  for (int64_t n = 0; n < p.N; ++n) {
    const E* row = src + n * K;
    E* column = dst + (n / nr) * K * nr + n % nr;
    for (int64_t ci = 0; ci < cin; ++ci)
      for (int64_t t = 0; t < taps; ++t) column[(t * cin + ci) * nr] = row[ci * taps + t];
  }
}

// Fills the panels from w [N, cin * taps], each row [ci][tap] (taps = 1 for a
// linear layer); the A side walks channels fastest within a tap, so element
// (ci, tap) goes to k = tap * cin + ci.
void fill_panels(const Tensor& w, PackedWeight& p, int64_t cin, int64_t taps) {
  if (w.dtype() == p.dtype && !p.pairs) {
    if (dtype_size(p.dtype) == 4) move_values<uint32_t>(w, p, cin, taps);
    else move_values<uint16_t>(w, p, cin, taps);
    return;
  }
  std::vector<float> row;
  for (int64_t n = 0; n < p.N; ++n) {
    source_row(w, n, p.K, row);
    const int64_t jp = n / p.nr, j = n % p.nr;
    for (int64_t ci = 0; ci < cin; ++ci)
      for (int64_t t = 0; t < taps; ++t)
        store_as(p.dtype, p.panels.raw(), panel_index(p.K, p.nr, p.pairs, jp, t * cin + ci, j),
                 row[static_cast<size_t>(ci * taps + t)]);
  }
}

}  // namespace

PackedWeight pack_linear_weight(const Tensor& w, DType storage) {
  SD_CHECK(w.ndim() == 2, "linear weight must be [out, in], got ", w.describe());
  const int64_t N = w.dim(0), K = w.dim(1);
  PackedWeight p = make_panels(K, N, storage, true, K % 32 == 0);
  fill_panels(w, p, K, 1);
  return p;
}

PackedWeight pack_conv_weight(const Tensor& w, DType storage) {
  SD_CHECK(w.ndim() == 4, "conv weight must be [out, in, kh, kw], got ", w.describe());
  const int64_t N = w.dim(0), cin = w.dim(1), kh = w.dim(2), kw = w.dim(3);
  const int64_t taps = kh * kw, K = cin * taps;
  // K-blocks start at tap boundaries and are Cin or a divisor of it (320, 384 for large Cin).
  PackedWeight p = make_panels(K, N, storage, cin % 2 == 0, cin % 32 == 0);
  p.kh = static_cast<int>(kh);
  p.kw = static_cast<int>(kw);
  p.cin = static_cast<int>(cin);
  fill_panels(w, p, cin, taps);
  return p;
}

PackedWeight pack_kn_matrix(const float* b, int64_t K, int64_t N, int64_t ldb, DType storage) {
  if (storage != DType::F32) {
    PackedWeight p = make_panels(K, N, storage, true, K % 32 == 0);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n)
        store_as(storage, p.panels.raw(), panel_index(p.K, p.nr, p.pairs, n / p.nr, k, n % p.nr), b[k * ldb + n]);
    return p;
  }
  PackedWeight p;
  p.K = K;
  p.N = N;
  p.nr = active_gemm_kernel().nr;
  p.dtype = DType::F32;
  const int64_t panels = (N + p.nr - 1) / p.nr;
  p.panels = Tensor::host({panels, K, p.nr}, DType::F32);
  float* dst = p.panels.data<float>();
  for (int64_t jp = 0; jp < panels; ++jp) {
    const int64_t n0 = jp * p.nr;
    const int64_t cols = std::min<int64_t>(p.nr, N - n0);
    for (int64_t k = 0; k < K; ++k) {
      float* d = dst + (jp * K + k) * p.nr;
      std::memcpy(d, b + k * ldb + n0, static_cast<size_t>(cols) * 4);
      for (int64_t j = cols; j < p.nr; ++j) d[j] = 0.0f;
    }
  }
  return p;
}

}  // namespace sd
