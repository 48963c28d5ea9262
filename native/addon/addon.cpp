// The N-API binding: the only file that includes napi.h. It converts JS
// values to plain engine structs, runs heavy work on worker threads, and turns
// sd::Error into JS exceptions. See cli/binding/types.ts for the typed contract.
#include <napi.h>

#include <string>

#include "addon/model_binding.h"
#include "conformance/conformance.h"
#include "core/error.h"

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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("runConformance", Napi::Function::New(env, RunConformance));
  sd_addon::register_model_binding(env, exports);
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
