// [async] loadModel(path, options, onProgress) -> Promise<Model>
// Model: info() [sync], encodeText/unet/vaeDecode/vaeEncode [async, one at a
// time, cancellable with cancel()], dispose() [sync].
#include "addon/model_binding.h"

#include <atomic>
#include <memory>
#include <mutex>

#include "addon/convert.h"
#include "addon/generate_binding.h"
#include "addon/job.h"
#include "core/host_allocator.h"
#include "model/block_hook.h"
#include "model/stable_diffusion.h"
#include "model/unet.h"
#include "model/vae.h"
#include "pipeline/generate.h"
#include "ops/cpu/cpu_features.h"
#include "ops/cpu/gemm.h"

namespace sd_addon {

namespace {

// Between network blocks: stop if cancelled, else report one more block done.
std::function<void()> progress_hook(const char* phase, const std::function<void()>& check, const Job::Report& report) {
  auto blocks = std::make_shared<double>(0);
  return [phase, check, &report, blocks] {
    check();
    report({phase, ++*blocks, 0, nullptr, {}});
  };
}

struct ModelState {
  std::unique_ptr<sd::StableDiffusion> model;  // owned
  std::atomic<bool> busy{false};
  std::atomic<bool> cancel{false};
  std::shared_ptr<GenerateState> generation = std::make_shared<GenerateState>();
};

class Model : public Napi::ObjectWrap<Model> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "Model",
                       {
                           InstanceMethod<&Model::info>("info"),
                           InstanceMethod<&Model::encode_text>("encodeText"),
                           InstanceMethod<&Model::unet>("unet"),
                           InstanceMethod<&Model::vae_decode>("vaeDecode"),
                           InstanceMethod<&Model::vae_encode>("vaeEncode"),
                           InstanceMethod<&Model::generate>("generate"),
                           InstanceMethod<&Model::cancel>("cancel"),
                           InstanceMethod<&Model::interrupt>("interrupt"),
                           InstanceMethod<&Model::dispose>("dispose"),
                       });
  }

  explicit Model(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Model>(info) {
    if (info.Length() != 1 || !info[0].IsExternal())
      throw Napi::TypeError::New(info.Env(), "Model objects come from loadModel()");
    state_ = *info[0].As<Napi::External<std::shared_ptr<ModelState>>>().Data();
    external_bytes_ = static_cast<int64_t>(state_->model->residency().resident_bytes());
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), external_bytes_);
  }

  ~Model() override = default;

 private:
  sd::StableDiffusion& model(Napi::Env env) {
    if (!state_ || !state_->model) throw Napi::Error::New(env, "this model was disposed");
    return *state_->model;
  }

  // Marks the model busy for one job; the engine is not re-entrant.
  std::function<void()> acquire(Napi::Env env) {
    model(env);
    bool expected = false;
    if (!state_->busy.compare_exchange_strong(expected, true))
      throw Napi::Error::New(env, "the model is busy with another operation; wait for it or cancel() it");
    state_->cancel = false;
    state_->generation->stop = 0;
    auto state = state_;
    return [state] { state->busy = false; };
  }

  std::function<void()> cancel_check() {
    auto state = state_;
    return [state] {
      if (state->cancel.load()) throw sd::Cancelled();
    };
  }

  Napi::Value info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    sd::StableDiffusion& m = model(env);
    Napi::Object o = Napi::Object::New(env);
    o.Set("config", Napi::String::New(env, m.config().to_json().dump()));
    o.Set("backend", m.backend().name());
    o.Set("weightDtype", sd::dtype_name(m.options().weight_dtype));
    o.Set("memoryMode", m.options().memory_mode);
    o.Set("residentBytes", static_cast<double>(m.residency().resident_bytes()));
    o.Set("peakResidentBytes", static_cast<double>(m.residency().peak_resident_bytes()));
    o.Set("gemmKernel", sd::gemm_kernel_name());
    const sd::DeviceMemoryReport mem = m.backend().device_memory();
    Napi::Object device = Napi::Object::New(env);
    device.Set("inUse", static_cast<double>(mem.in_use));
    device.Set("peakInUse", static_cast<double>(mem.peak_in_use));
    device.Set("peakReserved", static_cast<double>(mem.peak_reserved));
    device.Set("budget", static_cast<double>(mem.budget));
    o.Set("deviceMemory", device);
    o.Set("cpuFeatures", sd::cpu_features().summary());
    return o;
  }

  // encodeText(ids: Int32Array, shape: [B, T], {clipSkip}) -> {data, shape}
  Napi::Value encode_text(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2) throw Napi::TypeError::New(env, "encodeText(ids, shape, options?)");
    const sd::Tensor ids = tensor_from_js(info[0], info[1], sd::DType::I32, "ids");
    const int clip_skip = info.Length() > 2 && info[2].IsObject() ? int_option(info[2].As<Napi::Object>(), "clipSkip", 1) : 1;
    auto release = acquire(env);
    auto state = state_;
    auto out = std::make_shared<sd::Tensor>();
    return Job::start(
        env, [state, ids, clip_skip, out](const Job::Report&) { *out = state->model->text_encoder().forward(ids, clip_skip); },
        [out](Napi::Env e) { return tensor_to_js(e, *out); }, env.Undefined(), release);
  }

  // unet(x, xShape [B,4,h,w], timesteps number[], context, contextShape [B,T,C], onProgress?) -> {data, shape}
  Napi::Value unet(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 5) throw Napi::TypeError::New(env, "unet(x, xShape, timesteps, context, contextShape, onProgress?)");
    const sd::Tensor x = tensor_from_js(info[0], info[1], sd::DType::F32, "x");
    const std::vector<float> t = floats_from_js(info[2], "timesteps");
    const sd::Tensor ctx = tensor_from_js(info[3], info[4], sd::DType::F32, "context");
    auto release = acquire(env);
    auto state = state_;
    auto check = cancel_check();
    auto out = std::make_shared<sd::Tensor>();
    return Job::start(
        env,
        [state, x, t, ctx, out, check](const Job::Report& report) {
          sd::UNetModel& unet = state->model->unet();
          const sd::BlockHook hook(unet.between_blocks, progress_hook("unet", check, report));
          *out = unet.forward(x, t, ctx);
        },
        [out](Napi::Env e) { return tensor_to_js(e, *out); }, info.Length() > 5 ? info[5] : env.Undefined(), release);
  }

  // vaeDecode(z, shape [B,4,h,w], onProgress?, {tilePixels}?) -> image {data, shape [B,3,8h,8w]}
  // (VAE latent space, no scale factor)
  Napi::Value vae_decode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2) throw Napi::TypeError::New(env, "vaeDecode(z, shape, onProgress?, options?)");
    const sd::Tensor z = tensor_from_js(info[0], info[1], sd::DType::F32, "z");
    const int tile = info.Length() > 3 && info[3].IsObject() ? int_option(info[3].As<Napi::Object>(), "tilePixels", 0) : 0;
    if (tile < 0 || (tile > 0 && tile < 8)) throw Napi::TypeError::New(env, "tilePixels must be 0 (no tiling) or at least 8");
    auto release = acquire(env);
    auto state = state_;
    auto check = cancel_check();
    auto out = std::make_shared<sd::Tensor>();
    return Job::start(
        env,
        [state, z, out, check, tile](const Job::Report& report) {
          sd::VAEModel& vae = state->model->vae();
          const sd::BlockHook hook(vae.between_blocks, progress_hook("vae", check, report));
          *out = vae.decode(z, tile);
        },
        [out](Napi::Env e) { return tensor_to_js(e, *out); }, info.Length() > 2 ? info[2] : env.Undefined(), release);
  }

  // vaeEncode(image, shape [B,3,H,W]) -> {mean, logvar}
  Napi::Value vae_encode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2) throw Napi::TypeError::New(env, "vaeEncode(image, shape, onProgress?)");
    const sd::Tensor image = tensor_from_js(info[0], info[1], sd::DType::F32, "image");
    auto release = acquire(env);
    auto state = state_;
    auto check = cancel_check();
    auto out = std::make_shared<sd::VAEMoments>();
    return Job::start(
        env,
        [state, image, out, check](const Job::Report& report) {
          sd::VAEModel& vae = state->model->vae();
          const sd::BlockHook hook(vae.between_blocks, progress_hook("vae", check, report));
          *out = vae.encode(image);
        },
        [out](Napi::Env e) {
          Napi::Object o = Napi::Object::New(e);
          o.Set("mean", tensor_to_js(e, out->mean));
          o.Set("logvar", tensor_to_js(e, out->logvar));
          return o;
        },
        info.Length() > 2 ? info[2] : env.Undefined(), release);
  }

  // generate(request, onStep?) -> Promise<{pixels, batch, width, height, interrupted, plan}>
  Napi::Value generate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    sd::StableDiffusion& m = model(env);
    auto release = acquire(env);
    state_->generation->model = &m;
    try {
      return start_generate(info, state_->generation, release);
    } catch (...) {
      release();
      throw;
    }
  }

  // Asks the operation in flight to stop at the next layer boundary (its promise rejects with AbortError).
  Napi::Value cancel(const Napi::CallbackInfo& info) {
    if (state_) {
      state_->cancel = true;
      state_->generation->stop = static_cast<int>(sd::StopRequest::Abort);
    }
    return info.Env().Undefined();
  }

  // generate() only: stop sampling after the current step and decode what was reached.
  Napi::Value interrupt(const Napi::CallbackInfo& info) {
    if (state_ && state_->generation->stop == 0) state_->generation->stop = static_cast<int>(sd::StopRequest::Interrupt);
    return info.Env().Undefined();
  }

  Napi::Value dispose(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!state_ || !state_->model) return env.Undefined();
    if (state_->busy) throw Napi::Error::New(env, "cannot dispose the model while an operation runs; cancel() it first");
    state_->model.reset();
    sd::host_trim();
    Napi::MemoryManagement::AdjustExternalMemory(env, -external_bytes_);
    external_bytes_ = 0;
    return env.Undefined();
  }

  std::shared_ptr<ModelState> state_;
  int64_t external_bytes_ = 0;
};

struct AddonData {
  Napi::FunctionReference model_constructor;
};

// loadModel(path, {backend, precision, memoryMode, threads, config}, onProgress?) -> Promise<Model>
Napi::Value load_model(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "loadModel(path, options?, onProgress?)");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  sd::EngineOptions options;
  std::string config_json;
  if (info.Length() > 1 && info[1].IsObject()) {
    const Napi::Object o = info[1].As<Napi::Object>();
    options.backend = string_option(o, "backend", options.backend);
    const std::string precision = string_option(o, "precision", "f16");
    try {
      options.weight_dtype = sd::parse_weight_dtype(precision);
    } catch (const std::exception& e) {
      throw Napi::TypeError::New(env, e.what());
    }
    options.memory_mode = string_option(o, "memoryMode", options.memory_mode);
    options.threads = int_option(o, "threads", 0);
    const int vram_mb = int_option(o, "vramBudgetMB", 0);
    if (vram_mb < 0) throw Napi::TypeError::New(env, "vramBudgetMB must be positive");
    options.device_budget_bytes = static_cast<size_t>(vram_mb) * 1024 * 1024;
    const int budget_mb = int_option(o, "weightBudgetMB", 0);
    if (budget_mb < 0) throw Napi::TypeError::New(env, "weightBudgetMB must be positive");
    options.weight_budget_bytes = static_cast<size_t>(budget_mb) * 1024 * 1024;
    config_json = string_option(o, "config", "");
  }
  auto state = std::make_shared<ModelState>();
  AddonData* data = env.GetInstanceData<AddonData>();
  return Job::start(
      env,
      [state, path, options, config_json](const Job::Report& report) {
        std::unique_ptr<sd::ModelConfig> config;
        if (!config_json.empty()) config = std::make_unique<sd::ModelConfig>(sd::ModelConfig::from_json(sd::Json::parse(config_json)));
        state->model = std::make_unique<sd::StableDiffusion>(path, options, config.get(), [&](const sd::LoadProgress& p) {
          report({"load", static_cast<double>(p.tensors_done), static_cast<double>(p.tensors_total)});
        });
      },
      [state, data](Napi::Env e) -> Napi::Value {
        return data->model_constructor.New({Napi::External<std::shared_ptr<ModelState>>::New(
            e, new std::shared_ptr<ModelState>(state),
            [](Napi::Env, std::shared_ptr<ModelState>* p) { delete p; })});
      },
      info.Length() > 2 ? info[2] : env.Undefined());
}

}  // namespace

void register_model_binding(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->model_constructor = Napi::Persistent(Model::define(env));
  env.SetInstanceData<AddonData>(data);
  exports.Set("loadModel", Napi::Function::New(env, load_model));
}

}  // namespace sd_addon
