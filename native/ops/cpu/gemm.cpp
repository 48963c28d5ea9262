// The blocked GEMM driver: per task, a block of rows of A (read in place
// through row pointers, kc columns at a time) is swept against the weight
// panels, whose kc x NR slice stays in L1 across the block's micro-panels.
#include "ops/cpu/gemm.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/thread_pool.h"
#include "ops/cpu/gemm_kernels.h"

namespace sd {

namespace {

constexpr int64_t kKC = 384;
constexpr int kMicroPanelsPerBlock = 8;

// A as dense rows: row m of the K-block starting at k0.
struct DenseRows {
  using Element = float;
  const float* a;
  int64_t lda;
  int64_t kc_max(int64_t K) const { return K <= kKC + kKC / 2 ? K : kKC; }
  void rows(int64_t m, int64_t count, int64_t k0, const float** out) const {
    for (int64_t r = 0; r < count; ++r) out[r] = a + (m + r) * lda + k0;
  }
};

// A as the implicit im2col of an NHWC image: row m = output pixel, k = tap * Cin + ci.
// K-blocks never straddle a tap, so each row of a block is one contiguous run
// of input channels (or padding: the zero row).
template <typename T>
struct ConvRows {
  using Element = T;  // float, or uint16_t for an input already rounded to bf16
  const T* input;
  ConvGeometry g;
  int kw;
  const T* zeros;
  int64_t kc_max(int64_t) const {
    if (g.in_c <= kKC + kKC / 2) return g.in_c;
    for (int64_t parts = 2; parts <= g.in_c; ++parts)
      if (g.in_c % parts == 0 && g.in_c / parts <= kKC + kKC / 2) return g.in_c / parts;
    return g.in_c;
  }
  // The first row of each of `count` consecutive output pixels in one K-block
  // (a run of input channels, or the zero row for padding). The tap is worked
  // out once and the pixel stepped along: no divisions per row.
  void rows(int64_t m, int64_t count, int64_t k0, const T** out) const {
    const int64_t tap = k0 / g.in_c, ci = k0 % g.in_c, up = g.upsample;
    const int64_t dy = tap / kw - g.pad_top, dx = tap % kw - g.pad_left;
    int64_t ox = m % g.out_w, rest = m / g.out_w;
    int64_t oy = rest % g.out_h, n = rest / g.out_h;
    for (int64_t r = 0; r < count; ++r) {
      const int64_t iy = oy * g.stride + dy, ix = ox * g.stride + dx;
      if (iy < 0 || iy >= g.in_h * up || ix < 0 || ix >= g.in_w * up) {
        out[r] = zeros;
      } else {
        const int64_t sy = up == 1 ? iy : iy / up, sx = up == 1 ? ix : ix / up;
        out[r] = input + ((n * g.in_h + sy) * g.in_w + sx) * g.in_c + ci;
      }
      if (++ox == g.out_w) {
        ox = 0;
        if (++oy == g.out_h) {
          oy = 0;
          ++n;
        }
      }
    }
  }
  // Where `count` rows of a K-block start when they are consecutive pixels of
  // one image row (each in_c after the last), else nullptr: AMX then loads its
  // tiles from the image itself instead of a gathered copy.
  inline const T* run_of_rows(int64_t m, int64_t k0, int64_t count) const {
    if (g.stride != 1 || g.upsample != 1) return nullptr;
    const int64_t ox = m % g.out_w;
    if (ox + count > g.out_w) return nullptr;
    const int64_t tap = k0 / g.in_c, ci = k0 % g.in_c;
    const int64_t rest = m / g.out_w, oy = rest % g.out_h, n = rest / g.out_h;
    const int64_t iy = oy - g.pad_top + tap / kw, ix = ox - g.pad_left + tap % kw;
    if (iy < 0 || iy >= g.in_h || ix < 0 || ix + count > g.in_w) return nullptr;
    return input + ((n * g.in_h + iy) * g.in_w + ix) * g.in_c + ci;
  }
};

inline void call_kernel(const GemmMicroKernel& kern, DType t, int64_t kc, const float* const* a, const void* bp, float* c,
                        int64_t ldc, bool acc) {
  switch (t) {
    case DType::F32: kern.f32(kc, a, static_cast<const float*>(bp), c, ldc, acc); break;
    case DType::F16: kern.f16(kc, a, static_cast<const uint16_t*>(bp), c, ldc, acc); break;
    default: kern.bf16(kc, a, static_cast<const uint16_t*>(bp), c, ldc, acc); break;
  }
}

// A zero row as long as any K-block, for padding rows and padded taps.
const float* zero_row() {
  static const std::vector<float> zeros(static_cast<size_t>(4 * kKC), 0.0f);
  return zeros.data();
}
const uint16_t* zero_row_bf16() {
  static const std::vector<uint16_t> zeros(static_cast<size_t>(4 * kKC), 0);
  return zeros.data();
}

template <typename Rows>
void run_gemm(const Rows& src, int64_t M, const PackedWeight& b, float* c, int64_t ldc, const GemmEpilogue& epi,
              bool parallel) {
  const GemmMicroKernel& kern = active_gemm_kernel();
  SD_CHECK(b.nr == kern.nr, "weight was packed for another kernel");
  if (M == 0 || b.N == 0) return;
  const int mr = kern.mr, nr = kern.nr;
  const int64_t K = b.K, N = b.N;
  const int64_t n_panels = (N + nr - 1) / nr;
  // AMX works on 32-row blocks; the vector kernels on micro-panels of mr rows.
  const bool amx = b.pairs && kern.amx_32x32 != nullptr;
  const int64_t mc = amx ? 128 : static_cast<int64_t>(mr) * kMicroPanelsPerBlock;
  const int64_t m_blocks = (M + mc - 1) / mc;
  ThreadPool& pool = compute_pool();
  const int64_t threads = parallel ? pool.size() : 1;
  // Enough tasks to balance the threads; split N only when M alone can't.
  int64_t n_chunks = 1;
  if (m_blocks < 2 * threads) n_chunks = std::min<int64_t>(n_panels, (2 * threads + m_blocks - 1) / m_blocks);
  const int64_t kc_max = src.kc_max(K);
  SD_CHECK(kc_max <= 4 * kKC, "internal: K-block longer than the zero row");
  const size_t esize = dtype_size(b.dtype);
  const uint8_t* panels = static_cast<const uint8_t*>(b.panels.raw());

  auto task = [&](int64_t t) {
    const int64_t mb = t / n_chunks, nc = t % n_chunks;
    const int64_t m0 = mb * mc, rows = std::min(mc, M - m0);
    const int64_t p0 = n_panels * nc / n_chunks, p1 = n_panels * (nc + 1) / n_chunks;
    if (p0 >= p1) return;
    const int64_t micro = (rows + mr - 1) / mr;
    const int64_t padded_rows = std::max(micro * mr, (rows + 31) / 32 * 32);
    thread_local std::vector<const float*> ptrs;
    thread_local std::vector<float> tile, wide;
    thread_local std::vector<uint16_t> a_bf16;
    thread_local std::vector<const uint16_t*> ptrs_bf16, amx_a, rounded_rows;
    thread_local std::vector<int64_t> amx_lda;
    ptrs.resize(static_cast<size_t>(padded_rows));
    tile.resize(static_cast<size_t>(std::max(mr * nr, 32 * nr)));
    for (int64_t pc = 0; pc < K; pc += kc_max) {
      const int64_t kc = std::min(kc_max, K - pc);
      if constexpr (std::is_same_v<typename Rows::Element, float>) {
        src.rows(m0, rows, pc, ptrs.data());
        for (int64_t r = rows; r < padded_rows; ++r) ptrs[static_cast<size_t>(r)] = zero_row();
      }
      const bool amx_block = amx && kc % 32 == 0;
      if (b.pairs) {
        // bf16 products: this block's rows of A as bf16, once for all panels
        // (rounded here, or already rounded by the caller). AMX reads 32-row
        // blocks with one stride: straight from a rounded image where the rows
        // are consecutive pixels, else from a gathered copy. The dot-product
        // kernel takes row pointers and needs no copy of rounded rows at all.
        SD_CHECK(kc % 2 == 0 && pc % 2 == 0, "internal: bf16 pairs need even K-blocks");
        a_bf16.resize(static_cast<size_t>(padded_rows * kc));
        ptrs_bf16.resize(static_cast<size_t>(padded_rows));
        amx_a.resize(static_cast<size_t>(padded_rows / 32 + 1));
        amx_lda.resize(amx_a.size());
        if constexpr (std::is_same_v<typename Rows::Element, uint16_t>) {
          rounded_rows.resize(static_cast<size_t>(padded_rows));
          src.rows(m0, rows, pc, rounded_rows.data());
          for (int64_t r = rows; r < padded_rows; ++r) rounded_rows[static_cast<size_t>(r)] = zero_row_bf16();
        }
        for (int64_t rb = 0; rb < padded_rows; rb += 32) {
          const uint16_t* direct = nullptr;
          int64_t direct_lda = 0;
          if constexpr (std::is_same_v<typename Rows::Element, uint16_t>) {
            if (amx_block && rb + 32 <= rows) direct = src.run_of_rows(m0 + rb, pc, 32);
            direct_lda = src.g.in_c;
          }
          amx_a[static_cast<size_t>(rb / 32)] = direct ? direct : a_bf16.data() + rb * kc;
          amx_lda[static_cast<size_t>(rb / 32)] = direct ? direct_lda : kc;
          if (direct) continue;
          for (int64_t r = rb; r < std::min(rb + 32, padded_rows); ++r) {
            uint16_t* dst = a_bf16.data() + r * kc;
            if constexpr (std::is_same_v<typename Rows::Element, uint16_t>) {
              const uint16_t* row = rounded_rows[static_cast<size_t>(r)];
              if (!amx_block) {
                ptrs_bf16[static_cast<size_t>(r)] = row;
                continue;
              }
              std::memcpy(dst, row, static_cast<size_t>(kc) * 2);
            } else {
              kern.to_bf16(ptrs[static_cast<size_t>(r)], dst, kc);
            }
            ptrs_bf16[static_cast<size_t>(r)] = dst;
          }
        }
      }
      const bool acc = pc > 0;
      if (amx_block) {
        // 32 x 32 blocks on AMX tiles; partial blocks through the scratch tile.
        for (int64_t jp = p0; jp < p1; ++jp) {
          const uint16_t* bp = reinterpret_cast<const uint16_t*>(panels) + (jp * K + pc) * nr;
          const int64_t n0 = jp * nr, cols = std::min<int64_t>(nr, N - n0);
          for (int64_t rb = 0; rb < rows; rb += 32) {
            const int64_t nrows = std::min<int64_t>(32, rows - rb);
            float* cp = c + (m0 + rb) * ldc + n0;
            const uint16_t* a = amx_a[static_cast<size_t>(rb / 32)];
            const int64_t lda = amx_lda[static_cast<size_t>(rb / 32)];
            if (nrows == 32 && cols == nr) {
              kern.amx_32x32(kc, a, lda, bp, cp, ldc, acc);
              continue;
            }
            if (acc) {
              std::fill(tile.begin(), tile.begin() + 32 * nr, 0.0f);
              for (int64_t r = 0; r < nrows; ++r) std::memcpy(tile.data() + r * nr, cp + r * ldc, static_cast<size_t>(cols) * 4);
            }
            kern.amx_32x32(kc, a, lda, bp, tile.data(), nr, acc);
            for (int64_t r = 0; r < nrows; ++r) std::memcpy(cp + r * ldc, tile.data() + r * nr, static_cast<size_t>(cols) * 4);
          }
        }
        continue;
      }
      // Convolutions: fp16 weights widened once per panel slice into fp32
      // that all of this block's micro-panels read, instead of in every
      // micro-kernel call (the conversions share the FMA ports). Measured
      // in-process, interleaved, 4 runs: convolutions +1% to +8% (mean +4%);
      // linear layers -6% to +6% (mean -1%), so they keep the fp16 panels.
      constexpr bool is_conv = !std::is_same_v<Rows, DenseRows>;
      const bool widen = is_conv && !b.pairs && b.dtype == DType::F16 && kern.widen_f16 != nullptr && micro >= 2;
      for (int64_t jp = p0; jp < p1; ++jp) {
        const void* bp = panels + static_cast<size_t>((jp * K + pc) * nr) * esize;  // same offset in pair layout
        const int64_t n0 = jp * nr, cols = std::min<int64_t>(nr, N - n0);
        DType bt = b.dtype;
        if (widen) {
          wide.resize(static_cast<size_t>(kc * nr));
          kern.widen_f16(static_cast<const uint16_t*>(bp), wide.data(), kc * nr);
          bp = wide.data();
          bt = DType::F32;
        }
        for (int64_t ir = 0; ir < micro; ++ir) {
          const int64_t r0 = m0 + ir * mr, nrows = std::min<int64_t>(mr, m0 + rows - r0);  // never past this task's rows
          float* cp = c + r0 * ldc + n0;
          const float* const* a_rows = ptrs.data() + ir * mr;
          const auto multiply = [&](float* out, int64_t ld) {
            if (b.pairs)
              kern.bf16_dot(kc / 2, ptrs_bf16.data() + ir * mr, static_cast<const uint16_t*>(bp), out, ld, acc);
            else
              call_kernel(kern, bt, kc, a_rows, bp, out, ld, acc);
          };
          if (nrows == mr && cols == nr) {
            multiply(cp, ldc);
            continue;
          }
          if (acc) {
            for (int64_t r = 0; r < nrows; ++r) std::memcpy(tile.data() + r * nr, cp + r * ldc, static_cast<size_t>(cols) * 4);
          }
          multiply(tile.data(), nr);
          for (int64_t r = 0; r < nrows; ++r) std::memcpy(cp + r * ldc, tile.data() + r * nr, static_cast<size_t>(cols) * 4);
        }
      }
    }
    if (epi.bias || epi.residual) {
      const int64_t n_begin = p0 * nr, n_end = std::min(N, p1 * nr);
      for (int64_t m = m0; m < m0 + rows; ++m) {
        float* row = c + m * ldc;
        if (epi.bias)
          for (int64_t n = n_begin; n < n_end; ++n) row[n] += epi.bias[n];
        if (epi.residual) {
          const float* res = epi.residual + m * epi.ldr;
          for (int64_t n = n_begin; n < n_end; ++n) row[n] += res[n];
        }
      }
    }
  };
  const int64_t tasks = m_blocks * n_chunks;
  if (threads == 1) {
    for (int64_t t = 0; t < tasks; ++t) task(t);
  } else {
    pool.run(tasks, task);
  }
}

}  // namespace

void gemm_dense(const float* a, int64_t lda, int64_t M, const PackedWeight& b, float* c, int64_t ldc,
                const GemmEpilogue& epi, bool parallel) {
  run_gemm(DenseRows{a, lda}, M, b, c, ldc, epi, parallel);
}

void gemm_conv(const float* input, const ConvGeometry& g, const PackedWeight& b, float* c, const GemmEpilogue& epi) {
  SD_CHECK(b.cin == g.in_c, "conv weight expects ", b.cin, " input channels, the image has ", g.in_c);
  const int64_t M = g.batch * g.out_h * g.out_w;
  if (b.pairs) {
    // Every input pixel feeds kh * kw taps: round the image to bf16 once, not once per tap.
    const GemmMicroKernel& kern = active_gemm_kernel();
    const int64_t pixels = g.batch * g.in_h * g.in_w;
    Tensor rounded = Tensor::host({pixels, g.in_c}, DType::BF16);
    uint16_t* dst = rounded.data<uint16_t>();
    compute_pool().parallel_for(
        pixels,
        [&](int64_t p0, int64_t p1) { kern.to_bf16(input + p0 * g.in_c, dst + p0 * g.in_c, (p1 - p0) * g.in_c); }, 256);
    run_gemm(ConvRows<uint16_t>{dst, g, b.kw, zero_row_bf16()}, M, b, c, b.N, epi, true);
    return;
  }
  run_gemm(ConvRows<float>{input, g, b.kw, zero_row()}, M, b, c, b.N, epi, true);
}

const char* gemm_kernel_name() { return active_gemm_kernel().name; }
int gemm_panel_width() { return active_gemm_kernel().nr; }

}  // namespace sd
