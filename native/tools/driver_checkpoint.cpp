#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#ifndef _WIN32
#include <sys/resource.h>
#endif

#include "core/error.h"
#include "core/json.h"
#include "io/checkpoint.h"
#include "model/config.h"
#include "model/sd1_layout.h"
#include "model/weight_store.h"
#include "tools/driver_commands.h"
#include "tools/random_model.h"

namespace sd {

namespace {

DType parse_float_dtype(const std::string& s) {
  if (s == "f32") return DType::F32;
  if (s == "f16") return DType::F16;
  if (s == "bf16") return DType::BF16;
  fail("--dtype must be f32, f16 or bf16, not \"", s, "\"");
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Peak and current memory of this process, in bytes (0 where unknown).
struct MemoryReport {
  uint64_t ru_maxrss = 0, vm_hwm = 0, vm_rss = 0, rss_anon = 0, rss_file = 0;
};

MemoryReport memory_report() {
  MemoryReport m;
#ifndef _WIN32
  rusage ru{};
#ifdef __APPLE__
  if (getrusage(RUSAGE_SELF, &ru) == 0) m.ru_maxrss = static_cast<uint64_t>(ru.ru_maxrss);  // bytes on macOS
#else
  if (getrusage(RUSAGE_SELF, &ru) == 0) m.ru_maxrss = static_cast<uint64_t>(ru.ru_maxrss) * 1024;  // KiB on Linux
#endif
#endif
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream in(line);
    std::string key;
    uint64_t kib = 0;
    in >> key >> kib;
    if (key == "VmHWM:") m.vm_hwm = kib * 1024;
    else if (key == "VmRSS:") m.vm_rss = kib * 1024;
    else if (key == "RssAnon:") m.rss_anon = kib * 1024;
    else if (key == "RssFile:") m.rss_file = kib * 1024;
  }
  return m;
}

Json strings_json(const std::map<std::string, std::string>& m) {
  Json o = Json::object();
  for (const auto& [k, v] : m) o.set(k, Json::string(v));
  return o;
}

Json shape_json(const Shape& s) {
  Json a = Json::array();
  for (const int64_t d : s) a.push(Json::number(static_cast<double>(d)));
  return a;
}

}  // namespace

int driver_inspect(int argc, char** argv) {
  if (argc < 1) throw Error("usage: sd-driver inspect FILE [--verify] [--dtype f32|f16|bf16] [--list]");
  const std::string path = argv[0];
  bool verify = false, list = false;
  DType dtype = DType::F32;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--verify") verify = true;
    else if (a == "--list") list = true;
    else if (a == "--dtype" && i + 1 < argc) dtype = parse_float_dtype(argv[++i]);
    else fail("inspect: unknown option ", a);
  }
  const auto t0 = std::chrono::steady_clock::now();
  const auto ckpt = open_checkpoint(path);
  Json out = Json::object();
  out.set("format", Json::string(ckpt->format()));
  out.set("tensors", Json::number(static_cast<double>(ckpt->tensors().size())));
  try {
    std::string source;
    const ModelConfig config = detect_model_config(*ckpt, &source);
    out.set("config", config.to_json());
    out.set("config_source", Json::string(source));
  } catch (const Error& e) {
    out.set("config_error", Json::string(e.what()));
  }
  out.set("metadata", strings_json(ckpt->metadata_map()));
  if (list) {
    Json tensors = Json::array();
    for (const auto& t : ckpt->tensors()) {
      Json j = Json::object();
      j.set("name", Json::string(t.name));
      j.set("dtype", Json::string(dtype_name(t.dtype)));
      j.set("shape", shape_json(t.shape));
      tensors.push(j);
    }
    out.set("list", tensors);
  }
  if (verify) {
    uint64_t bytes = 0;
    for (const auto& t : ckpt->tensors()) bytes += ckpt->read(t, dtype).nbytes();
    out.set("verified_bytes", Json::number(static_cast<double>(bytes)));
  }
  out.set("seconds", Json::number(seconds_since(t0)));
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int driver_load(int argc, char** argv) {
  if (argc < 1) throw Error("usage: sd-driver load FILE [--dtype f32|f16|bf16] [--prefix P]... [--report]");
  const std::string path = argv[0];
  DType dtype = DType::F16;
  std::vector<std::string> prefixes;
  bool report = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dtype" && i + 1 < argc) dtype = parse_float_dtype(argv[++i]);
    else if (a == "--prefix" && i + 1 < argc) prefixes.push_back(argv[++i]);
    else if (a == "--report") report = true;
    else fail("load: unknown option ", a);
  }
  const MemoryReport before = memory_report();
  const auto t0 = std::chrono::steady_clock::now();
  const auto ckpt = open_checkpoint(path);
  const double open_seconds = seconds_since(t0);
  const WeightStore store = WeightStore::load(*ckpt, dtype, prefixes);
  const double seconds = seconds_since(t0);
  const MemoryReport after = memory_report();
  Json out = Json::object();
  out.set("file", Json::string(path));
  out.set("format", Json::string(ckpt->format()));
  out.set("dtype", Json::string(dtype_name(dtype)));
  out.set("tensors", Json::number(static_cast<double>(store.size())));
  out.set("store_bytes", Json::number(static_cast<double>(store.bytes())));
  out.set("open_seconds", Json::number(open_seconds));
  out.set("seconds", Json::number(seconds));
  if (report) {
    out.set("rss_before", Json::number(static_cast<double>(before.vm_rss)));
    out.set("peak_rss_ru_maxrss", Json::number(static_cast<double>(after.ru_maxrss)));
    out.set("peak_rss_vm_hwm", Json::number(static_cast<double>(after.vm_hwm)));
    out.set("rss_after", Json::number(static_cast<double>(after.vm_rss)));
    out.set("rss_anon_after", Json::number(static_cast<double>(after.rss_anon)));
    out.set("rss_file_after", Json::number(static_cast<double>(after.rss_file)));
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

namespace {

ModelConfig config_from_argument(const std::string& arg) {
  if (arg == "sd15") return ModelConfig::sd15();
  std::ifstream in(arg, std::ios::binary);
  SD_CHECK(in.good(), "cannot read ", arg, " (--config takes sd15 or a config.json path)");
  std::stringstream text;
  text << in.rdbuf();
  return ModelConfig::from_json(Json::parse(text.str()));
}

}  // namespace

int driver_layout(int argc, char** argv) {
  if (argc != 2 || std::string(argv[0]) != "--config") throw Error("usage: sd-driver layout --config sd15|PATH.json");
  Json out = Json::array();
  for (const TensorSpec& t : sd1_checkpoint_layout(config_from_argument(argv[1]))) {
    Json j = Json::object();
    j.set("name", Json::string(t.name));
    j.set("dtype", Json::string(dtype_name(t.dtype)));
    j.set("shape", shape_json(t.shape));
    out.push(j);
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int driver_make_model(int argc, char** argv) {
  RandomModelOptions o;
  std::string out_path, config_arg, format = "safetensors";
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail("make-model: ", a, " needs a value");
      return argv[++i];
    };
    if (a == "--config") config_arg = value();
    else if (a == "--out") out_path = value();
    else if (a == "--dtype") o.dtype = parse_float_dtype(value());
    else if (a == "--seed") o.seed = std::stoull(value());
    else if (a == "--format") format = value();
    else if (a == "--embed-config") o.embed_config = true;
    else fail("make-model: unknown option ", a);
  }
  if (config_arg.empty() || out_path.empty())
    throw Error("usage: sd-driver make-model --config sd15|PATH.json --out FILE [--dtype f16|f32|bf16] [--seed N] "
                "[--format safetensors|ckpt] [--embed-config]");
  if (format != "safetensors" && format != "ckpt") fail("--format must be safetensors or ckpt");
  o.ckpt = format == "ckpt";
  o.config = config_from_argument(config_arg);
  const auto t0 = std::chrono::steady_clock::now();
  write_random_model(o, out_path, [&](const WriteProgress& p) {
    std::fprintf(stderr, "\rwriting %s: %.0f / %.0f MB", out_path.c_str(), p.bytes_done / 1e6, p.bytes_total / 1e6);
    if (p.bytes_done == p.bytes_total) std::fprintf(stderr, "\n");
  });
  std::printf("wrote %s in %.1f s\n", out_path.c_str(), seconds_since(t0));
  return 0;
}

}  // namespace sd
