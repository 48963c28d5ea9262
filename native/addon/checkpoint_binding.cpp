// inspectCheckpoint: a checkpoint's tensors, metadata and detected model
// configuration, optionally reading every tensor (the whole load path).
#include "addon/checkpoint_binding.h"

#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "io/checkpoint.h"
#include "io/inflate.h"
#include "model/config.h"

namespace sd_addon {

namespace {

Napi::Value json_to_js(Napi::Env env, const sd::Json& j) {
  switch (j.type()) {
    case sd::Json::Type::Null: return env.Null();
    case sd::Json::Type::Bool: return Napi::Boolean::New(env, j.as_bool());
    case sd::Json::Type::Number: return Napi::Number::New(env, j.as_number());
    case sd::Json::Type::String: return Napi::String::New(env, j.as_string());
    case sd::Json::Type::Array: {
      Napi::Array a = Napi::Array::New(env, j.as_array().size());
      for (size_t i = 0; i < j.as_array().size(); ++i) a.Set(static_cast<uint32_t>(i), json_to_js(env, j.as_array()[i]));
      return a;
    }
    case sd::Json::Type::Object: {
      Napi::Object o = Napi::Object::New(env);
      for (const auto& [k, v] : j.as_object()) o.Set(k, json_to_js(env, v));
      return o;
    }
  }
  return env.Undefined();
}

// [async] inspectCheckpoint(path, {verify?, dtype?}) -> Promise<CheckpointInfo>
// Lists a checkpoint's tensors and detects its model configuration; with
// `verify` it also reads and converts every tensor (the whole load path) and
// reports a CRC-32 of each converted tensor's bytes.
class InspectWorker : public Napi::AsyncWorker {
 public:
  InspectWorker(Napi::Env env, std::string path, bool verify, sd::DType dtype)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), path_(std::move(path)), verify_(verify),
        dtype_(dtype) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      const auto ckpt = sd::open_checkpoint(path_);
      format_ = ckpt->format();
      tensors_ = ckpt->tensors();
      metadata_ = ckpt->metadata_map();
      try {
        config_ = sd::detect_model_config(*ckpt, &config_source_).to_json();
      } catch (const sd::Error& e) {
        config_error_ = e.what();
      }
      if (verify_) {
        for (const auto& t : tensors_) {
          const sd::Tensor converted = ckpt->read(t, dtype_);
          checksums_.push_back(sd::crc32(static_cast<const uint8_t*>(converted.raw()), converted.nbytes()));
          converted_types_.push_back(converted.dtype());
        }
      }
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("format", format_);
    if (config_error_.empty()) {
      o.Set("config", json_to_js(env, config_));
      o.Set("configSource", config_source_);
    } else {
      o.Set("configError", config_error_);
    }
    Napi::Array tensors = Napi::Array::New(env, tensors_.size());
    for (size_t i = 0; i < tensors_.size(); ++i) {
      const sd::StoredTensor& t = tensors_[i];
      Napi::Object to = Napi::Object::New(env);
      to.Set("name", t.name);
      to.Set("dtype", sd::dtype_name(t.dtype));
      Napi::Array shape = Napi::Array::New(env, t.shape.size());
      for (size_t d = 0; d < t.shape.size(); ++d) shape.Set(static_cast<uint32_t>(d), static_cast<double>(t.shape[d]));
      to.Set("shape", shape);
      if (verify_) {
        to.Set("readAs", sd::dtype_name(converted_types_[i]));
        to.Set("crc32", checksums_[i]);
      }
      tensors.Set(static_cast<uint32_t>(i), to);
    }
    o.Set("tensors", tensors);
    Napi::Object metadata = Napi::Object::New(env);
    for (const auto& [k, v] : metadata_) metadata.Set(k, v);
    o.Set("metadata", metadata);
    deferred_.Resolve(o);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string path_;
  bool verify_;
  sd::DType dtype_;
  std::string format_;
  std::vector<sd::StoredTensor> tensors_;
  std::map<std::string, std::string> metadata_;
  sd::Json config_;
  std::string config_source_;
  std::string config_error_;
  std::vector<uint32_t> checksums_;
  std::vector<sd::DType> converted_types_;
};

std::string string_field(const Napi::Object& o, const char* key, const std::string& fallback) {
  const Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Value InspectCheckpoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString())
    throw Napi::TypeError::New(env, "inspectCheckpoint(path, {verify?, dtype?}): path must be a string");
  bool verify = false;
  sd::DType dtype = sd::DType::F32;
  if (info.Length() > 1 && info[1].IsObject()) {
    const Napi::Object o = info[1].As<Napi::Object>();
    const Napi::Value v = o.Get("verify");
    if (!v.IsUndefined() && !v.IsBoolean()) throw Napi::TypeError::New(env, "verify must be a boolean");
    verify = v.IsBoolean() && v.As<Napi::Boolean>().Value();
    const std::string d = string_field(o, "dtype", "f32");
    if (d == "f32") dtype = sd::DType::F32;
    else if (d == "f16") dtype = sd::DType::F16;
    else if (d == "bf16") dtype = sd::DType::BF16;
    else throw Napi::TypeError::New(env, "dtype must be \"f32\", \"f16\" or \"bf16\"");
  }
  auto* worker = new InspectWorker(env, info[0].As<Napi::String>().Utf8Value(), verify, dtype);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace

void register_checkpoint_binding(Napi::Env env, Napi::Object exports) {
  exports.Set("inspectCheckpoint", Napi::Function::New(env, InspectCheckpoint));
}

}  // namespace sd_addon
