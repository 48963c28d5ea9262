// sd-driver bench MODEL: the engine on a real-size checkpoint (usually the
// random SD 1.5 weights from `sd-driver make-model`). Times loading, the text
// encoder, one UNet CFG step (batch 2) per size, and the VAE decoder; reports
// peak host RSS and peak device memory. A benchmark, never a test.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/host_allocator.h"
#include "core/json.h"
#include "core/thread_pool.h"
#include "model/stable_diffusion.h"
#include "model/unet.h"
#include "model/vae.h"
#include "ops/cpu/cpu_features.h"
#include "ops/cpu/gemm.h"
#include "ops/cpu/winograd.h"
#include "tools/engine_flags.h"
#include "tools/flop_count.h"
#include "tools/machine_peak.h"
#include "tools/process_stats.h"

namespace sd {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Tensor gaussian(const Shape& shape, uint32_t seed, float scale = 1.0f) {
  Tensor t = Tensor::host(shape);
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, scale);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = n(rng);
  return t;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int bench_model_main(int argc, char** argv) {
  if (argc < 1) {
    std::fprintf(stderr,
                 "usage: sd-driver bench MODEL [--backend cpu|cuda] [--mode normal|medvram|lowvram] [--precision f16|f32|bf16]\n"
                 "                 [--sizes 512,256] [--reps N] [--no-half] [--vram-budget MB] [--skip-vae] [--json FILE]\n");
    return 2;
  }
  const std::string path = argv[0];
  EngineOptions options;
  std::vector<int> sizes{512, 256};
  int reps = 3;
  bool skip_vae = false;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      SD_CHECK(i + 1 < argc, a, " needs a value");
      return argv[++i];
    };
    if (parse_engine_flag(a, value, options)) continue;
    if (a == "--reps") reps = std::max(1, std::stoi(value()));
    else if (a == "--skip-vae") skip_vae = true;
    else if (a == "--json") json_path = value();
    else if (a == "--sizes") {
      sizes.clear();
      const std::string list = value();
      size_t p = 0;
      while (p < list.size()) {
        const size_t q = list.find(',', p);
        sizes.push_back(std::stoi(list.substr(p, q - p)));
        p = q == std::string::npos ? list.size() : q + 1;
      }
    } else fail("unknown option ", a);
  }
  Json report = Json::object();
  report.set("model", Json::string(path));
  report.set("backend", Json::string(options.backend));
  report.set("memory_mode", Json::string(options.memory_mode));
  report.set("precision", Json::string(dtype_name(options.weight_dtype)));
  report.set("threads", Json::number(compute_pool().size()));
  report.set("gemm_kernel", Json::string(gemm_kernel_name()));
  // Efficiencies count the direct convolution's FLOPs, so with Winograd they
  // can pass 100%; the executed_* fields count what was multiplied.
  const bool winograd = options.backend == "cpu" && options.weight_dtype != DType::BF16 && winograd_enabled();
  report.set("convolution_3x3", Json::string(winograd ? "winograd-f4x4" : "direct"));
  // `prefix` names the JSON key and the printed line (e.g. "unet_cfg_step_512").
  const auto report_executed = [&](const std::string& prefix, const char* label, const FlopCount& f, double seconds) {
    if (!winograd) return;
    report.set(prefix + "_executed_gflop", Json::number(f.winograd_executed() / 1e9));
    std::printf("%s: 3x3 convolutions (%.0f GFLOP) by Winograd F(4x4, 3x3): %.0f GFLOP executed -> %.1f GFLOP/s\n", label,
                f.conv3x3 / 1e9, f.winograd_executed() / 1e9, f.winograd_executed() / seconds / 1e9);
  };
  report.set("cpu_features", Json::string(cpu_features().summary()));

  double peak_gflops = 0;
  const auto measure_peak = [&](double seconds) {
    const double bf16 = options.weight_dtype == DType::BF16 ? measure_bf16_peak_gflops(seconds) : 0;
    return bf16 > 0 ? bf16 : measure_fp32_peak_gflops(seconds);
  };
  if (options.backend == "cpu") {
    peak_gflops = measure_fp32_peak_gflops();
    report.set("machine_peak_gflops", Json::number(peak_gflops));
    std::printf("machine fp32 peak (FMA loop, %d threads): %.1f GFLOP/s\n", compute_pool().size(), peak_gflops);
    if (options.weight_dtype == DType::BF16) {
      // bf16 mode multiplies in bf16: its efficiency is against the bf16 ceiling.
      const double bf16_peak = measure_bf16_peak_gflops();
      report.set("machine_peak_bf16_gflops", Json::number(bf16_peak));
      std::printf("machine bf16 peak (%s in L1): %.1f GFLOP/s\n", gemm_kernel_name(), bf16_peak);
      if (bf16_peak > 0) peak_gflops = bf16_peak;
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  StableDiffusion model(path, options);
  const double load_s = seconds_since(t0);
  report.set("load_s", Json::number(load_s));
  report.set("rss_after_load_bytes", Json::number(static_cast<double>(current_rss_bytes())));
  std::printf("load: %.2f s, RSS %.0f MiB, %s, mode %s\n", load_s, current_rss_bytes() / 1048576.0, model.backend().name(),
              options.memory_mode.c_str());
  const ModelConfig& cfg = model.config();

  // Text encoder: two prompts' worth of ids (cond + uncond), as one generation does.
  Tensor ids = Tensor::host({2, 77}, DType::I32);
  for (int64_t i = 0; i < ids.numel(); ++i) ids.data<int32_t>()[i] = static_cast<int32_t>(i % 77 == 0 ? 49406 : 320 + i % 1000);
  model.text_encoder().forward(ids);  // warm-up
  t0 = std::chrono::steady_clock::now();
  const Tensor context = model.text_encoder().forward(ids);
  report.set("text_encoder_s", Json::number(seconds_since(t0)));
  std::printf("text encoder: %.3f s\n", seconds_since(t0));

  for (const int size : sizes) {
    const int64_t lat = size / 8;
    const Tensor x = gaussian({2, cfg.unet.in_channels, lat, lat}, 1);
    model.backend().reset_device_peak();
    model.residency().reset_peak();
    model.unet().forward(x, {999.0f, 999.0f}, context);  // warm-up: caches, packing, cudnn-free autotuning
    const FlopCount flops = unet_flops(cfg.unet, 2, lat, lat, context.dim(1));
    std::vector<double> times, efficiencies;
    const size_t mapped_before = host_memory_stats().mapped_total;
    for (int r = 0; r < reps; ++r) {
      // Shared and virtual machines change speed by 10-30% from minute to
      // minute: the ceiling is measured again next to every timed step, so each
      // step's efficiency compares two numbers taken under the same conditions.
      const double ceiling = peak_gflops > 0 ? measure_peak(0.25) : 0;
      t0 = std::chrono::steady_clock::now();
      const Tensor eps = model.unet().forward(x, {500.0f - r, 500.0f - r}, context);
      times.push_back(seconds_since(t0));
      if (ceiling > 0) efficiencies.push_back(flops.total() / times.back() / 1e9 / ceiling);
    }
    const double step = median(times);
    const DeviceMemoryReport mem = model.backend().device_memory();
    const double mapped_per_step = static_cast<double>(host_memory_stats().mapped_total - mapped_before) / reps;
    report.set(concat("unet_", size, "_host_mapped_bytes_per_step"), Json::number(mapped_per_step));
    report.set(concat("unet_cfg_step_", size, "_gflop"), Json::number(flops.total() / 1e9));
    std::printf("unet CFG step %dx%d: %.0f GFLOP (conv %.0f, linear %.0f, attention %.0f) -> %.1f GFLOP/s\n", size, size,
                flops.total() / 1e9, flops.conv / 1e9, flops.linear / 1e9, flops.attention / 1e9, flops.total() / step / 1e9);
    report_executed(concat("unet_cfg_step_", size), concat("unet CFG step ", size, "x", size).c_str(), flops, step);
    if (!efficiencies.empty()) {
      const double eff = median(efficiencies);
      if (size == sizes.front()) report.set("efficiency", Json::number(eff));
      report.set(concat("unet_", size, "_efficiency"), Json::number(eff));
      std::printf("unet CFG step %dx%d: %.1f %% of the ceiling measured beside each step (median; fastest step %.3f s)\n",
                  size, size, eff * 100, *std::min_element(times.begin(), times.end()));
    }
    const std::string key = concat("unet_cfg_step_", size, "_s");
    report.set(key, Json::number(step));
    report.set(concat("unet_", size, "_peak_device_bytes"), Json::number(static_cast<double>(mem.peak_in_use)));
    report.set(concat("unet_", size, "_peak_weight_bytes"), Json::number(static_cast<double>(model.residency().peak_resident_bytes())));
    std::printf("unet CFG step %dx%d: %.3f s (median of %d), peak device %.0f MiB, peak weights %.0f MiB, "
                "host memory newly mapped per step %.1f MiB\n",
                size, size, step, reps, mem.peak_in_use / 1048576.0, model.residency().peak_resident_bytes() / 1048576.0,
                mapped_per_step / 1048576.0);
  }
  if (!skip_vae) {
    const int size = sizes.front();
    const Tensor z = gaussian({1, cfg.vae.z_channels, size / 8, size / 8}, 2, 5.0f);
    model.backend().reset_device_peak();
    const double ceiling = peak_gflops > 0 ? measure_peak(0.25) : 0;
    const size_t mapped_before = host_memory_stats().mapped_total;
    t0 = std::chrono::steady_clock::now();
    model.vae().decode(z);
    const double vae_s = seconds_since(t0);
    const double vae_mapped = static_cast<double>(host_memory_stats().mapped_total - mapped_before);
    report.set(concat("vae_decode_", size, "_host_mapped_bytes"), Json::number(vae_mapped));
    report.set(concat("vae_decode_", size, "_s"), Json::number(vae_s));
    const FlopCount vf = vae_decoder_flops(cfg.vae, 1, size / 8, size / 8);
    report.set(concat("vae_decode_", size, "_gflop"), Json::number(vf.total() / 1e9));
    std::printf("vae decoder %dx%d: %.0f GFLOP -> %.1f GFLOP/s\n", size, size, vf.total() / 1e9, vf.total() / vae_s / 1e9);
    report_executed(concat("vae_decode_", size), concat("vae decoder ", size, "x", size).c_str(), vf, vae_s);
    if (ceiling > 0) {
      report.set(concat("vae_decode_", size, "_efficiency"), Json::number(vf.total() / vae_s / 1e9 / ceiling));
      std::printf("vae decode %dx%d: %.1f %% of the ceiling measured just before\n", size, size,
                  vf.total() / vae_s / 1e9 / ceiling * 100);
    }
    report.set(concat("vae_decode_", size, "_peak_device_bytes"),
               Json::number(static_cast<double>(model.backend().device_memory().peak_in_use)));
    std::printf("vae decode %dx%d: %.3f s, peak device %.0f MiB, host memory newly mapped %.0f MiB\n", size, size, vae_s,
                model.backend().device_memory().peak_in_use / 1048576.0, vae_mapped / 1048576.0);
  }
  report.set("peak_rss_bytes", Json::number(static_cast<double>(peak_rss_bytes())));
  std::printf("peak RSS: %.0f MiB\n", peak_rss_bytes() / 1048576.0);
  if (!json_path.empty()) std::ofstream(json_path) << report.dump() << "\n";
  return 0;
}

}  // namespace sd
