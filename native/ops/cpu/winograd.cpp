// Winograd F(4x4, 3x3) driver. Each 4x4 block of output pixels ("tile") reads
// a 6x6 input patch; the patch is transformed into 36 points, each point is
// an independent product [tiles, Cin] x [Cin, Cout] (the existing GEMM
// micro-kernel), and 36 products transform back to 16 pixels.
//
// Memory and cache plan:
// - The transformed input V [36][tiles][Cin] for a run of tiles lives in one
//   fixed-size buffer (the caching allocator keeps one block of one size, so
//   no page is mapped again from step to step, and RSS grows by that block).
// - The transformed weights U are never stored whole: 36 x Cin x Cout fp32 is
//   8x the fp16 weights (236 MB for a 1280x1280 kernel). Each task computes
//   U from the packed weights' 9 tap slices for its two weight panels, one
//   K-block and one row of 6 points at a time, straight into L2, and runs
//   those 6 products against it before the next row.
// - A task is (block of tiles, two weight panels): its 36 partial products
//   stay in a thread-local buffer until the output transform writes pixels.
#include "ops/cpu/winograd.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "ops/cpu/gemm_kernels.h"
#include "ops/cpu/winograd_kernels.h"

namespace sd {

namespace {

constexpr int kPoints = 36;
constexpr int64_t kMaxKC = 192;  // a K-block's U slices (2 panels x kc x nr fp32) stay within L1 per point
constexpr int64_t kTilesPerBlock = 98;  // rows of one task's products: 36 x 98 x 2 panels stay in L2
constexpr size_t kVBufferBytes = size_t(24) << 20;

enum class Mode { Off, Auto, Always };

Mode mode() {
  static const Mode m = [] {
    const char* env = std::getenv("SD_WINOGRAD");
    const std::string v = env ? env : "";
    if (v == "0") return Mode::Off;
    if (v == "1") return Mode::Always;
    return Mode::Auto;
  }();
  return m;
}

// The transforms of the GEMM kernel's instruction set, or nullptr with the
// generic kernel: then the direct convolution runs.
const WinogradTransforms* transforms() {
#ifdef SD_X86_KERNELS
  switch (active_gemm_kernel().isa) {
    case KernelIsa::Avx512: return &winograd_transforms_avx512();
    case KernelIsa::Avx2: return &winograd_transforms_avx2();
    default: break;
  }
#endif
  return nullptr;
}

const float* zero_row() {
  static const std::vector<float> zeros(static_cast<size_t>(kMaxKC), 0.0f);
  return zeros.data();
}

}  // namespace

bool winograd_enabled() { return mode() != Mode::Off && transforms() != nullptr; }

bool winograd_applies(const ConvGeometry& g, const PackedWeight& b) {
  if (!winograd_enabled()) return false;
  const int64_t up = g.upsample;
  const bool shape = b.kh == 3 && b.kw == 3 && g.stride == 1 && g.pad_top == 1 && g.pad_left == 1 &&
                     g.out_h == g.in_h * up && g.out_w == g.in_w * up && g.in_c % 16 == 0 && b.N % 16 == 0 &&
                     !b.pairs && (b.dtype == DType::F32 || b.dtype == DType::F16);
  if (!shape) return false;
  if (mode() == Mode::Always) return true;
  // Measured with `sd-driver bench-ops conv` (2 cores, fp16 weights), AVX-512:
  // 2.1-2.6x at 64x64 to 16x16, 1.45x even for 1280 channels at 8x8 with
  // batch 2; AVX2: 2.9-3.6x, and 1.9x at 8x8.
  // Decided per picture, never by the batch: a seed's picture must not change
  // with the batch it is generated in.
  return g.out_h * g.out_w >= 64 && g.in_c >= 32;
}

void winograd_conv(const float* input, const ConvGeometry& g, const PackedWeight& b, float* c,
                   const GemmEpilogue& epi) {
#ifdef SD_X86_KERNELS
  SD_CHECK(winograd_applies(g, b), "internal: Winograd asked for a convolution it cannot do");
  const WinogradTransforms& xf = *transforms();
  const GemmMicroKernel& kern = active_gemm_kernel();
  const int mr = kern.mr, nr = kern.nr;
  SD_CHECK(b.nr == nr, "weight was packed for another kernel");
  const int64_t cin = g.in_c, N = b.N, K = b.K, up = g.upsample;
  const int64_t src_h = g.in_h * up, src_w = g.in_w * up;
  const int64_t tiles_h = (g.out_h + 3) / 4, tiles_w = (g.out_w + 3) / 4;
  const int64_t tiles = g.batch * tiles_h * tiles_w;
  const int64_t n_panels = (N + nr - 1) / nr, n_groups = (n_panels + 1) / 2;
  const int64_t k_parts = (cin + kMaxKC - 1) / kMaxKC, kc_max = (cin + k_parts - 1) / k_parts;

  // Tiles per pass: as many as V's buffer holds, in whole blocks of micro-panels.
  const int64_t per_tile = kPoints * cin;
  const int64_t block_max = kTilesPerBlock / mr * mr;
  int64_t pass = std::max<int64_t>(mr, static_cast<int64_t>(kVBufferBytes / 4) / per_tile / mr * mr);
  pass = std::min(pass, tiles);
  // One micro-panel of tiles may not fit for thousands of channels: then the buffer grows.
  const size_t v_floats = std::max(kVBufferBytes / 4, static_cast<size_t>(pass * per_tile));
  Tensor v_buffer = Tensor::host({static_cast<int64_t>(v_floats)}, DType::F32);
  float* V = v_buffer.data<float>();
  const uint8_t* panels = static_cast<const uint8_t*>(b.panels.raw());
  ThreadPool& pool = compute_pool();

  // Tile t's picture in the batch and its top-left output pixel.
  auto tile_origin = [&](int64_t t, int64_t& n, int64_t& y0, int64_t& x0) {
    x0 = (t % tiles_w) * 4;
    const int64_t rest = t / tiles_w;
    y0 = (rest % tiles_h) * 4;
    n = rest / tiles_h;
  };

  for (int64_t t0 = 0; t0 < tiles; t0 += pass) {
    const int64_t count = std::min(pass, tiles - t0);
    pool.parallel_for(
        count,
        [&](int64_t a, int64_t z) {
          const float* patch[kPoints];
          for (int64_t t = a; t < z; ++t) {
            int64_t n, y0, x0;
            tile_origin(t0 + t, n, y0, x0);
            for (int i = 0; i < 6; ++i) {
              const int64_t y = y0 - 1 + i;
              for (int j = 0; j < 6; ++j) {
                const int64_t x = x0 - 1 + j;
                const bool inside = y >= 0 && y < src_h && x >= 0 && x < src_w;
                patch[i * 6 + j] = inside ? input + ((n * g.in_h + y / up) * g.in_w + x / up) * cin : nullptr;
              }
            }
            xf.input_tile(patch, cin, V + t * cin, count * cin);
          }
        },
        8);

    const int64_t blocks = (count + block_max - 1) / block_max;
    pool.run(blocks * n_groups, [&](int64_t task) {
      const int64_t blk = task / n_groups, grp = task % n_groups;
      const int64_t r0 = blk * block_max, rows = std::min(block_max, count - r0);
      const int64_t micro = (rows + mr - 1) / mr;
      const int64_t jp0 = grp * 2, np = std::min<int64_t>(2, n_panels - jp0);
      const int64_t width = 2 * nr;  // the product buffer's row length
      thread_local std::vector<float> U, M;
      U.resize(static_cast<size_t>(6 * 2 * kc_max * nr));
      M.resize(static_cast<size_t>(kPoints * block_max * width));
      const float* a_rows[64];
      for (int64_t k0 = 0; k0 < cin; k0 += kc_max) {
        const int64_t kc = std::min(kc_max, cin - k0);
        const int64_t u_stride = 2 * kc * nr;  // per point: np panel slices of [kc][nr]
        for (int py = 0; py < 6; ++py) {
          for (int64_t jj = 0; jj < np; ++jj) {
            const size_t first = static_cast<size_t>(((jp0 + jj) * K + k0) * nr);  // tap 0 of this K-block
            float* u = U.data() + jj * kc * nr;
            if (b.dtype == DType::F16)
              xf.weights_f16(reinterpret_cast<const uint16_t*>(panels) + first, cin * nr, kc * nr, py, u, u_stride);
            else
              xf.weights_f32(reinterpret_cast<const float*>(panels) + first, cin * nr, kc * nr, py, u, u_stride);
          }
          for (int px = 0; px < 6; ++px) {
            const int p = py * 6 + px;
            const float* vp = V + p * count * cin + k0;
            for (int64_t ir = 0; ir < micro; ++ir) {
              for (int r = 0; r < mr; ++r) {
                const int64_t row = r0 + ir * mr + r;
                a_rows[r] = row < count ? vp + row * cin : zero_row();
              }
              float* mp = M.data() + (p * block_max + ir * mr) * width;
              for (int64_t jj = 0; jj < np; ++jj)
                kern.f32(kc, a_rows, U.data() + px * u_stride + jj * kc * nr, mp + jj * nr, width, k0 > 0);
            }
          }
        }
      }
      // Back to pixels: 16 per tile, this group's columns only.
      const int64_t n0 = jp0 * nr, cols = std::min(np * nr, N - n0);
      float* out[16];
      const float* res[16];
      for (int64_t r = 0; r < rows; ++r) {
        int64_t n, y0, x0;
        tile_origin(t0 + r0 + r, n, y0, x0);
        for (int i = 0; i < 4; ++i) {
          for (int j = 0; j < 4; ++j) {
            const int64_t y = y0 + i, x = x0 + j;
            const bool inside = y < g.out_h && x < g.out_w;
            const int64_t pixel = (n * g.out_h + y) * g.out_w + x;
            out[i * 4 + j] = inside ? c + pixel * N + n0 : nullptr;
            res[i * 4 + j] = inside && epi.residual ? epi.residual + pixel * epi.ldr + n0 : nullptr;
          }
        }
        xf.output_tile(M.data() + r * width, block_max * width, cols, epi.bias ? epi.bias + n0 : nullptr,
                                    out, epi.residual ? res : nullptr);
      }
    });
  }
#else
  (void)input, (void)g, (void)b, (void)c, (void)epi;
  SD_CHECK(false, "internal: Winograd needs the x86 kernels");
#endif
}

}  // namespace sd
