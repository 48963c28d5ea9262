#include "tools/machine_peak.h"

#include <atomic>
#include <chrono>
#include <vector>

#include "core/thread_pool.h"
#include "ops/cpu/cpu_features.h"
#include "ops/cpu/gemm_kernels.h"

namespace sd {

#ifdef SD_X86_KERNELS
float fma_peak_loop_avx512(int64_t iters);
float fma_peak_loop_avx2(int64_t iters);
#endif

double measure_fp32_peak_gflops(double seconds) {
  ThreadPool& pool = compute_pool();
  const int threads = pool.size();
  std::atomic<int64_t> rounds{0};
  std::atomic<uint32_t> sink{0};
  const CpuFeatures& f = cpu_features();
  // Per call: FLOPs done and the loop; the generic fallback times the micro-kernel in L1.
  const auto t0 = std::chrono::steady_clock::now();
  const auto deadline = t0 + std::chrono::duration<double>(seconds);
  double flops_per_round = 0;
#ifdef SD_X86_KERNELS
  if (f.avx512f) flops_per_round = 100000.0 * 512;
  else if (f.avx2) flops_per_round = 100000.0 * 192;
#endif
  if (flops_per_round == 0) {
    const GemmMicroKernel& kern = active_gemm_kernel();
    flops_per_round = 2.0 * 128 * kern.mr * kern.nr * 64;
  }
  pool.run(threads, [&](int64_t) {
    int64_t local = 0;
    std::vector<float> a(128, 1e-3f), b(static_cast<size_t>(128 * 64), 1e-3f), c(64 * 64, 0.0f);
    const GemmMicroKernel& kern = active_gemm_kernel();
    std::vector<const float*> rows(static_cast<size_t>(kern.mr), a.data());
    while (std::chrono::steady_clock::now() < deadline) {
      float v = 0;
#ifdef SD_X86_KERNELS
      if (f.avx512f) v = fma_peak_loop_avx512(100000);
      else if (f.avx2) v = fma_peak_loop_avx2(100000);
      else
#endif
        for (int i = 0; i < 64; ++i) kern.f32(128, rows.data(), b.data(), c.data(), kern.nr, true);
      sink += static_cast<uint32_t>(v);
      ++local;
    }
    rounds += local;
  });
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return static_cast<double>(rounds.load()) * flops_per_round / elapsed / 1e9;
}

double measure_bf16_peak_gflops(double seconds) {
  const GemmMicroKernel& kern = active_gemm_kernel();
  if (!kern.amx_32x32 && !kern.bf16_dot) return 0;
  ThreadPool& pool = compute_pool();
  std::atomic<int64_t> calls{0};
  const int64_t kc = 256;
  const auto t0 = std::chrono::steady_clock::now();
  const auto deadline = t0 + std::chrono::duration<double>(seconds);
  pool.run(pool.size(), [&](int64_t) {
    std::vector<uint16_t> a(static_cast<size_t>(32 * kc), 0x3c00), b(static_cast<size_t>(kc * 32), 0x3c00);
    std::vector<float> c(32 * 32, 0.0f);
    std::vector<const uint16_t*> rows(14, a.data());
    int64_t local = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      for (int i = 0; i < 64; ++i) {
        if (kern.amx_32x32) kern.amx_32x32(kc, a.data(), kc, b.data(), c.data(), 32, true);
        else kern.bf16_dot(kc / 2, rows.data(), b.data(), c.data(), 32, true);
      }
      local += 64;
    }
    calls += local;
  });
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double flops_per_call = 2.0 * kc * 32 * (kern.amx_32x32 ? 32 : 14);
  return static_cast<double>(calls.load()) * flops_per_call / elapsed / 1e9;
}

}  // namespace sd
