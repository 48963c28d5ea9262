#include "sample/strict_fp.h"
#include "sample/sample_spec.h"

#include <cmath>
#include <memory>

#include "sample/latent_math.h"
#include "sample/sampling.h"

namespace sd {

namespace {

std::vector<float> floats(const Json& j, const char* what) {
  std::vector<float> v;
  for (const Json& x : j.as_array(what)) v.push_back(static_cast<float>(x.as_number(what)));
  return v;
}

// A flat list of exactly shape's element count.
Tensor latent_of(const Json& j, const char* what, const Shape& shape) {
  std::vector<float> v = floats(j, what);
  SD_CHECK(static_cast<int64_t>(v.size()) == shape_numel(shape), what, " has ", v.size(), " values, the shape ",
           shape_str(shape), " needs ", shape_numel(shape));
  return Tensor::from_floats(v, shape);
}

Json to_json(const Tensor& t) {
  Json a = Json::array();
  const float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) a.push(Json::number(p[i]));
  return a;
}

Json to_json(const std::vector<float>& v) {
  Json a = Json::array();
  for (float x : v) a.push(Json::number(x));
  return a;
}

double number_or(const Json& spec, const char* key, double fallback) {
  const Json* j = spec.find(key);
  return j && !j->is_null() ? j->as_number(key) : fallback;
}

// Per-element means, broadcast from one value.
std::vector<float> means(const Json& model, const char* key, int64_t per_image) {
  const Json* j = model.find(key);
  if (!j) return std::vector<float>(static_cast<size_t>(per_image), 0.0f);
  if (j->is_number()) return std::vector<float>(static_cast<size_t>(per_image), static_cast<float>(j->as_number()));
  std::vector<float> v = floats(*j, key);
  SD_CHECK(static_cast<int64_t>(v.size()) == per_image, "model.", key, " has ", v.size(), " values for ", per_image,
           " latent elements per image");
  return v;
}

// The exact eps of Gaussian data; the context's single value says whether a
// row is a prompt row (1) or a negative-prompt row (0).
class GaussianEps final : public EpsModel {
 public:
  GaussianEps(const NoiseSchedule& schedule, std::vector<float> mu_cond, std::vector<float> mu_uncond, double variance)
      : schedule_(schedule), mu_cond_(std::move(mu_cond)), mu_uncond_(std::move(mu_uncond)), variance_(variance) {}

  Tensor eps(const Tensor& x, const std::vector<float>& t, const Tensor& context) override {
    ++calls_;
    SD_CHECK(static_cast<int64_t>(t.size()) == x.dim(0) && context.dim(0) == x.dim(0), "analytic model: batch mismatch");
    const int64_t per = x.numel() / x.dim(0);
    Tensor out = Tensor::host(x.shape(), DType::F32);
    const float* px = x.data<float>();
    const float* pc = context.data<float>();
    float* po = out.data<float>();
    const int64_t ctx_per = context.numel() / context.dim(0);
    for (int64_t r = 0; r < x.dim(0); ++r) {
      const double sigma = schedule_.t_to_sigma(t[r]);
      const double a = 1.0 / (1.0 + sigma * sigma);
      const double sa = std::sqrt(a), s1 = std::sqrt(1.0 - a);
      const double den = a * variance_ + 1.0 - a;
      const std::vector<float>& mu = pc[r * ctx_per] > 0.5f ? mu_cond_ : mu_uncond_;
      for (int64_t k = 0; k < per; ++k)
        po[r * per + k] = static_cast<float>(s1 * (px[r * per + k] - sa * mu[k]) / den);
    }
    return out;
  }

  int calls() const { return calls_; }

 private:
  const NoiseSchedule& schedule_;
  std::vector<float> mu_cond_, mu_uncond_;
  double variance_;
  int calls_ = 0;
};

}  // namespace

Json run_sample_spec(const Json& spec) {
  Shape shape;
  for (const Json& d : spec.at("shape").as_array("shape")) shape.push_back(d.as_int("shape"));
  SD_CHECK(shape.size() == 4 && shape_numel(shape) > 0, "shape must be [B, C, H, W]");
  const int64_t batch = shape[0];
  const int64_t per_image = shape_numel(shape) / batch;
  const std::string mode = spec.find("mode") ? spec.at("mode").as_string("mode") : "txt2img";
  SD_CHECK(mode == "txt2img" || mode == "img2img", "mode must be txt2img or img2img");
  const bool img2img = mode == "img2img";

  SamplingRequest req;
  req.sampler = spec.at("sampler").as_string("sampler");
  if (const Json* s = spec.find("scheduler")) req.scheduler = s->as_string("scheduler");
  req.steps = static_cast<int>(spec.at("steps").as_int("steps"));
  req.eta = static_cast<float>(number_or(spec, "eta", std::nan("")));
  req.s_churn = static_cast<float>(number_or(spec, "s_churn", 0));
  req.s_tmin = static_cast<float>(number_or(spec, "s_tmin", 0));
  req.s_tmax = static_cast<float>(number_or(spec, "s_tmax", 0));
  req.s_noise = static_cast<float>(number_or(spec, "s_noise", 1));
  req.sigma_options.sigma_min = number_or(spec, "sigma_min", 0);
  req.sigma_options.sigma_max = number_or(spec, "sigma_max", 0);
  req.sigma_options.rho = number_or(spec, "rho", 0);
  if (const Json* j = spec.find("webui_timestep_samplers")) req.webui_timestep_samplers = j->as_bool();
  if (const Json* j = spec.find("always_discard_next_to_last_sigma")) req.always_discard_next_to_last_sigma = j->as_bool();
  if (const Json* j = spec.find("img2img_fix_steps")) req.img2img_fix_steps = j->as_bool();
  req.denoising_strength = static_cast<float>(number_or(spec, "denoising_strength", 0.75));

  const NoiseSchedule schedule;
  const SamplingPlan plan = plan_sampling(req, schedule, img2img);

  const Json& model_spec = spec.at("model");
  GaussianEps model(schedule, means(model_spec, "mu_cond", per_image), means(model_spec, "mu_uncond", per_image),
                    number_or(model_spec, "variance", 1.0));
  Guidance guidance;
  guidance.cond = Tensor::from_floats(std::vector<float>(static_cast<size_t>(batch), 1.0f), {batch, 1, 1});
  guidance.uncond = Tensor::from_floats(std::vector<float>(static_cast<size_t>(batch), 0.0f), {batch, 1, 1});
  guidance.scale = static_cast<float>(number_or(model_spec, "cfg_scale", 1.0));

  // Noise: explicit (initial + recorded extra draws) or the webui's image RNG.
  Tensor noise;
  NoiseFn extra;
  auto draws = std::make_shared<int>(0);
  std::unique_ptr<ImageRNG> rng;
  if (const Json* r = spec.find("rng")) {
    std::vector<uint64_t> seeds;
    for (const Json& s : r->at("seeds").as_array("seeds")) seeds.push_back(static_cast<uint64_t>(s.as_int("seed")));
    SD_CHECK(static_cast<int64_t>(seeds.size()) == batch, "rng.seeds needs one seed per image");
    const uint64_t ensd = static_cast<uint64_t>(number_or(*r, "eta_noise_seed_delta", 0));
    rng = std::make_unique<ImageRNG>(parse_rng_source(r->at("source").as_string("source")),
                                     Shape(shape.begin() + 1, shape.end()), seeds, ensd);
    noise = rng->next();
    ImageRNG* raw = rng.get();
    extra = [raw, draws]() {
      ++*draws;
      return raw->next();
    };
  } else {
    noise = latent_of(spec.at("noise"), "noise", shape);
    std::vector<Tensor> recorded;
    if (const Json* e = spec.find("extra_noise"))
      for (const Json& d : e->as_array("extra_noise")) recorded.push_back(latent_of(d, "extra_noise", shape));
    extra = [recorded, draws]() {
      SD_CHECK(*draws < static_cast<int>(recorded.size()), "the sampler asked for more than the ", recorded.size(),
               " extra noise draws given");
      return recorded[static_cast<size_t>((*draws)++)];
    };
  }

  Tensor start;
  if (img2img) {
    const Tensor init = latent_of(spec.at("init_latent"), "init_latent", shape);
    start = img2img_start(plan, schedule, init, noise);
  } else {
    start = txt2img_start(plan, noise);
  }
  const bool trajectory = spec.find("trajectory") && spec.at("trajectory").as_bool();
  // cancel_after: stop (sd::Cancelled from the step callback) after that many steps.
  const double cancel_after = number_or(spec, "cancel_after", -1);
  int completed = 0;
  Json steps = Json::array();
  const StepCallback callback = [&](const SamplerStep& s) {
    ++completed;
    if (cancel_after >= 0 && completed > cancel_after) throw Cancelled();
    if (!trajectory) return;
    Json step = Json::object();
    step.set("index", Json::number(s.index));
    step.set("sigma", Json::number(s.sigma));
    step.set("x", to_json(*s.x));
    step.set("denoised", to_json(*s.denoised));
    steps.push(step);
  };
  Tensor latent;
  bool cancelled = false;
  try {
    latent = run_sampler(plan, model, guidance, schedule, start, extra, callback);
  } catch (const Cancelled&) {
    cancelled = true;
  }

  Json out = Json::object();
  out.set("cancelled", Json::boolean(cancelled));
  out.set("completed_steps", Json::number(cancelled ? completed - 1 : completed));
  out.set("sampler", Json::string(plan.resolved.sampler->name));
  out.set("scheduler", Json::string(plan.resolved.scheduler->label));
  out.set("latent", cancelled ? Json() : to_json(latent));
  out.set("start", to_json(start));
  if (plan.resolved.sampler->family == SamplerFamily::KDiffusion) {
    out.set("sigmas", to_json(plan.sigmas));
  } else {
    Json ts = Json::array();
    const auto& run = plan.timestep_run;
    for (int i = run.first_index; i >= run.stop_index; --i) ts.push(Json::number(run.params.timesteps[i]));
    out.set("timesteps", ts);
  }
  out.set("t_enc", Json::number(plan.t_enc));
  out.set("total_steps", Json::number(plan.total_steps));
  out.set("model_calls", Json::number(model.calls()));
  out.set("draws", Json::number(*draws));
  if (trajectory) out.set("steps", steps);
  return out;
}

}  // namespace sd
