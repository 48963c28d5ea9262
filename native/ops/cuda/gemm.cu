#include <mma.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "ops/cuda/common.cuh"
#include "ops/cuda/cuda_check.h"
#include "ops/cuda/gemm.cuh"

namespace sd {
namespace cuda {

namespace {

struct BatchOffsets {
  int64_t a, b, c;
};

__device__ __forceinline__ BatchOffsets batch_offsets(const GemmArgs& g) {
  const int z = blockIdx.z;
  const int outer = z / g.inner_count, inner = z % g.inner_count;
  return {outer * g.a_outer + inner * g.a_inner, outer * g.b_outer + inner * g.b_inner,
          outer * g.c_outer + inner * g.c_inner};
}

// A[m][k] for the dense or the implicit-conv case; nullptr = zero.
template <typename T>
__device__ __forceinline__ const T* a_address(const GemmArgs& g, const T* a, int m, int k) {
  if (!g.conv) return a + m * g.lda + k;
  const ConvGeo& c = g.geo;
  const int tap = k / c.in_c, ci = k - tap * c.in_c;
  const int ox = m % c.out_w;
  const int rest = m / c.out_w;
  const int oy = rest % c.out_h, n = rest / c.out_h;
  const int iy = oy * c.stride - c.pad_top + tap / c.kw;
  const int ix = ox * c.stride - c.pad_left + tap % c.kw;
  if (iy < 0 || iy >= c.in_h || ix < 0 || ix >= c.in_w) return nullptr;
  return a + ((static_cast<int64_t>(n) * c.in_h + iy) * c.in_w + ix) * c.in_c + ci;
}

template <typename T>
__device__ __forceinline__ float load_a(const GemmArgs& g, const T* a, int m, int k) {
  if (m >= g.M || k >= g.K) return 0.0f;
  const T* p = a_address(g, a, m, k);
  return p ? to_float(*p) : 0.0f;
}

template <typename T>
__device__ __forceinline__ float load_b(const GemmArgs& g, const T* b, int k, int n) {
  if (n >= g.N || k >= g.K) return 0.0f;
  return to_float(g.b_kn ? b[static_cast<int64_t>(k) * g.ldb + n] : b[static_cast<int64_t>(n) * g.ldb + k]);
}

template <typename OutT, typename T>
__device__ __forceinline__ void store_c(const GemmArgs& g, OutT* c, const T* residual, int m, int n, float v) {
  if (m >= g.M || n >= g.N) return;
  v *= g.alpha;
  if (g.bias) v += g.bias[n];
  if (residual) v += to_float(residual[static_cast<int64_t>(m) * g.ldr + n]);
  c[static_cast<int64_t>(m) * g.ldc + n] = from_float<OutT>(v);
}

// ---- SIMT: 64x64 tile, 16x16 threads x 4x4 outputs, any architecture ----------------------
template <typename T, typename OutT>
__global__ void __launch_bounds__(256) gemm_simt(GemmArgs g) {
  constexpr int BM = 64, BN = 64, BK = 16;
  __shared__ float As[BK][BM + 4];
  __shared__ float Bs[BK][BN + 4];
  const BatchOffsets off = batch_offsets(g);
  const T* a = static_cast<const T*>(g.a) + off.a;
  const T* b = static_cast<const T*>(g.b) + off.b;
  OutT* c = static_cast<OutT*>(g.c) + off.c;
  const T* residual = g.residual ? static_cast<const T*>(g.residual) + off.c : nullptr;
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
  float acc[4][4] = {};
  for (int k0 = 0; k0 < g.K; k0 += BK) {
    for (int i = threadIdx.x; i < BM * BK; i += 256) {
      const int r = i / BK, kk = i % BK;
      As[kk][r] = load_a(g, a, m0 + r, k0 + kk);
    }
    for (int i = threadIdx.x; i < BN * BK; i += 256) {
      const int r = i / BK, kk = i % BK;
      Bs[kk][r] = load_b(g, b, k0 + kk, n0 + r);
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      float av[4], bv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        av[i] = As[kk][ty * 4 + i];
        bv[i] = Bs[kk][tx * 4 + i];
      }
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) store_c(g, c, residual, m0 + ty * 4 + i, n0 + tx * 4 + j, acc[i][j]);
}

// ---- WMMA: 128x128 tile, 8 warps of 32x64, BK 32, register-staged double buffering ---------
constexpr int kBM = 128, kBN = 128, kBK = 32, kPad = 8;
constexpr int kAStride = kBK + kPad;         // As[m][k]
constexpr int kBNKStride = kBK + kPad;       // Bs[n][k] for [N, K] weights
constexpr int kBKNStride = kBN + kPad;       // Bs[k][n] for [K, N]
constexpr int kATile = kBM * kAStride;
constexpr int kBTile = (kBN * kBNKStride > kBK * kBKNStride) ? kBN * kBNKStride : kBK * kBKNStride;

struct Vec8 {
  uint4 v;
};

__device__ __forceinline__ uint4 zero4() { return make_uint4(0, 0, 0, 0); }

// 8 consecutive halves of A row m from k (k % 8 == 0); zero-filled outside. `vec` = aligned fast path allowed.
__device__ __forceinline__ uint4 load_a8(const GemmArgs& g, const half* a, int m, int k, bool vec) {
  if (m >= g.M || k >= g.K) return zero4();
  if (vec && k + 8 <= g.K) {
    const half* p = a_address(g, a, m, k);
    return p ? *reinterpret_cast<const uint4*>(p) : zero4();
  }
  union {
    uint4 u;
    half h[8];
  } r;
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const half* p = (k + i < g.K) ? a_address(g, a, m, k + i) : nullptr;
    r.h[i] = p ? *p : __float2half(0.0f);
  }
  return r.u;
}

// 8 consecutive halves of B along k (for [N, K]) or along n (for [K, N]).
__device__ __forceinline__ uint4 load_b8(const GemmArgs& g, const half* b, int row, int col, bool vec) {
  // [N, K]: row = n, col = k; [K, N]: row = k, col = n.
  const int rows = g.b_kn ? g.K : g.N, cols = g.b_kn ? g.N : g.K;
  if (row >= rows || col >= cols) return zero4();
  const half* p = b + static_cast<int64_t>(row) * g.ldb + col;
  if (vec && col + 8 <= cols) return *reinterpret_cast<const uint4*>(p);
  union {
    uint4 u;
    half h[8];
  } r;
#pragma unroll
  for (int i = 0; i < 8; ++i) r.h[i] = col + i < cols ? p[i] : __float2half(0.0f);
  return r.u;
}

// MinBlocks 2 caps registers at 128 so two blocks share a multiprocessor
// (latency hiding without an async-copy pipeline); 1 lets the compiler use ~156.
template <typename OutT, int MinBlocks>
__global__ void __launch_bounds__(256, MinBlocks) gemm_wmma(GemmArgs g, bool a_vec, bool b_vec) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 700
  using namespace nvcuda;
  __shared__ __align__(128) half smem[2 * kATile + 2 * kBTile];
  half* As[2] = {smem, smem + kATile};
  half* Bs[2] = {smem + 2 * kATile, smem + 2 * kATile + kBTile};
  const BatchOffsets off = batch_offsets(g);
  const half* a = static_cast<const half*>(g.a) + off.a;
  const half* b = static_cast<const half*>(g.b) + off.b;
  OutT* c = static_cast<OutT*>(g.c) + off.c;
  const half* residual = g.residual ? static_cast<const half*>(g.residual) + off.c : nullptr;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int warp_m = warp / 2, warp_n = warp % 2;  // 4 x 2 warps, each 32 x 64
  const int m0 = blockIdx.y * kBM, n0 = blockIdx.x * kBN;

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][4];
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) wmma::fill_fragment(acc[i][j], 0.0f);

  uint4 ra[2], rb[2];
  const auto fetch = [&](int k0) {
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int idx = tid + i * 256;  // 512 vectors of 8 per operand tile
      const int r = idx / 4, kc = (idx % 4) * 8;
      ra[i] = load_a8(g, a, m0 + r, k0 + kc, a_vec);
      if (g.b_kn) {
        const int kr = idx / 16, nc = (idx % 16) * 8;
        rb[i] = load_b8(g, b, k0 + kr, n0 + nc, b_vec);
      } else {
        rb[i] = load_b8(g, b, n0 + r, k0 + kc, b_vec);
      }
    }
  };
  const auto stash = [&](int buf) {
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int idx = tid + i * 256;
      const int r = idx / 4, kc = (idx % 4) * 8;
      *reinterpret_cast<uint4*>(As[buf] + r * kAStride + kc) = ra[i];
      if (g.b_kn) {
        const int kr = idx / 16, nc = (idx % 16) * 8;
        *reinterpret_cast<uint4*>(Bs[buf] + kr * kBKNStride + nc) = rb[i];
      } else {
        *reinterpret_cast<uint4*>(Bs[buf] + r * kBNKStride + kc) = rb[i];
      }
    }
  };

  const int k_begin = g.split_k > 1 ? static_cast<int>(blockIdx.z) * g.k_chunk : 0;
  const int k_end = g.split_k > 1 ? min(g.K, k_begin + g.k_chunk) : g.K;
  const int k_tiles = (k_end - k_begin + kBK - 1) / kBK;
  fetch(k_begin);
  stash(0);
  __syncthreads();
  for (int t = 0; t < k_tiles; ++t) {
    const int cur = t & 1;
    if (t + 1 < k_tiles) fetch(k_begin + (t + 1) * kBK);
#pragma unroll
    for (int kk = 0; kk < kBK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> fa[2];
#pragma unroll
      for (int i = 0; i < 2; ++i)
        wmma::load_matrix_sync(fa[i], As[cur] + (warp_m * 32 + i * 16) * kAStride + kk, kAStride);
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int n = warp_n * 64 + j * 16;
        if (g.b_kn) {
          wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::row_major> fb;
          wmma::load_matrix_sync(fb, Bs[cur] + kk * kBKNStride + n, kBKNStride);
#pragma unroll
          for (int i = 0; i < 2; ++i) wmma::mma_sync(acc[i][j], fa[i], fb, acc[i][j]);
        } else {
          wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::col_major> fb;
          wmma::load_matrix_sync(fb, Bs[cur] + n * kBNKStride + kk, kBNKStride);
#pragma unroll
          for (int i = 0; i < 2; ++i) wmma::mma_sync(acc[i][j], fa[i], fb, acc[i][j]);
        }
      }
    }
    if (t + 1 < k_tiles) stash(cur ^ 1);
    __syncthreads();
  }
  // Epilogue: each warp parks one 16x16 fragment at a time in shared memory
  // (the A buffers are free now), then applies alpha, bias and residual.
  float* park = reinterpret_cast<float*>(smem) + warp * 256;
#pragma unroll
  for (int i = 0; i < 2; ++i) {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      wmma::store_matrix_sync(park, acc[i][j], 16, wmma::mem_row_major);
      __syncwarp();
      const int r = lane / 2, c0 = (lane % 2) * 8;
      const int m = m0 + warp_m * 32 + i * 16 + r;
      const int nb = n0 + warp_n * 64 + j * 16 + c0;
      if (g.split_k > 1) {
        // Raw partial sums; the reduction applies the epilogue.
        if (m < g.M)
#pragma unroll
          for (int e = 0; e < 8; ++e)
            if (nb + e < g.N) reinterpret_cast<float*>(c)[static_cast<int64_t>(m) * g.ldc + nb + e] = park[r * 16 + c0 + e];
      } else {
#pragma unroll
        for (int e = 0; e < 8; ++e) store_c(g, c, residual, m, nb + e, park[r * 16 + c0 + e]);
      }
      __syncwarp();
    }
  }
#endif
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// SD_CUDA_GEMM_BLOCKS=1 selects the one-block-per-multiprocessor variant (for comparison).
bool two_blocks_per_sm() {
  static const bool two = [] {
    const char* env = std::getenv("SD_CUDA_GEMM_BLOCKS");
    return !(env && std::string(env) == "1");
  }();
  return two;
}

template <typename OutT>
__global__ void split_k_reduce(GemmArgs g, const float* workspace, int splits) {
  const int64_t total = static_cast<int64_t>(g.M) * g.N;
  const half* residual = static_cast<const half*>(g.residual);
  OutT* c = static_cast<OutT*>(g.c);
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float v = 0;
    for (int s = 0; s < splits; ++s) v += workspace[s * total + i];
    const int m = static_cast<int>(i / g.N), n = static_cast<int>(i % g.N);
    store_c(g, c, residual, m, n, v);
  }
}

}  // namespace

int gemm_split_k_factor(const GemmArgs& g, int sm_count) {
  const int tiles = ((g.M + kBM - 1) / kBM) * ((g.N + kBN - 1) / kBN);
  if (sm_count <= 0 || tiles >= sm_count) return 1;
  const int k_tiles = (g.K + kBK - 1) / kBK;
  // Enough blocks for about one wave, each slice at least 8 k-tiles long.
  int splits = std::min((sm_count + tiles - 1) / tiles, k_tiles / 8);
  return std::max(1, std::min(splits, 32));
}

void gemm_split_k(const GemmArgs& args, int splits, float* workspace, GemmType out, cudaStream_t stream) {
  GemmArgs g = args;
  const int k_tiles = (g.K + kBK - 1) / kBK;
  g.split_k = splits;
  g.k_chunk = ((k_tiles + splits - 1) / splits) * kBK;
  g.batch = splits;
  g.inner_count = 1;
  g.a_outer = g.b_outer = 0;
  g.c = workspace;
  g.ldc = g.N;
  g.c_outer = static_cast<int64_t>(g.M) * g.N;
  const bool a_vec = aligned16(g.a) && g.K % 8 == 0 && (g.conv ? g.geo.in_c % 8 == 0 : g.lda % 8 == 0);
  const bool b_vec = aligned16(g.b) && g.ldb % 8 == 0;
  const dim3 grid((g.N + kBN - 1) / kBN, (g.M + kBM - 1) / kBM, splits);
  if (two_blocks_per_sm()) gemm_wmma<float, 2><<<grid, 256, 0, stream>>>(g, a_vec, b_vec);
  else gemm_wmma<float, 1><<<grid, 256, 0, stream>>>(g, a_vec, b_vec);
  SD_CUDA_CHECK_LAUNCH("gemm (split-K partial sums)");
  const int64_t total = static_cast<int64_t>(args.M) * args.N;
  const unsigned blocks = blocks_for(total, 256);
  if (out == GemmType::Half) split_k_reduce<half><<<blocks, 256, 0, stream>>>(args, workspace, splits);
  else split_k_reduce<float><<<blocks, 256, 0, stream>>>(args, workspace, splits);
  SD_CUDA_CHECK_LAUNCH("gemm (split-K reduction)");
}

void gemm(const GemmArgs& g, GemmType in, GemmType out, bool tensor_cores, cudaStream_t stream) {
  if (g.M == 0 || g.N == 0) return;
  SD_CHECK(g.batch >= 1 && g.inner_count >= 1 && g.batch % g.inner_count == 0, "gemm: bad batch layout");
  if (in == GemmType::Half && tensor_cores) {
    const dim3 grid((g.N + kBN - 1) / kBN, (g.M + kBM - 1) / kBM, g.batch);
    // 16-byte vector loads need every row start and every batch offset aligned.
    bool a_vec = aligned16(g.a) && g.K % 8 == 0 && (g.a_outer % 8 == 0) && (g.a_inner % 8 == 0);
    a_vec = a_vec && (g.conv ? g.geo.in_c % 8 == 0 : g.lda % 8 == 0);
    const bool b_vec = aligned16(g.b) && g.ldb % 8 == 0 && g.b_outer % 8 == 0 && g.b_inner % 8 == 0;
    if (two_blocks_per_sm()) {
      if (out == GemmType::Half) gemm_wmma<half, 2><<<grid, 256, 0, stream>>>(g, a_vec, b_vec);
      else gemm_wmma<float, 2><<<grid, 256, 0, stream>>>(g, a_vec, b_vec);
    } else {
      if (out == GemmType::Half) gemm_wmma<half, 1><<<grid, 256, 0, stream>>>(g, a_vec, b_vec);
      else gemm_wmma<float, 1><<<grid, 256, 0, stream>>>(g, a_vec, b_vec);
    }
    SD_CUDA_CHECK_LAUNCH("gemm (tensor cores)");
    return;
  }
  const dim3 grid((g.N + 63) / 64, (g.M + 63) / 64, g.batch);
  if (in == GemmType::Half) {
    if (out == GemmType::Half) gemm_simt<half, half><<<grid, 256, 0, stream>>>(g);
    else gemm_simt<half, float><<<grid, 256, 0, stream>>>(g);
  } else {
    SD_CHECK(out == GemmType::Float, "gemm: float inputs need a float output");
    gemm_simt<float, float><<<grid, 256, 0, stream>>>(g);
  }
  SD_CUDA_CHECK_LAUNCH("gemm (SIMT)");
}

}  // namespace cuda
}  // namespace sd
