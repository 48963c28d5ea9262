#include "tools/random_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "model/sd1_layout.h"
#include "tools/torch_pickle_writer.h"
#include "tools/zip_writer.h"

namespace sd {

namespace {

uint64_t mix64(uint64_t z) {  // splitmix64's finaliser
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Uniform in [-1, 1) with 24 random bits (exact in float32).
float symmetric_uniform(uint64_t bits) { return static_cast<float>(bits >> 40) * (2.0f / 16777216.0f) - 1.0f; }

enum class Init { Uniform, Normal, NormWeight, NormBias, Arange, Schedule };

struct TensorPlan {
  TensorSpec spec;
  Init init = Init::Uniform;
  float scale = 0;                  // Uniform: bound; Normal: std
  std::vector<double> values;       // Schedule: the whole buffer
  uint64_t stream = 0;              // per-tensor generator key
};

// The 12 LatentDiffusion buffers for the "linear" schedule
// (ldm/models/diffusion/ddpm.py register_schedule, v_posterior = 0).
std::map<std::string, std::vector<double>> schedule_buffers(const DiffusionConfig& d) {
  const int T = d.timesteps;
  std::vector<double> betas(T), ac(T), ac_prev(T);
  const double s0 = std::sqrt(d.linear_start), s1 = std::sqrt(d.linear_end);
  double prod = 1;
  for (int t = 0; t < T; ++t) {
    const double s = T > 1 ? s0 + (s1 - s0) * t / (T - 1) : s0;
    betas[t] = s * s;
    ac_prev[t] = prod;
    prod *= 1 - betas[t];
    ac[t] = prod;
  }
  std::map<std::string, std::vector<double>> out;
  const auto make = [&](const std::string& name, auto f) {
    std::vector<double> v(T);
    for (int t = 0; t < T; ++t) v[t] = f(t);
    out[name] = std::move(v);
  };
  make("betas", [&](int t) { return betas[t]; });
  make("alphas_cumprod", [&](int t) { return ac[t]; });
  make("alphas_cumprod_prev", [&](int t) { return ac_prev[t]; });
  make("sqrt_alphas_cumprod", [&](int t) { return std::sqrt(ac[t]); });
  make("sqrt_one_minus_alphas_cumprod", [&](int t) { return std::sqrt(1 - ac[t]); });
  make("log_one_minus_alphas_cumprod", [&](int t) { return std::log(1 - ac[t]); });
  make("sqrt_recip_alphas_cumprod", [&](int t) { return std::sqrt(1 / ac[t]); });
  make("sqrt_recipm1_alphas_cumprod", [&](int t) { return std::sqrt(1 / ac[t] - 1); });
  const auto posterior_variance = [&](int t) { return betas[t] * (1 - ac_prev[t]) / (1 - ac[t]); };
  make("posterior_variance", posterior_variance);
  make("posterior_log_variance_clipped", [&](int t) { return std::log(std::max(posterior_variance(t), 1e-20)); });
  make("posterior_mean_coef1", [&](int t) { return betas[t] * std::sqrt(ac_prev[t]) / (1 - ac[t]); });
  make("posterior_mean_coef2", [&](int t) { return (1 - ac_prev[t]) * std::sqrt(1 - betas[t]) / (1 - ac[t]); });
  return out;
}

std::vector<TensorPlan> plan_model(const RandomModelOptions& o) {
  std::vector<TensorSpec> layout = sd1_checkpoint_layout(o.config);
  std::map<std::string, const TensorSpec*> by_name;
  for (const auto& s : layout) by_name[s.name] = &s;
  auto schedule = schedule_buffers(o.config.diffusion);
  std::vector<TensorPlan> plans;
  uint64_t index = 0;
  for (const TensorSpec& s : layout) {
    TensorPlan p;
    p.spec = s;
    p.stream = mix64(o.seed ^ mix64(++index));
    const bool is_weight = s.name.size() > 7 && s.name.compare(s.name.size() - 7, 7, ".weight") == 0;
    const bool is_bias = s.name.size() > 5 && s.name.compare(s.name.size() - 5, 5, ".bias") == 0;
    if (s.dtype == DType::I64) {
      p.init = Init::Arange;
    } else if (schedule.count(s.name)) {
      p.init = Init::Schedule;
      p.values = std::move(schedule[s.name]);
    } else if (s.name.find("embedding.weight") != std::string::npos) {
      p.init = Init::Normal;
      p.scale = 0.02f;
    } else if (is_weight && s.shape.size() == 1) {
      p.init = Init::NormWeight;
    } else if (is_weight || is_bias) {
      // fan_in of the layer: the weight's element count over its output size.
      const std::string weight_name = is_weight ? s.name : s.name.substr(0, s.name.size() - 5) + ".weight";
      const auto it = by_name.find(weight_name);
      SD_CHECK(it != by_name.end(), "internal: no weight for ", s.name);
      const Shape& w = it->second->shape;
      if (w.size() == 1) {
        p.init = Init::NormBias;
      } else {
        const int64_t fan_in = shape_numel(w) / w[0];
        p.init = Init::Uniform;
        p.scale = 1.0f / std::sqrt(static_cast<float>(fan_in));
      }
    } else {
      fail("internal: no initialisation rule for ", s.name);
    }
    plans.push_back(std::move(p));
  }
  return plans;
}

// Values below fp16's smallest normal (2^-14) become 0, so that no storage
// type holds subnormals (slow on many CPUs; ~0.2% of values otherwise).
void flush_tiny(float* out, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (std::fabs(out[i]) < 6.103515625e-05f) out[i] = 0.0f;
}

void generate_values(const TensorPlan& p, int64_t begin, size_t n, float* out);

// Elements [begin, begin + n) of a float tensor.
void generate(const TensorPlan& p, int64_t begin, size_t n, float* out) {
  generate_values(p, begin, n, out);
  if (p.init != Init::Schedule) flush_tiny(out, n);
}

void generate_values(const TensorPlan& p, int64_t begin, size_t n, float* out) {
  switch (p.init) {
    case Init::Uniform:
      for (size_t i = 0; i < n; ++i) out[i] = p.scale * symmetric_uniform(mix64(p.stream + static_cast<uint64_t>(begin) + i));
      return;
    case Init::NormWeight:
      for (size_t i = 0; i < n; ++i) out[i] = 1.0f + 0.05f * symmetric_uniform(mix64(p.stream + static_cast<uint64_t>(begin) + i));
      return;
    case Init::NormBias:
      for (size_t i = 0; i < n; ++i) out[i] = 0.05f * symmetric_uniform(mix64(p.stream + static_cast<uint64_t>(begin) + i));
      return;
    case Init::Normal:
      // Box-Muller on two 32-bit halves; u1 in (0, 1] keeps the log finite.
      for (size_t i = 0; i < n; ++i) {
        const uint64_t bits = mix64(p.stream + static_cast<uint64_t>(begin) + i);
        const double u1 = (static_cast<double>(bits >> 32) + 1.0) / 4294967296.0;
        const double u2 = static_cast<double>(bits & 0xffffffffu) / 4294967296.0;
        out[i] = static_cast<float>(p.scale * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
      }
      return;
    case Init::Schedule:
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(p.values[static_cast<size_t>(begin) + i]);
      return;
    case Init::Arange:
      break;
  }
  fail("internal: generate() on an integer tensor");
}

DType stored_type(const TensorPlan& p, DType float_type) { return p.spec.dtype == DType::I64 ? DType::I64 : float_type; }

uint64_t stored_bytes(const TensorPlan& p, DType float_type) {
  return static_cast<uint64_t>(shape_numel(p.spec.shape)) * dtype_size(stored_type(p, float_type));
}

// Streams one tensor's bytes in chunks of 1 Mi elements.
template <typename Write>
void stream_tensor(const TensorPlan& p, DType float_type, Write&& write) {
  const int64_t numel = shape_numel(p.spec.shape);
  if (p.init == Init::Arange) {
    std::vector<int64_t> v(static_cast<size_t>(numel));
    for (int64_t i = 0; i < numel; ++i) v[static_cast<size_t>(i)] = i % p.spec.shape.back();
    write(v.data(), v.size() * 8);
    return;
  }
  const size_t kChunk = static_cast<size_t>(std::min<int64_t>(numel, int64_t{1} << 20));
  std::vector<float> f(kChunk);
  std::vector<uint8_t> bytes(kChunk * 4);
  const size_t esize = dtype_size(float_type);
  for (int64_t i = 0; i < numel; i += static_cast<int64_t>(kChunk)) {
    const size_t n = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(kChunk), numel - i));
    generate(p, i, n, f.data());
    convert_from_f32(f.data(), float_type, bytes.data(), n);
    write(bytes.data(), n * esize);
  }
}

void write_safetensors(const std::vector<TensorPlan>& plans, const RandomModelOptions& o, const std::string& path,
                       const std::function<void(uint64_t)>& advance) {
  // Like the official writer: data ordered by element size, then name.
  std::vector<const TensorPlan*> order;
  for (const auto& p : plans) order.push_back(&p);
  std::sort(order.begin(), order.end(), [&](const TensorPlan* a, const TensorPlan* b) {
    const size_t sa = dtype_size(stored_type(*a, o.dtype)), sb = dtype_size(stored_type(*b, o.dtype));
    return sa != sb ? sa > sb : a->spec.name < b->spec.name;
  });
  Json header = Json::object();
  Json meta = Json::object();
  meta.set("format", Json::string("pt"));
  if (o.embed_config) meta.set("sd_config", Json::string(o.config.to_json().dump()));
  header.set("__metadata__", meta);
  uint64_t offset = 0;
  for (const TensorPlan* p : order) {
    Json entry = Json::object();
    entry.set("dtype", Json::string(dtype_name(stored_type(*p, o.dtype))));
    Json shape = Json::array();
    for (const int64_t d : p->spec.shape) shape.push(Json::number(static_cast<double>(d)));
    entry.set("shape", shape);
    const uint64_t bytes = stored_bytes(*p, o.dtype);
    Json offsets = Json::array();
    offsets.push(Json::number(static_cast<double>(offset)));
    offsets.push(Json::number(static_cast<double>(offset + bytes)));
    entry.set("data_offsets", offsets);
    header.set(p->spec.name, entry);
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  SD_CHECK(out.good(), "cannot create ", path);
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
  out.write(reinterpret_cast<const char*>(len), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const TensorPlan* p : order) {
    stream_tensor(*p, o.dtype, [&](const void* data, size_t n) {
      out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
      SD_CHECK(out.good(), "writing ", path, " failed (disk full?)");
      advance(n);
    });
  }
  out.close();
  SD_CHECK(!out.fail(), "writing ", path, " failed (disk full?)");
}

void write_ckpt(const std::vector<TensorPlan>& plans, const RandomModelOptions& o, const std::string& path,
                const std::string& archive, const std::function<void(uint64_t)>& advance) {
  std::vector<PickledTensor> pickled;
  for (size_t i = 0; i < plans.size(); ++i)
    pickled.push_back({plans[i].spec.name, stored_type(plans[i], o.dtype), plans[i].spec.shape, std::to_string(i)});
  ZipWriter zip(path);
  zip.add(archive + "/data.pkl", torch_state_dict_pickle(pickled, 0));
  zip.add(archive + "/byteorder", std::string("little"));
  for (size_t i = 0; i < plans.size(); ++i) {
    zip.add(archive + "/data/" + std::to_string(i), stored_bytes(plans[i], o.dtype), [&](const ZipWriter::Sink& write) {
      stream_tensor(plans[i], o.dtype, [&](const void* data, size_t n) {
        write(data, n);
        advance(n);
      });
    });
  }
  zip.add(archive + "/version", std::string("3\n"));
  zip.finish();
}

}  // namespace

void write_random_model(const RandomModelOptions& o, const std::string& path,
                        const std::function<void(const WriteProgress&)>& progress) {
  SD_CHECK(o.dtype == DType::F32 || o.dtype == DType::F16 || o.dtype == DType::BF16,
           "weights can be written as F32, F16 or BF16");
  const std::vector<TensorPlan> plans = plan_model(o);
  WriteProgress p;
  for (const auto& plan : plans) p.bytes_total += stored_bytes(plan, o.dtype);
  uint64_t last_report = 0;
  const auto advance = [&](uint64_t n) {
    p.bytes_done += n;
    if (progress && (p.bytes_done - last_report >= (uint64_t{64} << 20) || p.bytes_done == p.bytes_total)) {
      last_report = p.bytes_done;
      progress(p);
    }
  };
  namespace fs = std::filesystem;
  const fs::path target = fs::u8path(path);
  const std::string partial = path + ".partial";
  try {
    if (o.ckpt) {
      write_ckpt(plans, o, partial, target.stem().u8string().empty() ? "archive" : target.stem().u8string(), advance);
    } else {
      write_safetensors(plans, o, partial, advance);
    }
    fs::rename(fs::u8path(partial), target);
  } catch (...) {
    std::error_code ec;
    fs::remove(fs::u8path(partial), ec);
    throw;
  }
  if (o.ckpt && o.embed_config) {
    const fs::path sidecar = target.parent_path() / (target.stem().u8string() + ".config.json");
    std::ofstream(sidecar, std::ios::binary | std::ios::trunc) << o.config.to_json().dump() << "\n";
  }
}

}  // namespace sd
