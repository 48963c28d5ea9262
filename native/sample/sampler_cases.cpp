#include "sample/strict_fp.h"
#include "sample/sampler_cases.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>

#include "conformance/resources.h"
#include "model/stable_diffusion.h"
#include "model/unet.h"
#include "model/vae.h"
#include "pipeline/image_convert.h"
#include "sample/latent_math.h"
#include "sample/sampling.h"

namespace sd {

namespace {

// The fixtures' sampler names as webui requests: CompVis' DDIM/PLMS (all
// timesteps), k-diffusion samplers on get_sigmas ("Uniform") unless Karras.
SamplingRequest request_for(CaseContext& ctx) {
  const std::string name = ctx.param("sampler").as_string("sampler");
  SamplingRequest r;
  r.steps = static_cast<int>(ctx.param("steps").as_int("steps"));
  r.scheduler = "Uniform";
  r.webui_timestep_samplers = false;
  if (name == "ddim") r.sampler = "DDIM";
  else if (name == "plms") r.sampler = "PLMS";
  else if (name == "euler") r.sampler = "Euler";
  else if (name == "euler_ancestral") r.sampler = "Euler a";
  else if (name == "heun") r.sampler = "Heun";
  else if (name == "lms") r.sampler = "LMS";
  else if (name == "dpmpp_2m") r.sampler = "DPM++ 2M";
  else if (name == "dpmpp_2m_karras") r.sampler = "DPM++ 2M", r.scheduler = "Karras";
  else fail("case ", ctx.name(), ": unknown sampler \"", name, "\"");
  if (const Json* eta = ctx.find_param("eta")) r.eta = static_cast<float>(eta->as_number());
  if (const Json* strength = ctx.find_param("strength")) r.denoising_strength = static_cast<float>(strength->as_number());
  return r;
}

std::vector<double> numbers(const Json& j) {
  std::vector<double> v;
  for (const Json& x : j.as_array("list")) v.push_back(x.as_number());
  return v;
}

void check_close(const std::vector<double>& expected, const std::vector<double>& actual, const char* what,
                 const std::string& case_name) {
  SD_CHECK(expected.size() == actual.size(), "case ", case_name, ": ", actual.size(), " ", what, ", the reference has ",
           expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    SD_CHECK(std::fabs(expected[i] - actual[i]) <= 1e-5 * std::max(1.0, std::fabs(expected[i])), "case ", case_name,
             ": ", what, "[", i, "] = ", actual[i], ", the reference has ", expected[i]);
}

// The plan must be the reference's schedule (the case lists it).
void check_plan(CaseContext& ctx, const SamplingPlan& plan) {
  if (plan.resolved.sampler->family == SamplerFamily::KDiffusion) {
    const Json* listed = ctx.find_param("sigma_sched");
    if (!listed) listed = ctx.find_param("sigmas");
    if (listed) check_close(numbers(*listed), std::vector<double>(plan.sigmas.begin(), plan.sigmas.end()), "sigmas", ctx.name());
    return;
  }
  const Json* listed = ctx.find_param("denoise_timesteps_descending");
  if (!listed) listed = ctx.find_param("ddim_timesteps_descending");
  if (!listed) return;
  std::vector<double> ts;
  const auto& run = plan.timestep_run;
  for (int i = run.first_index; i >= run.stop_index; --i) ts.push_back(run.params.timesteps[i]);
  check_close(numbers(*listed), ts, "timesteps", ctx.name());
}

Guidance guidance_for(CaseContext& ctx, const SamplerCaseModels& models) {
  Guidance g;
  if (models.encode_text && ctx.has_input("cond_input_ids")) {
    g.cond = models.encode_text(ctx.input("cond_input_ids"));
    g.uncond = models.encode_text(ctx.input("uncond_input_ids"));
  } else {
    g.cond = ctx.input("cond_context").clone_host(true);
    g.uncond = ctx.input("uncond_context").clone_host(true);
  }
  g.scale = static_cast<float>(ctx.param("cfg_scale").as_number("cfg_scale"));
  return g;
}

// Serves the rows of a [k, B, C, H, W] tensor of recorded noises in order.
NoiseFn recorded_noises(const Tensor& stack) {
  auto next = std::make_shared<int64_t>(0);
  const Tensor all = stack.clone_host(true);
  return [all, next]() {
    SD_CHECK(*next < all.dim(0), "the sampler drew more noise than the reference (", all.dim(0), " draws)");
    Shape shape(all.shape().begin() + 1, all.shape().end());
    const int64_t per = shape_numel(shape);
    Tensor out = Tensor::host(shape, DType::F32);
    std::memcpy(out.data<float>(), all.data<float>() + (*next)++ * per, static_cast<size_t>(per) * 4);
    return out;
  };
}

// Collects what the sampler reports per step into [steps, B, C, H, W] tensors.
struct Trajectory {
  std::vector<Tensor> x, denoised;
  StepCallback callback() {
    return [this](const SamplerStep& s) {
      x.push_back(s.x->clone_host());
      denoised.push_back(s.denoised->clone_host());
    };
  }
  static Tensor stack(const std::vector<Tensor>& v) {
    SD_CHECK(!v.empty(), "the sampler reported no steps");
    Shape shape = v[0].shape();
    shape.insert(shape.begin(), static_cast<int64_t>(v.size()));
    Tensor out = Tensor::host(shape, DType::F32);
    for (size_t i = 0; i < v.size(); ++i)
      std::memcpy(out.data<float>() + i * v[0].numel(), v[i].data<float>(), v[i].nbytes());
    return out;
  }
  void check(CaseContext& ctx, bool kdiffusion) const {
    if (kdiffusion) {
      ctx.check_debug("x_before_each_step", stack(x));
      ctx.check_debug("denoised_each_step", stack(denoised));
    } else {
      ctx.check_debug("x_after_each_step", stack(x));
      ctx.check_debug("pred_x0_each_step", stack(denoised));
    }
  }
};

void check_images(CaseContext& ctx, const SamplerCaseModels& models, const Tensor& latent) {
  SD_CHECK(models.decode_first_stage != nullptr, "no VAE decoder");
  const Tensor image = models.decode_first_stage(latent);
  ctx.check("image", image);
  ctx.check("image_uint8", image_to_uint8(image));
}

NoiseFn extra_noise_for(CaseContext& ctx) {
  if (ctx.has_input("step_noises")) return recorded_noises(ctx.input("step_noises"));
  return []() -> Tensor { fail("this case provides no noise beyond the initial noise"); };
}

}  // namespace

namespace {

class UNetEps final : public EpsModel {
 public:
  explicit UNetEps(UNetModel& unet) : unet_(unet) {}
  Tensor eps(const Tensor& x, const std::vector<float>& t, const Tensor& context) override {
    return unet_.forward(x, t, context);
  }

 private:
  UNetModel& unet_;
};

Tensor scaled(const Tensor& x, float s) {
  return latent::map(x.clone_host(true), [s](float v) { return v * s; });
}

}  // namespace

SamplerCaseModels sampler_models(StableDiffusion& model) {
  SamplerCaseModels m;
  m.unet = std::make_shared<UNetEps>(model.unet());
  const double scale_factor = model.config().diffusion.scale_factor;
  // decode_first_stage: latent * (1 / scale_factor), the factor computed in double.
  m.decode_first_stage = [&model, scale_factor](const Tensor& latent) {
    return model.vae().decode(scaled(latent, static_cast<float>(1.0 / scale_factor)));
  };
  m.encode_first_stage = [&model, scale_factor](const Tensor& image) {
    return scaled(model.vae().encode(image).mean, static_cast<float>(scale_factor));
  };
  m.encode_text = [&model](const Tensor& ids) { return model.text_encoder().forward(ids); };
  return m;
}

void run_sampler_case(CaseContext& ctx, const SamplerCaseModels& models) {
  SD_CHECK(models.unet, "no UNet");
  const NoiseSchedule schedule;
  const SamplingPlan plan = plan_sampling(request_for(ctx), schedule, false);
  check_plan(ctx, plan);
  Trajectory traj;
  const Tensor latent = run_sampler(plan, *models.unet, guidance_for(ctx, models), schedule,
                                    txt2img_start(plan, ctx.input("noise").clone_host(true)), extra_noise_for(ctx),
                                    traj.callback());
  ctx.check("latent", latent);
  traj.check(ctx, plan.resolved.sampler->family == SamplerFamily::KDiffusion);
  check_images(ctx, models, latent);
}

void run_img2img_case(CaseContext& ctx, const SamplerCaseModels& models) {
  SD_CHECK(models.unet, "no UNet");
  SD_CHECK(models.encode_first_stage != nullptr, "no VAE encoder");
  const NoiseSchedule schedule;
  const SamplingPlan plan = plan_sampling(request_for(ctx), schedule, true);
  check_plan(ctx, plan);
  if (const Json* t_enc = ctx.find_param("t_enc"))
    SD_CHECK(t_enc->as_int() == plan.t_enc, "case ", ctx.name(), ": t_enc ", plan.t_enc, ", the reference has ", t_enc->as_int());
  const Tensor init_latent = models.encode_first_stage(ctx.input("init_image").clone_host(true));
  ctx.check("init_latent", init_latent);
  const Tensor start = img2img_start(plan, schedule, init_latent, ctx.input("noise").clone_host(true));
  ctx.check("noised_latent", start);
  const Tensor latent = run_sampler(plan, *models.unet, guidance_for(ctx, models), schedule, start,
                                    extra_noise_for(ctx));
  ctx.check("latent", latent);
  check_images(ctx, models, latent);
}

// ---- replay ---------------------------------------------------------------------

namespace {

// Row i of a [k, ...] tensor.
Tensor row(const Tensor& stack, int64_t i) {
  SD_CHECK(i < stack.dim(0), "the sampler asked for step ", i, " of ", stack.dim(0), " recorded steps");
  return stack.slice0(i, i + 1).reshape(Shape(stack.shape().begin() + 1, stack.shape().end())).clone_host(true);
}

// The recorded guided prediction of step i as the k-diffusion denoiser.
void replay_kdiffusion(CaseContext& ctx, const SamplingPlan& plan) {
  const Tensor recorded = ctx.fixtures().tensor(ctx.spec().at("debug").at("denoised_each_step").as_string());
  const std::vector<double> sigmas = numbers(ctx.param("sigmas"));
  auto calls = std::make_shared<int64_t>(0);
  const Denoiser replay = [&, calls](const Tensor& x, float sigma) {
    const int64_t i = (*calls)++;
    SD_CHECK(std::fabs(sigma - sigmas.at(static_cast<size_t>(i))) <= 1e-6 * sigmas[i], "step ", i, ": sigma ", sigma,
             ", the reference used ", sigmas[i]);
    return row(recorded, i);
  };
  Trajectory traj;
  const Tensor latent = sample_k(plan.resolved.sampler->k, replay, txt2img_start(plan, ctx.input("noise").clone_host(true)),
                                 plan.sigmas, plan.k_options, extra_noise_for(ctx), traj.callback());
  ctx.check("latent", latent);
  ctx.check_debug("x_before_each_step", Trajectory::stack(traj.x));
}

// DDIM: the eps of step i follows from the reference's x before the step and
// its pred_x0: eps = (x - sqrt(a) pred_x0) / sqrt(1 - a).
void replay_ddim(CaseContext& ctx, const SamplingPlan& plan) {
  const Json& debug = ctx.spec().at("debug");
  const Tensor xs_after = ctx.fixtures().tensor(debug.at("x_after_each_step").as_string());
  const Tensor preds = ctx.fixtures().tensor(debug.at("pred_x0_each_step").as_string());
  const Tensor noise = ctx.input("noise").clone_host(true);
  const auto& run = plan.timestep_run;
  auto calls = std::make_shared<int64_t>(0);
  const EpsPredictor replay = [&, calls](const Tensor& x, float t) {
    const int64_t i = (*calls)++;
    const int index = run.first_index - static_cast<int>(i);
    SD_CHECK(t == static_cast<float>(run.params.timesteps.at(index)), "step ", i, ": timestep ", t);
    const Tensor x_ref = i == 0 ? noise : row(xs_after, i - 1);
    const Tensor pred = row(preds, i);
    const double a = run.params.alphas[index];
    const double sa = std::sqrt(a), s1 = std::sqrt(1 - a);
    return latent::map(x_ref, pred, [sa, s1](float xv, float pv) {
      return static_cast<float>((static_cast<double>(xv) - sa * pv) / s1);
    });
  };
  Trajectory traj;
  const Tensor latent = sample_ddim(replay, txt2img_start(plan, noise), run, {}, traj.callback());
  ctx.check("latent", latent);
  ctx.check_debug("x_after_each_step", Trajectory::stack(traj.x));
  ctx.check_debug("pred_x0_each_step", Trajectory::stack(traj.denoised));
}

bool replayable(const std::string& sampler) {
  return sampler == "euler" || sampler == "euler_ancestral" || sampler == "dpmpp_2m" || sampler == "dpmpp_2m_karras" ||
         sampler == "lms" || sampler == "ddim";
}

}  // namespace

std::vector<CaseResult> run_sampler_replay(const std::string& fixture_dir,
                                           const std::function<void(const CaseResult&)>& on_result) {
  FixtureDir fixtures(fixture_dir);
  ConformanceOptions options;
  options.check_debug = true;
  Resources resources(fixtures, options);
  const NoiseSchedule schedule;
  std::vector<CaseResult> results;
  for (const Json& spec : fixtures.manifest().at("cases").as_array("cases")) {
    const std::string kind = spec.at("kind").as_string();
    if (kind != "sampler" && kind != "img2img") continue;
    const Json* params = spec.find("params");
    const Json* sampler = params ? params->find("sampler") : nullptr;
    if (kind == "sampler" && !(sampler && sampler->is_string() && replayable(sampler->as_string()))) continue;
    CaseResult r;
    r.name = spec.at("name").as_string() + " (replay)";
    r.kind = kind;
    const auto start = std::chrono::steady_clock::now();
    try {
      CaseContext ctx(spec, fixtures, resources, options, r);
      const SamplingPlan plan = plan_sampling(request_for(ctx), schedule, kind == "img2img");
      check_plan(ctx, plan);
      if (kind == "img2img") {
        SD_CHECK(ctx.param("t_enc").as_int() == plan.t_enc, "t_enc ", plan.t_enc, ", the reference has ",
                 ctx.param("t_enc").as_int());
        ctx.check("noised_latent", img2img_start(plan, schedule, ctx.expected("init_latent").clone_host(true),
                                                 ctx.input("noise").clone_host(true)));
      } else if (plan.resolved.sampler->family == SamplerFamily::KDiffusion) {
        replay_kdiffusion(ctx, plan);
      } else {
        replay_ddim(ctx, plan);
      }
      bool all = !r.outputs.empty();
      for (const auto& o : r.outputs) all = all && o.passed;
      r.status = all ? CaseResult::Status::Passed : CaseResult::Status::Failed;
    } catch (const std::exception& e) {
      r.status = CaseResult::Status::Error;
      r.message = e.what();
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (on_result) on_result(r);
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace sd
