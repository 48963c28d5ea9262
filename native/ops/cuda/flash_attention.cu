// Fused attention for fp16 activations (sm_70+ tensor cores): per block, 32
// queries of one (batch, head) walk the keys 32 at a time with an online
// softmax, so the [queries, keys] score matrix never leaves shared memory —
// the 4096 x 4096 scores of a 512x512 UNet level cost no memory traffic.
// Head sizes up to 160 (SD 1.x UNet 40/80/160, CLIP 64); larger heads (the
// VAE's single 512-wide head) use the chunked path in the backend.
#include <mma.h>

#include "ops/cuda/common.cuh"
#include "ops/cuda/cuda_check.h"
#include "ops/cuda/flash_attention.cuh"

namespace sd {
namespace cuda {

namespace {

constexpr int kQ = 32;    // queries per block (2 warps x 16)
constexpr int kKeys = 32; // keys per step
constexpr int kWarps = 2;

struct Layout {
  int dp, qk_stride, s_stride, p_stride, o_stride;
  size_t q_off, k_off, v_off, s_off, p_off, o_off, stat_off, bytes;
};

__host__ __device__ inline size_t align128(size_t x) { return (x + 127) / 128 * 128; }

__host__ __device__ inline Layout layout_for(int d) {
  Layout l;
  l.dp = (d + 15) / 16 * 16;
  l.qk_stride = l.dp + 8;  // halves
  l.s_stride = kKeys + 4;  // floats
  l.p_stride = kKeys + 8;  // halves
  l.o_stride = l.dp + 4;   // floats
  size_t off = 0;
  l.q_off = off;
  off = align128(off + sizeof(half) * kQ * l.qk_stride);
  l.k_off = off;
  off = align128(off + sizeof(half) * kKeys * l.qk_stride);
  l.v_off = off;
  off = align128(off + sizeof(half) * kKeys * l.qk_stride);
  l.s_off = off;
  off = align128(off + sizeof(float) * kWarps * 16 * l.s_stride);
  l.p_off = off;
  off = align128(off + sizeof(half) * kWarps * 16 * l.p_stride);
  l.o_off = off;
  off = align128(off + sizeof(float) * kWarps * 16 * l.o_stride);
  l.stat_off = off;
  off = align128(off + sizeof(float) * kWarps * 16 * 2);
  l.bytes = off;
  return l;
}

__global__ void __launch_bounds__(64) flash_kernel(FlashArgs a) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 700
  using namespace nvcuda;
  extern __shared__ __align__(128) unsigned char smem[];
  const Layout L = layout_for(a.d);
  half* Qs = reinterpret_cast<half*>(smem + L.q_off);
  half* Ks = reinterpret_cast<half*>(smem + L.k_off);
  half* Vs = reinterpret_cast<half*>(smem + L.v_off);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  float* Ss = reinterpret_cast<float*>(smem + L.s_off) + warp * 16 * L.s_stride;
  half* Ps = reinterpret_cast<half*>(smem + L.p_off) + warp * 16 * L.p_stride;
  float* Os = reinterpret_cast<float*>(smem + L.o_off) + warp * 16 * L.o_stride;
  float* stat = reinterpret_cast<float*>(smem + L.stat_off) + warp * 32;  // m[16], l[16]

  const int z = blockIdx.y, b = z / a.heads, h = z % a.heads;
  const int q0 = blockIdx.x * kQ;
  const half* q = a.q + (static_cast<int64_t>(b) * a.nq) * a.ldq + h * a.d;
  const half* k = a.k + (static_cast<int64_t>(b) * a.nk) * a.ldk + h * a.d;
  const half* v = a.v + (static_cast<int64_t>(b) * a.nk) * a.ldv + h * a.d;
  const half zero = __float2half(0.0f);

  for (int i = threadIdx.x; i < kQ * L.dp; i += blockDim.x) {
    const int r = i / L.dp, c = i % L.dp;
    Qs[r * L.qk_stride + c] = (q0 + r < a.nq && c < a.d) ? q[static_cast<int64_t>(q0 + r) * a.ldq + c] : zero;
  }
  for (int i = lane; i < 16 * L.dp; i += 32) Os[(i / L.dp) * L.o_stride + i % L.dp] = 0.0f;
  if (lane < 16) {
    stat[lane] = -INFINITY;
    stat[16 + lane] = 0.0f;
  }
  // Each lane owns half a row of the warp's 16 query rows.
  const int row = lane >> 1, half_sel = lane & 1;
  const int qi = q0 + warp * 16 + row;

  for (int k0 = 0; k0 < a.nk; k0 += kKeys) {
    __syncthreads();  // the previous keys are no longer read
    for (int i = threadIdx.x; i < kKeys * L.dp; i += blockDim.x) {
      const int r = i / L.dp, c = i % L.dp;
      const bool in = k0 + r < a.nk && c < a.d;
      Ks[r * L.qk_stride + c] = in ? k[static_cast<int64_t>(k0 + r) * a.ldk + c] : zero;
      Vs[r * L.qk_stride + c] = in ? v[static_cast<int64_t>(k0 + r) * a.ldv + c] : zero;
    }
    __syncthreads();
    // S = Q K^T for this warp's 16 queries x 32 keys.
    for (int n = 0; n < kKeys / 16; ++n) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> s;
      wmma::fill_fragment(s, 0.0f);
      for (int kk = 0; kk < L.dp; kk += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> fq;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::col_major> fk;
        wmma::load_matrix_sync(fq, Qs + (warp * 16) * L.qk_stride + kk, L.qk_stride);
        wmma::load_matrix_sync(fk, Ks + (n * 16) * L.qk_stride + kk, L.qk_stride);
        wmma::mma_sync(s, fq, fk, s);
      }
      wmma::store_matrix_sync(Ss + n * 16, s, L.s_stride, wmma::mem_row_major);
    }
    __syncwarp();
    // Online softmax over this row's 32 scores (16 per lane, two lanes a row).
    float m_old = stat[row], l_old = stat[16 + row];
    float local_max = -INFINITY;
    float vals[16];
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      const int key = k0 + half_sel * 16 + j;
      float sv = Ss[row * L.s_stride + half_sel * 16 + j] * a.scale;
      if (key >= a.nk || (a.causal && key > qi)) sv = -INFINITY;
      vals[j] = sv;
      local_max = fmaxf(local_max, sv);
    }
    local_max = fmaxf(local_max, __shfl_xor_sync(0xffffffffu, local_max, 1));
    const float m_new = fmaxf(m_old, local_max);
    const float corr = m_new == -INFINITY ? 1.0f : __expf(m_old - m_new);
    float sum = 0;
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      const float p = m_new == -INFINITY ? 0.0f : __expf(vals[j] - m_new);
      sum += p;
      Ps[row * L.p_stride + half_sel * 16 + j] = __float2half(p);
    }
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    for (int c = half_sel; c < L.dp; c += 2) Os[row * L.o_stride + c] *= corr;
    __syncwarp();
    if (half_sel == 0) {
      stat[row] = m_new;
      stat[16 + row] = l_old * corr + sum;
    }
    // O += P V
    for (int dn = 0; dn < L.dp / 16; ++dn) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> o;
      wmma::load_matrix_sync(o, Os + dn * 16, L.o_stride, wmma::mem_row_major);
      for (int kk = 0; kk < kKeys; kk += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> fp;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::row_major> fv;
        wmma::load_matrix_sync(fp, Ps + kk, L.p_stride);
        wmma::load_matrix_sync(fv, Vs + kk * L.qk_stride + dn * 16, L.qk_stride);
        wmma::mma_sync(o, fp, fv, o);
      }
      wmma::store_matrix_sync(Os + dn * 16, o, L.o_stride, wmma::mem_row_major);
    }
    __syncwarp();
  }
  __syncwarp();
  if (qi < a.nq) {
    const float inv = 1.0f / stat[16 + row];
    half* out = a.out + (static_cast<int64_t>(b) * a.nq + qi) * a.ldo + h * a.d;
    for (int c = half_sel; c < a.d; c += 2) out[c] = __float2half(Os[row * L.o_stride + c] * inv);
  }
#endif
}

}  // namespace

bool flash_attention_supported(int head_dim, int device_major) { return device_major >= 7 && head_dim <= 160; }

void flash_attention(const FlashArgs& args, cudaStream_t stream) {
  const Layout L = layout_for(args.d);
  static bool configured = false;
  if (!configured) {
    // Up to 64 KB of shared memory for 160-wide heads (Turing's per-block maximum).
    SD_CUDA_CHECK(cudaFuncSetAttribute(flash_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024),
                  "flash attention shared memory");
    configured = true;
  }
  const dim3 grid((args.nq + kQ - 1) / kQ, args.batch * args.heads);
  flash_kernel<<<grid, 64, L.bytes, stream>>>(args);
  SD_CUDA_CHECK_LAUNCH("flash attention");
}

size_t flash_attention_smem_bytes(int head_dim) { return layout_for(head_dim).bytes; }

}  // namespace cuda
}  // namespace sd
