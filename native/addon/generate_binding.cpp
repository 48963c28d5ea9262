// The generation binding: copies the JS request into a GenerationRequest
// (validated again here; the TS layer validates first with friendlier
// messages), runs one batch on a worker thread with per-step progress and an
// optional preview latent.
#include "addon/generate_binding.h"

#include <cstring>

#include "addon/convert.h"
#include "addon/job.h"
#include "model/stable_diffusion.h"
#include "pipeline/generate.h"
#include "sample/sampler_table.h"
#include "text/clip_tokenizer.h"

namespace sd_addon {

namespace {

double number_field(const Napi::Object& o, const char* key, double fallback) {
  const Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

}  // namespace

Napi::Value start_generate(const Napi::CallbackInfo& info, std::shared_ptr<GenerateState> state, std::function<void()> done) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "generate(request, onStep?)");
  const Napi::Object o = info[0].As<Napi::Object>();
  sd::GenerationRequest r;
  r.prompt = string_option(o, "prompt", "");
  r.negative_prompt = string_option(o, "negativePrompt", "");
  r.width = int_option(o, "width", 512);
  r.height = int_option(o, "height", 512);
  r.sampling.sampler = string_option(o, "sampler", r.sampling.sampler);
  r.sampling.scheduler = string_option(o, "scheduler", "");
  r.sampling.steps = int_option(o, "steps", 20);
  const double eta = number_field(o, "eta", std::nan(""));
  r.sampling.eta = static_cast<float>(eta);
  r.sampling.denoising_strength = static_cast<float>(number_field(o, "denoisingStrength", 0.75));
  r.cfg_scale = static_cast<float>(number_field(o, "cfgScale", 7.0));
  r.clip_skip = int_option(o, "clipSkip", 1);
  r.vae_tile_pixels = int_option(o, "vaeTilePixels", 0);
  const bool want_preview = bool_option(o, "previews", false);
  try {
    r.rng = sd::parse_rng_source(string_option(o, "rng", "gpu"));
    r.emphasis = sd::parse_emphasis_mode(string_option(o, "emphasis", "Original"));
    sd::resolve_sampler(r.sampling.sampler, r.sampling.scheduler);  // fail before queueing
  } catch (const std::exception& e) {
    throw Napi::TypeError::New(env, e.what());
  }
  const Napi::Value seeds = o.Get("seeds");
  if (!seeds.IsArray() || seeds.As<Napi::Array>().Length() == 0)
    throw Napi::TypeError::New(env, "seeds must be a non-empty array (one per image)");
  for (uint32_t i = 0; i < seeds.As<Napi::Array>().Length(); ++i) {
    const Napi::Value s = seeds.As<Napi::Array>().Get(i);
    const double v = s.IsNumber() ? s.As<Napi::Number>().DoubleValue() : -1;
    if (!(v >= 0) || v > 18446744073709551615.0 || std::floor(v) != v) throw Napi::TypeError::New(env, "seeds must be non-negative integers");
    r.seeds.push_back(static_cast<uint64_t>(v));
  }
  const Napi::Value init = o.Get("initImages");
  if (!init.IsUndefined() && !init.IsNull()) {
    const Napi::Object img = init.As<Napi::Object>();
    r.init_images = tensor_from_js(img.Get("data"), img.Get("shape"), sd::DType::U8, "initImages");
  }
  const Napi::Value noise = o.Get("initialNoise");
  if (!noise.IsUndefined() && !noise.IsNull()) {
    const Napi::Object n = noise.As<Napi::Object>();
    r.initial_noise = tensor_from_js(n.Get("data"), n.Get("shape"), sd::DType::F32, "initialNoise");
  }
  const std::string vocab = string_option(o, "vocab", "");
  if (vocab.empty()) throw Napi::TypeError::New(env, "generate needs the path of the CLIP vocabulary (vocab)");

  struct Result {
    sd::GenerationOutput output;
  };
  auto result = std::make_shared<Result>();
  return Job::start(
      env,
      [state, r, vocab, want_preview, result](const Job::Report& report) {
        if (!state->tokenizer || state->vocab_path != vocab) {
          state->tokenizer = sd::ClipTokenizer::load(vocab);
          state->vocab_path = vocab;
        }
        result->output = sd::generate(
            *state->model, *state->tokenizer, r,
            [&](const sd::GenerationStep& s) {
              JobProgress p{"sampling", static_cast<double>(s.step), static_cast<double>(s.total), nullptr, {}};
              if (want_preview && s.denoised) {
                p.data = std::make_shared<std::vector<float>>(s.denoised->data<float>(),
                                                              s.denoised->data<float>() + s.denoised->numel());
                p.shape = s.denoised->shape();
              }
              report(p);
            },
            &state->stop);
      },
      [result](Napi::Env e) -> Napi::Value {
        const sd::GenerationOutput& g = result->output;
        Napi::Object out = Napi::Object::New(e);
        Napi::Object px = tensor_to_js(e, g.pixels);
        out.Set("pixels", px.Get("data"));
        out.Set("batch", static_cast<double>(g.pixels.dim(0)));
        out.Set("height", static_cast<double>(g.pixels.dim(1)));
        out.Set("width", static_cast<double>(g.pixels.dim(2)));
        out.Set("interrupted", g.interrupted);
        Napi::Object plan = Napi::Object::New(e);
        plan.Set("sampler", g.plan.resolved.sampler ? g.plan.resolved.sampler->name : "");
        plan.Set("scheduler", g.plan.resolved.scheduler ? g.plan.resolved.scheduler->label : "");
        plan.Set("steps", g.plan.total_steps);
        plan.Set("eta", g.plan.eta);
        out.Set("plan", plan);
        return out;
      },
      info.Length() > 1 ? info[1] : env.Undefined(), done);
}

}  // namespace sd_addon
