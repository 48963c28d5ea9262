// sd-driver bench-ops: throughput of the CPU kernels on SD 1.5's real shapes
// (random data), for tuning. Prints GFLOP/s per case; not a test.
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/thread_pool.h"
#include "ops/cpu/cpu_features.h"
#include "ops/cpu/cpu_ops.h"
#include "ops/cpu/gemm.h"

namespace sd {

namespace {

Tensor random_tensor(const Shape& shape, float scale, uint32_t seed) {
  Tensor t = Tensor::host(shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

double time_best(const std::function<void()>& f, int reps) {
  f();  // warm-up: page faults, packing caches
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int bench_ops_main(int argc, char** argv) {
  std::string only = argc > 0 ? argv[0] : "";
  DType storage = DType::F16;
  if (argc > 1) storage = std::string(argv[1]) == "f32" ? DType::F32 : (std::string(argv[1]) == "bf16" ? DType::BF16 : DType::F16);
  std::printf("kernel %s, %d threads, cpu: %s, weights %s\n", gemm_kernel_name(), compute_pool().size(),
              cpu_features().summary().c_str(), dtype_name(storage));
  BackendOptions options;
  options.bf16_compute = storage == DType::BF16;  // attention products in bf16 too, as `--precision bf16` runs them
  auto backend = make_cpu_backend(options);
  struct ConvCase {
    const char* name;
    int64_t b, h, w, cin, cout, k;
  };
  const ConvCase convs[] = {
      {"conv3x3 320->320 64x64 b2", 2, 64, 64, 320, 320, 3},
      {"conv3x3 640->640 32x32 b2", 2, 32, 32, 640, 640, 3},
      {"conv3x3 1280->1280 16x16 b2", 2, 16, 16, 1280, 1280, 3},
      {"conv3x3 1280->1280 8x8 b2", 2, 8, 8, 1280, 1280, 3},
      {"conv3x3 960->320 64x64 b2", 2, 64, 64, 960, 320, 3},
      {"vae conv3x3 128->128 512x512", 1, 512, 512, 128, 128, 3},
      {"vae conv3x3 256->256 256x256", 1, 256, 256, 256, 256, 3},
      {"vae conv3x3 512->512 128x128", 1, 128, 128, 512, 512, 3},
  };
  for (const auto& c : convs) {
    if (!only.empty() && std::string(c.name).find(only) == std::string::npos) continue;
    const Tensor x = random_tensor({c.b, c.h, c.w, c.cin}, 1.0f, 1);
    const Tensor wt = random_tensor({c.cout, c.cin, c.k, c.k}, 0.05f, 2);
    const DeviceWeight w = backend->prepare_weight("w", wt, WeightKind::Conv, storage);
    const double s = time_best([&] { backend->conv2d(x, w, nullptr, Conv2dParams::same(static_cast<int>(c.k))); }, 3);
    const double flops = 2.0 * c.b * c.h * c.w * c.cin * c.cout * c.k * c.k;
    std::printf("%-34s %8.2f ms  %7.1f GFLOP/s\n", c.name, s * 1e3, flops / s / 1e9);
  }
  struct LinCase {
    const char* name;
    int64_t m, k, n;
  };
  const LinCase lins[] = {
      {"linear 8192x320 -> 2560 (ff.0)", 8192, 320, 2560},
      {"linear 8192x1280 -> 320 (ff.2)", 8192, 1280, 320},
      {"linear 8192x320 -> 320 (to_q)", 8192, 320, 320},
      {"linear 154x768 -> 320 (to_k ctx)", 154, 768, 320},
      {"linear 512x1280 -> 10240 (ff.0 16x16)", 512, 1280, 10240},
  };
  for (const auto& c : lins) {
    if (!only.empty() && std::string(c.name).find(only) == std::string::npos) continue;
    const Tensor x = random_tensor({c.m, c.k}, 1.0f, 3);
    const Tensor wt = random_tensor({c.n, c.k}, 0.05f, 4);
    const DeviceWeight w = backend->prepare_weight("w", wt, WeightKind::Matrix, storage);
    const double s = time_best([&] { backend->linear(x, w, nullptr); }, 5);
    std::printf("%-34s %8.2f ms  %7.1f GFLOP/s\n", c.name, s * 1e3, 2.0 * c.m * c.k * c.n / s / 1e9);
  }
  struct AttnCase {
    const char* name;
    int64_t b, nq, nk, c;
    int heads;
  };
  const AttnCase attns[] = {
      {"attention 64x64 self 8x40 b2", 2, 4096, 4096, 320, 8},
      {"attention 64x64 cross 77 b2", 2, 4096, 77, 320, 8},
      {"attention 32x32 self 8x80 b2", 2, 1024, 1024, 640, 8},
      {"vae attention 64x64 512 1 head", 1, 4096, 4096, 512, 1},
  };
  for (const auto& c : attns) {
    if (!only.empty() && std::string(c.name).find(only) == std::string::npos) continue;
    const Tensor q = random_tensor({c.b, c.nq, c.c}, 1.0f, 5);
    const Tensor k = random_tensor({c.b, c.nk, c.c}, 1.0f, 6);
    const Tensor v = random_tensor({c.b, c.nk, c.c}, 1.0f, 7);
    const double s = time_best([&] { backend->attention(q, k, v, c.heads, 0.15f, false); }, 3);
    std::printf("%-34s %8.2f ms  %7.1f GFLOP/s\n", c.name, s * 1e3, 4.0 * c.b * c.nq * c.nk * c.c / s / 1e9);
  }
  return 0;
}

}  // namespace sd
