// The N-API binding: the only file that includes napi.h. It converts JS
// values to plain engine structs, runs heavy work on worker threads, and turns
// sd::Error into JS exceptions. See cli/binding/types.ts for the typed contract.
#include <napi.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "addon/checkpoint_binding.h"
#include "addon/model_binding.h"
#include "backend/backend.h"
#include "conformance/conformance.h"
#include "core/error.h"
#include "sample/noise_source.h"
#include "sample/rng_philox.h"
#include "sample/rng_torch_cpu.h"
#include "sample/sampler_table.h"
#include "text/clip_tokenizer.h"
#include "text/prompt_chunks.h"

namespace {

// [async] runConformance(dir, options, onCase) -> Promise<{passed, failed}>
// onCase(result) is called on the JS thread after each case.
class ConformanceWorker : public Napi::AsyncProgressQueueWorker<sd::CaseResult> {
 public:
  ConformanceWorker(Napi::Env env, std::string dir, sd::ConformanceOptions options, Napi::Function on_case)
      : Napi::AsyncProgressQueueWorker<sd::CaseResult>(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        dir_(std::move(dir)),
        options_(std::move(options)) {
    if (!on_case.IsEmpty()) on_case_ = Napi::Persistent(on_case);
  }

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute(const ExecutionProgress& progress) override {
    try {
      sd::run_conformance(dir_, options_, [&](const sd::CaseResult& r) {
        (r.status == sd::CaseResult::Status::Passed ? passed_ : failed_)++;
        progress.Send(&r, 1);
      });
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }

  void OnProgress(const sd::CaseResult* results, size_t count) override {
    if (on_case_.IsEmpty()) return;
    Napi::Env env = Env();
    for (size_t i = 0; i < count; ++i) {
      const sd::CaseResult& r = results[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", r.name);
      o.Set("kind", r.kind);
      o.Set("passed", r.status == sd::CaseResult::Status::Passed);
      o.Set("notImplemented", r.status == sd::CaseResult::Status::NotImplemented);
      o.Set("message", r.message);
      o.Set("seconds", r.seconds);
      o.Set("line", sd::format_result_line(r));
      Napi::Array outputs = Napi::Array::New(env, r.outputs.size());
      for (size_t k = 0; k < r.outputs.size(); ++k) {
        Napi::Object oc = Napi::Object::New(env);
        oc.Set("output", r.outputs[k].output);
        oc.Set("maxAbs", r.outputs[k].max_abs);
        oc.Set("relL2", r.outputs[k].rel_l2);
        oc.Set("passed", r.outputs[k].passed);
        oc.Set("note", r.outputs[k].note);
        outputs.Set(static_cast<uint32_t>(k), oc);
      }
      o.Set("outputs", outputs);
      on_case_.Call({o});
    }
  }

  void OnOK() override {
    Napi::Object o = Napi::Object::New(Env());
    o.Set("passed", passed_);
    o.Set("failed", failed_);
    deferred_.Resolve(o);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string dir_;
  sd::ConformanceOptions options_;
  Napi::FunctionReference on_case_;
  int passed_ = 0;
  int failed_ = 0;
};

std::string string_field(const Napi::Object& o, const char* key, const std::string& fallback) {
  const Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Value RunConformance(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "runConformance(dir, options?, onCase?)");
  sd::ConformanceOptions options;
  if (info.Length() > 1 && info[1].IsObject()) {
    const Napi::Object o = info[1].As<Napi::Object>();
    options.checkpoint = string_field(o, "checkpoint", options.checkpoint);
    options.backend = string_field(o, "backend", options.backend);
    options.precision = string_field(o, "precision", options.precision);
    options.filter = string_field(o, "filter", options.filter);
    const Napi::Value debug = o.Get("debug");
    options.check_debug = debug.IsBoolean() && debug.As<Napi::Boolean>().Value();
  }
  Napi::Function on_case;
  if (info.Length() > 2 && info[2].IsFunction()) on_case = info[2].As<Napi::Function>();
  auto* worker = new ConformanceWorker(env, info[0].As<Napi::String>().Utf8Value(), options, on_case);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

// Tokenizers by vocabulary path: loading one takes ~0.1 s, tokenizing ~1 ms.
std::shared_ptr<const sd::ClipTokenizer> cached_tokenizer(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const sd::ClipTokenizer>> tokenizers;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = tokenizers[path];
  if (!slot) slot = sd::ClipTokenizer::load(path);
  return slot;
}

Napi::Array int_array(Napi::Env env, const std::vector<int32_t>& values) {
  Napi::Array a = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); ++i) a.Set(static_cast<uint32_t>(i), values[i]);
  return a;
}

Napi::Object options_object(const Napi::CallbackInfo& info, const char* usage) {
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsObject()) throw Napi::TypeError::New(info.Env(), usage);
  return info[1].As<Napi::Object>();
}

std::string vocab_option(const Napi::Object& o) {
  const std::string vocab = string_field(o, "vocab", "");
  if (vocab.empty())
    throw Napi::TypeError::New(o.Env(), "options.vocab must be the path of bpe_simple_vocab_16e6.txt.gz");
  return vocab;
}

// [sync] tokenize(prompt, {vocab, emphasis?, commaPaddingBacktrack?})
//   -> {pieces: [{text, weight}], chunks: [{ids, weights}], tokenCount}
Napi::Value Tokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = options_object(info, "tokenize(prompt, {vocab, emphasis?, commaPaddingBacktrack?})");
  const std::string vocab = vocab_option(o);
  sd::PromptOptions options;
  const Napi::Value backtrack = o.Get("commaPaddingBacktrack");
  if (!backtrack.IsUndefined()) {
    if (!backtrack.IsNumber()) throw Napi::TypeError::New(env, "commaPaddingBacktrack must be a number");
    options.comma_padding_backtrack = backtrack.As<Napi::Number>().Int32Value();
  }
  try {
    options.emphasis = sd::parse_emphasis_mode(string_field(o, "emphasis", "Original"));
    const sd::PromptTokens tokens =
        sd::tokenize_prompt(*cached_tokenizer(vocab), info[0].As<Napi::String>().Utf8Value(), options);
    Napi::Array pieces = Napi::Array::New(env, tokens.pieces.size());
    for (size_t i = 0; i < tokens.pieces.size(); ++i) {
      Napi::Object p = Napi::Object::New(env);
      p.Set("text", tokens.pieces[i].text);
      p.Set("weight", tokens.pieces[i].weight);
      pieces.Set(static_cast<uint32_t>(i), p);
    }
    Napi::Array chunks = Napi::Array::New(env, tokens.chunks.size());
    for (size_t i = 0; i < tokens.chunks.size(); ++i) {
      Napi::Object c = Napi::Object::New(env);
      c.Set("ids", int_array(env, tokens.chunks[i].ids));
      Napi::Array weights = Napi::Array::New(env, tokens.chunks[i].weights.size());
      for (size_t k = 0; k < tokens.chunks[i].weights.size(); ++k)
        weights.Set(static_cast<uint32_t>(k), tokens.chunks[i].weights[k]);
      c.Set("weights", weights);
      chunks.Set(static_cast<uint32_t>(i), c);
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("pieces", pieces);
    result.Set("chunks", chunks);
    result.Set("tokenCount", static_cast<double>(tokens.token_count));
    return result;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

// [sync] clipTokenize(text, {vocab}) -> {tokens, ids}: CLIPTokenizer's ids,
// and CompVis' 77-id framing of them.
Napi::Value ClipTokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = options_object(info, "clipTokenize(text, {vocab})");
  const std::string vocab = vocab_option(o);
  try {
    const auto tokenizer = cached_tokenizer(vocab);
    const std::string text = info[0].As<Napi::String>().Utf8Value();
    Napi::Object result = Napi::Object::New(env);
    result.Set("tokens", int_array(env, tokenizer->encode(text)));
    result.Set("ids", int_array(env, tokenizer->encode_framed(text)));
    return result;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

// A seed: a non-negative integer Number (up to 2^53 - 1) or a BigInt below 2^64.
uint64_t seed_value(const Napi::Value& v) {
  Napi::Env env = v.Env();
  if (v.IsBigInt()) {
    bool lossless = false;
    const uint64_t seed = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw Napi::RangeError::New(env, "seed must be a BigInt in [0, 2^64)");
    return seed;
  }
  if (!v.IsNumber()) throw Napi::TypeError::New(env, "seed must be a number or a BigInt");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 9007199254740991.0 && d == static_cast<double>(static_cast<uint64_t>(d))))
    throw Napi::RangeError::New(env, "seed must be an integer in [0, 2^53) (use a BigInt for larger seeds)");
  return static_cast<uint64_t>(d);
}

// [sync] randn({source, seed, shape, draws?, cpuVariant?}) -> Float32Array
// `draws` successive draws from one generator, concatenated. Throws on bad options.
Napi::Value Randn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsObject())
    throw Napi::TypeError::New(env, "randn({source, seed, shape, draws?, cpuVariant?})");
  const Napi::Object o = info[0].As<Napi::Object>();
  const std::string source = string_field(o, "source", "gpu");
  const uint64_t seed = seed_value(o.Get("seed"));
  const Napi::Value shape_value = o.Get("shape");
  if (!shape_value.IsArray()) throw Napi::TypeError::New(env, "shape must be an array of positive integers");
  const Napi::Array shape_array = shape_value.As<Napi::Array>();
  sd::Shape shape;
  double numel = 1;
  for (uint32_t i = 0; i < shape_array.Length(); ++i) {
    const Napi::Value d = shape_array.Get(i);
    const double n = d.IsNumber() ? d.As<Napi::Number>().DoubleValue() : -1;
    if (!(n >= 1 && n == static_cast<double>(static_cast<int64_t>(n))))
      throw Napi::TypeError::New(env, "shape must be an array of positive integers");
    shape.push_back(static_cast<int64_t>(n));
    numel *= n;
  }
  if (numel > static_cast<double>(1 << 28)) throw Napi::RangeError::New(env, "randn: at most 2^28 values per draw");
  int64_t draws = 1;
  if (const Napi::Value d = o.Get("draws"); !d.IsUndefined()) {
    const double n = d.IsNumber() ? d.As<Napi::Number>().DoubleValue() : -1;
    if (!(n >= 1 && n <= 1024 && n == static_cast<double>(static_cast<int64_t>(n))))
      throw Napi::RangeError::New(env, "draws must be an integer from 1 to 1024");
    draws = static_cast<int64_t>(n);
  }
  if (numel * static_cast<double>(draws) > static_cast<double>(1 << 28))
    throw Napi::RangeError::New(env, "randn: at most 2^28 values in all");
  const std::string variant = string_field(o, "cpuVariant", "avx2");
  if (variant != "avx2" && variant != "scalar")
    throw Napi::TypeError::New(env, "cpuVariant must be \"avx2\" or \"scalar\"");
  std::unique_ptr<sd::NoiseSource> gen;
  try {
    if (sd::parse_rng_source(source) == sd::RngSource::Cpu) {
      gen = std::make_unique<sd::TorchCpuGenerator>(seed, variant == "scalar" ? sd::TorchCpuMath::Scalar
                                                                            : sd::TorchCpuMath::Avx2);
    } else {
      gen = std::make_unique<sd::PhiloxGenerator>(seed);
    }
  } catch (const std::exception& e) {
    throw Napi::TypeError::New(env, e.what());
  }
  const int64_t per = static_cast<int64_t>(numel);
  Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(per * draws));
  try {
    for (int64_t k = 0; k < draws; ++k) gen->randn_into(out.Data() + k * per, per);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  return out;
}

Napi::Array string_array(Napi::Env env, const std::vector<std::string>& items) {
  Napi::Array a = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); ++i) a.Set(static_cast<uint32_t>(i), items[i]);
  return a;
}

Napi::Object sampler_object(Napi::Env env, const sd::SamplerInfo& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", s.name);
  o.Set("aliases", string_array(env, s.aliases));
  o.Set("family", s.family == sd::SamplerFamily::KDiffusion ? "k-diffusion" : "timesteps");
  const sd::SchedulerInfo* sched = sd::find_scheduler(s.default_scheduler.empty() ? "uniform" : s.default_scheduler);
  o.Set("defaultScheduler", sched ? sched->label : "Uniform");
  o.Set("secondOrder", s.second_order);
  o.Set("takesEta", s.takes_eta);
  o.Set("etaDefault", s.eta_default);
  o.Set("takesChurn", s.takes_churn);
  o.Set("usesEnsd", s.uses_ensd);
  o.Set("brownianNoise", s.brownian_noise);
  o.Set("discardPenultimateSigma", s.discard_next_to_last_sigma);
  o.Set("seedMatchesWebui", s.seed_matches_webui);
  return o;
}

// [sync] samplers() -> {samplers, schedulers}
Napi::Value Samplers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& table = sd::sampler_table();
  Napi::Array samplers = Napi::Array::New(env, table.size());
  for (size_t i = 0; i < table.size(); ++i) samplers.Set(static_cast<uint32_t>(i), sampler_object(env, table[i]));
  const auto& list = sd::schedulers();
  Napi::Array schedulers = Napi::Array::New(env, list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", list[i].name);
    o.Set("label", list[i].label);
    o.Set("aliases", string_array(env, list[i].alias ? std::vector<std::string>{list[i].alias} : std::vector<std::string>{}));
    schedulers.Set(static_cast<uint32_t>(i), o);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("samplers", samplers);
  out.Set("schedulers", schedulers);
  return out;
}

// [sync] resolveSampler(name, scheduler?) -> {sampler, scheduler}; throws on unknown names.
Napi::Value ResolveSampler(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString() || (info.Length() > 1 && !info[1].IsString() && !info[1].IsUndefined()))
    throw Napi::TypeError::New(env, "resolveSampler(name, scheduler?)");
  const std::string scheduler = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  try {
    const sd::ResolvedSampler r = sd::resolve_sampler(info[0].As<Napi::String>().Utf8Value(), scheduler);
    Napi::Object out = Napi::Object::New(env);
    out.Set("sampler", r.sampler->name);
    out.Set("scheduler", r.scheduler->label);
    return out;
  } catch (const sd::Error& e) {
    throw Napi::Error::New(env, e.what());
  }
}

// [sync] cudaStatus() -> {available, reason}: whether the CUDA backend can start here.
Napi::Value CudaStatus(const Napi::CallbackInfo& info) {
  std::string why;
  const bool ok = sd::cuda_available(&why);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("available", ok);
  o.Set("reason", why);
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaStatus", Napi::Function::New(env, CudaStatus));
  exports.Set("runConformance", Napi::Function::New(env, RunConformance));
  exports.Set("randn", Napi::Function::New(env, Randn));
  exports.Set("samplers", Napi::Function::New(env, Samplers));
  exports.Set("resolveSampler", Napi::Function::New(env, ResolveSampler));
  sd_addon::register_model_binding(env, exports);
  exports.Set("tokenize", Napi::Function::New(env, Tokenize));
  exports.Set("clipTokenize", Napi::Function::New(env, ClipTokenize));
  sd_addon::register_checkpoint_binding(env, exports);
  Napi::Object info = Napi::Object::New(env);
#ifdef SD_WITH_CUDA
  info.Set("cuda", true);
#else
  info.Set("cuda", false);
#endif
  exports.Set("buildInfo", info);
  return exports;
}

}  // namespace

NODE_API_MODULE(sd_engine, Init)
