// Attention in query blocks: for each (batch, head) K^T and V are packed once
// as GEMM weights, then every block of kQueryBlock queries computes its
// [block, nk] scores, an exact softmax, and the block's output. The full
// [nq, nk] score matrix (64 MiB per head at 512x512) never exists; a block's
// scores (1 MiB at nk = 4096) stay in L2.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/thread_pool.h"
#include "ops/cpu/cpu_ops.h"
#include "ops/cpu/gemm.h"
#include "ops/cpu/vec_dispatch.h"

namespace sd {
namespace cpu {

namespace {
constexpr int64_t kQueryBlock = 64;

// Packs B = K^T for one head: B[d][j] = k[j][d], i.e. a Linear weight [nk, dim] with row stride ldk.
PackedWeight pack_keys(const float* k, int64_t ldk, int64_t nk, int64_t dim, DType storage) {
  std::vector<float> kt(static_cast<size_t>(dim * nk));
  for (int64_t j = 0; j < nk; ++j)
    for (int64_t d = 0; d < dim; ++d) kt[static_cast<size_t>(d * nk + j)] = k[j * ldk + d];
  return pack_kn_matrix(kt.data(), dim, nk, nk, storage);
}
}  // namespace

void attention(const float* q, int64_t ldq, const float* k, int64_t ldk, const float* v, int64_t ldv, float* out,
               int64_t ldo, int64_t batch, int64_t nq, int64_t nk, int heads, int64_t dim, float scale, bool causal,
               bool bf16) {
  const DType storage = bf16 ? DType::BF16 : DType::F32;
  ThreadPool& pool = compute_pool();
  const int64_t bh = batch * heads;
  std::vector<PackedWeight> keys(static_cast<size_t>(bh)), values(static_cast<size_t>(bh));
  pool.run(bh, [&](int64_t i) {
    const int64_t b = i / heads, h = i % heads;
    keys[static_cast<size_t>(i)] = pack_keys(k + b * nk * ldk + h * dim, ldk, nk, dim, storage);
    values[static_cast<size_t>(i)] = pack_kn_matrix(v + b * nk * ldv + h * dim, nk, dim, ldv, storage);
  });
  const int64_t q_blocks = (nq + kQueryBlock - 1) / kQueryBlock;
  pool.run(bh * q_blocks, [&](int64_t t) {
    const int64_t i = t / q_blocks, qb = t % q_blocks;
    const int64_t b = i / heads, h = i % heads;
    const int64_t q0 = qb * kQueryBlock, rows = std::min(kQueryBlock, nq - q0);
    thread_local std::vector<float> scores;
    scores.resize(static_cast<size_t>(kQueryBlock * nk));
    float* s = scores.data();
    const float* qp = q + (b * nq + q0) * ldq + h * dim;
    gemm_dense(qp, ldq, rows, keys[static_cast<size_t>(i)], s, nk, {}, /*parallel=*/false);
    for (int64_t r = 0; r < rows; ++r) softmax_row(s + r * nk, causal ? std::min(nk, q0 + r + 1) : nk, nk, scale);
    float* op = out + (b * nq + q0) * ldo + h * dim;
    gemm_dense(s, nk, rows, values[static_cast<size_t>(i)], op, ldo, {}, /*parallel=*/false);
  });
}

}  // namespace cpu
}  // namespace sd
