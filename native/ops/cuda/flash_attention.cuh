// Fused (flash-style) attention for fp16 activations; see flash_attention.cu.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace sd {
namespace cuda {

// q [batch, nq, heads*d] (row stride ldq), k/v [batch, nk, heads*d], out like q.
struct FlashArgs {
  const half* q;
  const half* k;
  const half* v;
  half* out;
  int64_t ldq, ldk, ldv, ldo;
  int batch, heads, nq, nk, d;
  float scale;
  bool causal;
};

bool flash_attention_supported(int head_dim, int device_major);
size_t flash_attention_smem_bytes(int head_dim);
void flash_attention(const FlashArgs& args, cudaStream_t stream);

}  // namespace cuda
}  // namespace sd
