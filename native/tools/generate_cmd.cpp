// sd-driver generate MODEL: one whole txt2img run (text encoder, sampler over
// the UNet, VAE decode) with timings and memory, for GPU machines without
// Node. Prints seconds per step and peak device memory; a benchmark, not a test.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "core/json.h"
#include "model/stable_diffusion.h"
#include "pipeline/generate.h"
#include "text/clip_tokenizer.h"
#include "tools/engine_flags.h"
#include "tools/process_stats.h"

namespace sd {

int generate_main(int argc, char** argv) {
  if (argc < 1) {
    std::fprintf(stderr,
                 "usage: sd-driver generate MODEL [--backend cpu|cuda] [--mode normal|medvram|lowvram] [--size PX]\n"
                 "                 [--steps N] [--sampler NAME] [--prompt TEXT] [--seed N] [--batch N] [--vram-budget MB]\n"
                 "                 [--vae-tile PX] [--vocab FILE] [--precision f16] [--no-half] [--json FILE]\n");
    return 2;
  }
  const std::string path = argv[0];
  EngineOptions options;
  GenerationRequest request;
  request.prompt = "a photograph of an astronaut riding a horse, highly detailed";
  request.sampling.steps = 20;
  std::string vocab = "assets/bpe_simple_vocab_16e6.txt.gz";
  std::string json_path;
  uint64_t seed = 1;
  int batch = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      SD_CHECK(i + 1 < argc, a, " needs a value");
      return argv[++i];
    };
    if (parse_engine_flag(a, value, options)) continue;
    if (a == "--size") request.width = request.height = std::stoi(value());
    else if (a == "--steps") request.sampling.steps = std::stoi(value());
    else if (a == "--sampler") request.sampling.sampler = value();
    else if (a == "--prompt") request.prompt = value();
    else if (a == "--seed") seed = std::stoull(value());
    else if (a == "--batch") batch = std::stoi(value());
    else if (a == "--vae-tile") request.vae_tile_pixels = std::stoi(value());
    else if (a == "--vocab") vocab = value();
    else if (a == "--json") json_path = value();
    else fail("unknown option ", a);
  }
  for (int b = 0; b < batch; ++b) request.seeds.push_back(seed + static_cast<uint64_t>(b));
  const auto now = [] { return std::chrono::steady_clock::now(); };
  const auto secs = [](auto t0, auto t1) { return std::chrono::duration<double>(t1 - t0).count(); };

  auto t0 = now();
  StableDiffusion model(path, options);
  const auto tokenizer = ClipTokenizer::load(vocab);
  const double load_s = secs(t0, now());
  model.backend().reset_device_peak();
  std::chrono::steady_clock::time_point first_step, last_step;
  int steps_seen = 0;
  t0 = now();
  const GenerationOutput out = generate(model, *tokenizer, request, [&](const GenerationStep& s) {
    last_step = now();
    if (steps_seen++ == 0) first_step = last_step;
    std::fprintf(stderr, "\rstep %d/%d", s.step, s.total);
  });
  const double total_s = secs(t0, now());
  std::fprintf(stderr, "\n");
  // Steps after the first: the first one also pays the text encoder and warm-up.
  const double per_step = steps_seen > 1 ? secs(first_step, last_step) / (steps_seen - 1) : total_s;
  const DeviceMemoryReport mem = model.backend().device_memory();
  Json report = Json::object();
  report.set("model", Json::string(path));
  report.set("backend", Json::string(options.backend));
  report.set("memory_mode", Json::string(options.memory_mode));
  report.set("size", Json::number(request.width));
  report.set("batch", Json::number(batch));
  report.set("steps", Json::number(steps_seen));
  report.set("sampler", Json::string(request.sampling.sampler));
  report.set("load_s", Json::number(load_s));
  report.set("generate_s", Json::number(total_s));
  report.set("seconds_per_step", Json::number(per_step));
  report.set("peak_device_bytes", Json::number(static_cast<double>(mem.peak_in_use)));
  report.set("peak_device_reserved_bytes", Json::number(static_cast<double>(mem.peak_reserved)));
  report.set("peak_weight_bytes", Json::number(static_cast<double>(model.residency().peak_resident_bytes())));
  report.set("peak_rss_bytes", Json::number(static_cast<double>(peak_rss_bytes())));
  // A cheap check that the picture is a picture: not all one value.
  const uint8_t* px = out.pixels.data<uint8_t>();
  int64_t distinct = 0;
  for (int64_t i = 1; i < out.pixels.numel() && distinct < 2; ++i) distinct += px[i] != px[0];
  report.set("pixels_vary", Json::boolean(distinct > 0));
  std::printf("%s\n", report.dump().c_str());
  std::printf("%s %s %dx%d: %.3f s/step, total %.2f s, peak device %.0f MiB (weights %.0f MiB), peak RSS %.0f MiB\n",
              options.backend.c_str(), options.memory_mode.c_str(), request.width, request.height, per_step, total_s,
              mem.peak_in_use / 1048576.0, model.residency().peak_resident_bytes() / 1048576.0, peak_rss_bytes() / 1048576.0);
  if (!json_path.empty()) std::ofstream(json_path) << report.dump() << "\n";
  return 0;
}

}  // namespace sd
