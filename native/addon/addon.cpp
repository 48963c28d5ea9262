// The N-API binding: the only file that includes napi.h. It converts JS
// values to plain engine structs, runs heavy work on worker threads, and turns
// sd::Error into JS exceptions. See cli/binding/types.ts for the typed contract.
#include <napi.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "addon/model_binding.h"
#include "conformance/conformance.h"
#include "core/error.h"
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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("runConformance", Napi::Function::New(env, RunConformance));
  sd_addon::register_model_binding(env, exports);
  exports.Set("tokenize", Napi::Function::New(env, Tokenize));
  exports.Set("clipTokenize", Napi::Function::New(env, ClipTokenize));
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
