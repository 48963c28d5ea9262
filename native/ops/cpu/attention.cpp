// Attention in query blocks: for each (batch, head) K^T and V are packed once,
// then every block of queries computes its [block, nk] scores, the softmax's
// exponentials and the block's output, divided by the row sums at the end.
// The full [nq, nk] score matrix (64 MiB per head at 512x512) never exists; a
// block's scores (~1 MiB at nk = 4096) stay in L2.
//
// Three drivers: fp32 products on AVX-512 (score tiles by the GEMM kernel, P*V
// by tiles shaped for the head width), bf16 products (AMX tiles, or AVX512-BF16
// dot products) with the head width and the keys padded to 32, and the
// portable one through the generic GEMM for every other CPU.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/half.h"
#include "core/thread_pool.h"
#include "ops/cpu/attention_layout.h"
#include "ops/cpu/cpu_ops.h"
#include "ops/cpu/gemm.h"
#include "ops/cpu/gemm_kernels.h"
#include "ops/cpu/vec_dispatch.h"

namespace sd {

#ifdef SD_X86_KERNELS
float row_max_avx512(const float* s, int64_t visible);
float exp_to_bf16_avx512(const float* s, uint16_t* p, int64_t visible, int64_t n, float scale, float shift);
void attention_pv_avx512(int64_t nk, const float* p, int64_t ldp, int64_t rows, const float* vp, int64_t dim,
                         const ValueChunk* chunks, size_t n_chunks, const float* inv, float* out, int64_t ldo);
#endif

namespace cpu {

namespace {

constexpr int64_t kPanel = 32;  // the AVX-512 kernel's NR, and an AMX tile's width
// Score rows are this much longer than the keys: rows 16 KiB apart would all
// fall in one L1 set while a tile of 14 of them is written.
constexpr int64_t kRowSkew = 16;
// Keys per step of the bf16 driver's online softmax.
constexpr int64_t kKeyChunk = 512;

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

struct AttentionShape {
  const float* q;
  int64_t ldq;
  const float* k;
  int64_t ldk;
  const float* v;
  int64_t ldv;
  float* out;
  int64_t ldo;
  int64_t batch, nq, nk;
  int heads;
  int64_t dim;
  float scale;
  bool causal;

  int64_t bh() const { return batch * heads; }
  const float* q_row(int64_t i, int64_t row) const { return q + ((i / heads) * nq + row) * ldq + (i % heads) * dim; }
  const float* k_row(int64_t i, int64_t key) const { return k + ((i / heads) * nk + key) * ldk + (i % heads) * dim; }
  const float* v_row(int64_t i, int64_t key) const { return v + ((i / heads) * nk + key) * ldv + (i % heads) * dim; }
  float* out_row(int64_t i, int64_t row) const { return out + ((i / heads) * nq + row) * ldo + (i % heads) * dim; }
  int64_t visible(int64_t row) const { return causal ? std::min(nk, row + 1) : nk; }
};

// ---- portable: everything through gemm_dense -------------------------------

PackedWeight pack_keys(const float* k, int64_t ldk, int64_t nk, int64_t dim, DType storage) {
  std::vector<float> kt(static_cast<size_t>(dim * nk));
  for (int64_t j = 0; j < nk; ++j)
    for (int64_t d = 0; d < dim; ++d) kt[static_cast<size_t>(d * nk + j)] = k[j * ldk + d];
  return pack_kn_matrix(kt.data(), dim, nk, nk, storage);
}

void attention_portable(const AttentionShape& s, bool bf16) {
  constexpr int64_t kQueryBlock = 64;
  const DType storage = bf16 ? DType::BF16 : DType::F32;
  ThreadPool& pool = compute_pool();
  std::vector<PackedWeight> keys(static_cast<size_t>(s.bh())), values(static_cast<size_t>(s.bh()));
  pool.run(s.bh(), [&](int64_t i) {
    keys[static_cast<size_t>(i)] = pack_keys(s.k_row(i, 0), s.ldk, s.nk, s.dim, storage);
    values[static_cast<size_t>(i)] = pack_kn_matrix(s.v_row(i, 0), s.nk, s.dim, s.ldv, storage);
  });
  const int64_t q_blocks = (s.nq + kQueryBlock - 1) / kQueryBlock;
  pool.run(s.bh() * q_blocks, [&](int64_t t) {
    const int64_t i = t / q_blocks, q0 = (t % q_blocks) * kQueryBlock, rows = std::min(kQueryBlock, s.nq - q0);
    thread_local std::vector<float> scores;
    scores.resize(static_cast<size_t>(kQueryBlock * s.nk));
    float* sc = scores.data();
    gemm_dense(s.q_row(i, q0), s.ldq, rows, keys[static_cast<size_t>(i)], sc, s.nk, {}, /*parallel=*/false);
    for (int64_t r = 0; r < rows; ++r) softmax_row(sc + r * s.nk, s.visible(q0 + r), s.nk, s.scale);
    gemm_dense(sc, s.nk, rows, values[static_cast<size_t>(i)], s.out_row(i, q0), s.ldo, {}, /*parallel=*/false);
  });
}

#ifdef SD_X86_KERNELS

// ---- fp32 on AVX-512 --------------------------------------------------------

// K^T as [nk_pad / 32][dim][32] panels, zero past nk.
void pack_keys_f32(const AttentionShape& s, int64_t i, float* dst) {
  const int64_t nk_pad = round_up(s.nk, kPanel);
  std::fill(dst, dst + nk_pad * s.dim, 0.0f);
  for (int64_t key = 0; key < s.nk; ++key) {
    const float* src = s.k_row(i, key);
    float* panel = dst + (key / kPanel) * s.dim * kPanel + key % kPanel;
    for (int64_t d = 0; d < s.dim; ++d) panel[d * kPanel] = src[d];
  }
}

// V in the chunks of attention_layout.h, zero past dim.
void pack_values_f32(const AttentionShape& s, const std::vector<ValueChunk>& chunks, int64_t i, float* dst) {
  for (const ValueChunk& chunk : chunks) {
    const int64_t width = int64_t{chunk.vectors} * 16, valid = std::min(width, s.dim - chunk.col0);
    float* block = dst + s.nk * chunk.col0;
    for (int64_t key = 0; key < s.nk; ++key) {
      const float* src = s.v_row(i, key) + chunk.col0;
      float* row = block + key * width;
      std::copy(src, src + valid, row);
      std::fill(row + valid, row + width, 0.0f);
    }
  }
}

void attention_f32_avx512(const AttentionShape& s, const GemmMicroKernel& kern) {
  const int mr = kern.mr;
  const int64_t nk_pad = round_up(s.nk, kPanel), lds = nk_pad + kRowSkew;
  // A block of queries is a whole number of both tiles (14 rows for scores; 8 or 5 for P*V).
  const std::vector<ValueChunk> chunks = value_chunks(s.dim);
  bool five = false;
  for (const ValueChunk& c : chunks) five = five || c.rows == 5;
  const int64_t block = five ? 70 : 56, block_rows = round_up(block, mr);
  const int64_t keys_floats = nk_pad * s.dim, values_floats = packed_values_floats(s.nk, s.dim);
  Tensor keys = Tensor::host({s.bh(), keys_floats});
  Tensor values = Tensor::host({s.bh(), values_floats});
  ThreadPool& pool = compute_pool();
  pool.run(s.bh(), [&](int64_t i) {
    pack_keys_f32(s, i, keys.data<float>() + i * keys_floats);
    pack_values_f32(s, chunks, i, values.data<float>() + i * values_floats);
  });
  const int64_t q_blocks = (s.nq + block - 1) / block;
  pool.run(s.bh() * q_blocks, [&](int64_t t) {
    const int64_t i = t / q_blocks, q0 = (t % q_blocks) * block, rows = std::min(block, s.nq - q0);
    thread_local std::vector<float> scores, inv, zeros;
    thread_local std::vector<const float*> q_rows;
    scores.resize(static_cast<size_t>(block_rows * lds));
    inv.resize(static_cast<size_t>(block));
    zeros.assign(static_cast<size_t>(s.dim), 0.0f);
    q_rows.resize(static_cast<size_t>(block_rows));
    for (int64_t r = 0; r < block_rows; ++r) q_rows[static_cast<size_t>(r)] = r < rows ? s.q_row(i, q0 + r) : zeros.data();
    const float* kt = keys.data<float>() + i * keys_floats;
    float* sc = scores.data();
    // Each key panel (dim x 32, L1-sized) serves every row tile of the block.
    for (int64_t jp = 0; jp < nk_pad / kPanel; ++jp)
      for (int64_t r0 = 0; r0 < rows; r0 += mr)
        kern.f32(s.dim, q_rows.data() + r0, kt + jp * s.dim * kPanel, sc + r0 * lds + jp * kPanel, lds, false);
    for (int64_t r = 0; r < rows; ++r)
      inv[static_cast<size_t>(r)] = 1.0f / softmax_exp_row(sc + r * lds, s.visible(q0 + r), nk_pad, s.scale);
    attention_pv_avx512(s.nk, sc, lds, rows, values.data<float>() + i * values_floats, s.dim, chunks.data(),
                        chunks.size(), inv.data(), s.out_row(i, q0), s.ldo);
  });
}

// ---- bf16 products: AMX tiles or AVX512-BF16 dot products --------------------

// Element (k, n) of a [K, N] matrix in the pair-panel layout the bf16 kernels read.
inline int64_t pair_index(int64_t K, int64_t k, int64_t n) {
  return panel_index(K, static_cast<int>(kPanel), true, n / kPanel, k, n % kPanel);
}

void attention_bf16(const AttentionShape& s, const GemmMicroKernel& kern) {
  const bool amx = kern.amx_32x32 != nullptr;
  const int64_t dp = round_up(s.dim, kPanel), nk_pad = round_up(s.nk, kPanel);
  // AMX multiplies 32-row tiles; the dot-product kernel 14-row ones.
  const int64_t tile = amx ? 32 : kern.mr, block = amx ? 64 : 5 * kern.mr, block_rows = round_up(block, tile);
  const int64_t packed = nk_pad * dp;  // K^T [dp x nk_pad] and V [nk_pad x dp], both zero-padded
  // From the caching allocator: a fresh 8 MiB vector per call was paged in again every time.
  Tensor keys = Tensor::host({s.bh(), packed}, DType::BF16), values = Tensor::host({s.bh(), packed}, DType::BF16);
  ThreadPool& pool = compute_pool();
  pool.run(s.bh(), [&](int64_t i) {
    uint16_t* kt = keys.data<uint16_t>() + i * packed;
    uint16_t* vp = values.data<uint16_t>() + i * packed;
    std::fill(kt, kt + packed, uint16_t{0});
    std::fill(vp, vp + packed, uint16_t{0});
    for (int64_t key = 0; key < s.nk; ++key) {
      const float* kr = s.k_row(i, key);
      const float* vr = s.v_row(i, key);
      for (int64_t d = 0; d < s.dim; ++d) {
        kt[pair_index(dp, d, key)] = float_to_bf16(kr[d]);
        vp[pair_index(nk_pad, key, d)] = float_to_bf16(vr[d]);
      }
    }
  });
  // Keys in chunks, with the softmax kept online (running maximum and sum per
  // row, the output rescaled when the maximum grows): a chunk's scores
  // (64 x 512 fp32, 128 KiB) stay near the core instead of a whole row block's
  // (1 MiB at nk = 4096) going out to L2 and back twice.
  const int64_t chunk = std::min(nk_pad, kKeyChunk);
  const int64_t lds = chunk + kRowSkew, ldp = chunk + kPanel;
  const int64_t q_blocks = (s.nq + block - 1) / block;
  pool.run(s.bh() * q_blocks, [&](int64_t t) {
    const int64_t i = t / q_blocks, q0 = (t % q_blocks) * block, rows = std::min(block, s.nq - q0);
    thread_local std::vector<float> scores, output, row_max, row_sum;
    thread_local std::vector<uint16_t> q_bf16, p_bf16;
    thread_local std::vector<const uint16_t*> q_rows, p_rows;
    scores.resize(static_cast<size_t>(block_rows * lds));
    output.resize(static_cast<size_t>(block_rows * dp));
    row_max.assign(static_cast<size_t>(block), -std::numeric_limits<float>::infinity());
    row_sum.assign(static_cast<size_t>(block), 0.0f);
    q_bf16.assign(static_cast<size_t>(block_rows * dp), 0);
    p_bf16.resize(static_cast<size_t>(block_rows * ldp));
    for (int64_t r = 0; r < rows; ++r) kern.to_bf16(s.q_row(i, q0 + r), q_bf16.data() + r * dp, s.dim);
    q_rows.resize(static_cast<size_t>(block_rows));
    p_rows.resize(static_cast<size_t>(block_rows));
    for (int64_t r = 0; r < block_rows; ++r) {
      q_rows[static_cast<size_t>(r)] = q_bf16.data() + r * dp;
      p_rows[static_cast<size_t>(r)] = p_bf16.data() + std::min(r, rows - 1) * ldp;
    }
    const uint16_t* kt = keys.data<uint16_t>() + i * packed;
    const uint16_t* vp = values.data<uint16_t>() + i * packed;
    float* sc = scores.data();
    float* o = output.data();
    for (int64_t k0 = 0; k0 < nk_pad; k0 += chunk) {
      const int64_t kn = std::min(chunk, nk_pad - k0);  // a multiple of 32
      for (int64_t jp = 0; jp < kn / kPanel; ++jp) {
        const uint16_t* panel = kt + (k0 / kPanel + jp) * dp * kPanel;
        for (int64_t r0 = 0; r0 < rows; r0 += tile) {
          float* dst = sc + r0 * lds + jp * kPanel;
          if (amx) kern.amx_32x32(dp, q_bf16.data() + r0 * dp, dp, panel, dst, lds, false);
          else kern.bf16_dot(dp / 2, q_rows.data() + r0, panel, dst, lds, false);
        }
      }
      for (int64_t r = 0; r < rows; ++r) {
        const size_t ri = static_cast<size_t>(r);
        const int64_t visible = std::clamp<int64_t>(s.visible(q0 + r) - k0, 0, kn);
        float* row = sc + r * lds;
        // The first chunk holds key 0, which every row sees.
        const float grown = visible > 0 ? std::max(row_max[ri], row_max_avx512(row, visible) * s.scale) : row_max[ri];
        if (k0 > 0 && grown > row_max[ri]) {
          const float alpha = std::exp(row_max[ri] - grown);
          row_sum[ri] *= alpha;
          for (int64_t d = 0; d < dp; ++d) o[r * dp + d] *= alpha;
        }
        row_max[ri] = grown;
        row_sum[ri] += exp_to_bf16_avx512(row, p_bf16.data() + r * ldp, visible, kn, s.scale, grown);
      }
      for (int64_t jp = 0; jp < dp / kPanel; ++jp) {
        const uint16_t* panel = vp + jp * nk_pad * kPanel + k0 * kPanel;  // keys k0.. of column panel jp
        for (int64_t r0 = 0; r0 < rows; r0 += tile) {
          float* dst = o + r0 * dp + jp * kPanel;
          if (amx) kern.amx_32x32(kn, p_bf16.data() + r0 * ldp, ldp, panel, dst, dp, k0 > 0);
          else kern.bf16_dot(kn / 2, p_rows.data() + r0, panel, dst, dp, k0 > 0);
        }
      }
    }
    for (int64_t r = 0; r < rows; ++r) {
      const float f = 1.0f / row_sum[static_cast<size_t>(r)];
      const float* src = o + r * dp;
      float* dst = s.out_row(i, q0 + r);
      for (int64_t d = 0; d < s.dim; ++d) dst[d] = src[d] * f;
    }
  });
}

#endif  // SD_X86_KERNELS

}  // namespace

namespace {

enum class Driver { F32Avx512, Bf16Amx, Bf16Dot, Portable };

Driver choose_driver(bool bf16) {
#ifdef SD_X86_KERNELS
  const GemmMicroKernel& kern = active_gemm_kernel();
  if (bf16 && kern.bf16_dot != nullptr && kern.to_bf16 != nullptr && kern.nr == kPanel)
    return kern.amx_32x32 != nullptr ? Driver::Bf16Amx : Driver::Bf16Dot;
  if (!bf16 && kern.isa == KernelIsa::Avx512) return Driver::F32Avx512;
#else
  (void)bf16;
#endif
  return Driver::Portable;
}

}  // namespace

const char* attention_driver(bool bf16) {
  switch (choose_driver(bf16)) {
    case Driver::F32Avx512: return "f32-avx512";
    case Driver::Bf16Amx: return "bf16-amx";
    case Driver::Bf16Dot: return "bf16-dot";
    default: return "portable";
  }
}

void attention(const float* q, int64_t ldq, const float* k, int64_t ldk, const float* v, int64_t ldv, float* out,
               int64_t ldo, int64_t batch, int64_t nq, int64_t nk, int heads, int64_t dim, float scale, bool causal,
               bool bf16) {
  const AttentionShape s{q, ldq, k, ldk, v, ldv, out, ldo, batch, nq, nk, heads, dim, scale, causal};
  if (s.bh() == 0 || nq == 0) return;
  switch (choose_driver(bf16)) {
#ifdef SD_X86_KERNELS
    case Driver::F32Avx512: return attention_f32_avx512(s, active_gemm_kernel());
    case Driver::Bf16Amx:
    case Driver::Bf16Dot: return attention_bf16(s, active_gemm_kernel());
#endif
    default: return attention_portable(s, bf16);
  }
}

}  // namespace cpu
}  // namespace sd
