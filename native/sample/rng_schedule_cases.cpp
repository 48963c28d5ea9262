// Conformance runners for the case kinds of the sampling code: schedule,
// torch_randn_cpu and philox_randn (test/fixtures/README.md).
#include "sample/strict_fp.h"

#include <algorithm>
#include <cstring>

#include "conformance/cases.h"
#include "sample/rng_philox.h"
#include "sample/rng_torch_cpu.h"
#include "sample/schedule.h"

namespace sd {

namespace {

Tensor floats_tensor(const std::vector<float>& v) { return Tensor::from_floats(v, {static_cast<int64_t>(v.size())}); }

Tensor doubles_as_floats(const std::vector<double>& v) {
  std::vector<float> f(v.begin(), v.end());
  return floats_tensor(f);
}

Shape shape_param(CaseContext& ctx, const char* key) {
  Shape shape;
  for (const Json& d : ctx.param(key).as_array(key)) shape.push_back(d.as_int(key));
  return shape;
}

// A slice of a flat float buffer as its own tensor.
Tensor flat_slice(const float* data, int64_t begin, int64_t count) {
  std::vector<float> v(data + begin, data + begin + count);
  return floats_tensor(v);
}

// The outputs both randn kinds store: first/last 64 values, the full tensor
// for small shapes, and the float64 sum and sum of squares.
void check_noise(CaseContext& ctx, const Tensor& noise) {
  const float* p = noise.data<float>();
  const int64_t n = noise.numel();
  const int64_t k = std::min<int64_t>(64, n);
  ctx.check("first64", flat_slice(p, 0, k));
  ctx.check("last64", flat_slice(p, n - k, k));
  if (ctx.has_expected("full")) ctx.check("full", noise.reshape(ctx.expected("full").shape()));
  double sum = 0, sum_sq = 0;
  for (int64_t i = 0; i < n; ++i) {
    sum += p[i];
    sum_sq += static_cast<double>(p[i]) * p[i];
  }
  ctx.check_param("sum", sum);
  ctx.check_param("sum_of_squares", sum_sq);
}

}  // namespace

void run_schedule_case(CaseContext& ctx) {
  const Json* t_param = ctx.find_param("timesteps");
  const NoiseSchedule schedule(t_param && t_param->is_number() ? static_cast<int>(t_param->as_int()) : 1000);
  if (ctx.has_expected("alphas_cumprod")) {
    ctx.check("alphas_cumprod", doubles_as_floats(schedule.alphas_cumprod()));
    ctx.check("betas", doubles_as_floats(schedule.betas()));
    return;
  }
  if (ctx.has_expected("ddim_timesteps")) {
    const int steps = static_cast<int>(ctx.param("ddim_num_steps").as_int());
    const DDIMParameters p = ddim_parameters(schedule, ddim_timesteps(steps, schedule.timesteps()), 1.0);
    Tensor ts = Tensor::host({static_cast<int64_t>(p.timesteps.size())}, DType::I32);
    std::copy(p.timesteps.begin(), p.timesteps.end(), ts.data<int32_t>());
    ctx.check("ddim_timesteps", ts);
    ctx.check("ddim_alphas", doubles_as_floats(p.alphas));
    ctx.check("ddim_alphas_prev", doubles_as_floats(p.alphas_prev));
    ctx.check("ddim_sigmas_eta1", doubles_as_floats(p.sigmas));
    return;
  }
  const Json* n_param = ctx.find_param("n");
  if (!n_param) {
    // The model's own sigmas (k-diffusion CompVisDenoiser).
    ctx.check("sigmas", floats_tensor(schedule.sigmas()));
    return;
  }
  const int n = static_cast<int>(n_param->as_int());
  std::vector<float> sigmas;
  if (const Json* rho = ctx.find_param("rho")) {
    sigmas = karras_sigmas(n, ctx.param("sigma_min").as_number(), ctx.param("sigma_max").as_number(),
                           rho->as_number());
  } else {
    sigmas = schedule.get_sigmas(n);
  }
  ctx.check("sigmas", floats_tensor(sigmas));
  std::vector<float> ts;
  for (int i = 0; i < n; ++i) ts.push_back(schedule.sigma_to_t(sigmas[i]));
  ctx.check("timesteps", floats_tensor(ts));
}

void run_torch_randn_cpu_case(CaseContext& ctx) {
  const uint64_t seed = static_cast<uint64_t>(ctx.param("seed").as_int());
  const Shape shape = shape_param(ctx, "shape");
  const int64_t draw = ctx.param("draw_index").as_int();
  SD_CHECK(draw >= 1, "draw_index counts from 1");
  TorchCpuGenerator gen(seed);
  for (int64_t i = 1; i < draw; ++i) gen.randn(shape);
  const uint64_t before = gen.outputs_consumed();
  const Tensor noise = gen.randn(shape);
  // The stream position is part of the contract (the next draw starts there).
  if (ctx.find_param("mt19937_outputs_consumed_before"))
    ctx.check_param("mt19937_outputs_consumed_before", static_cast<double>(before));
  if (ctx.find_param("mt19937_outputs_consumed_by_this_call"))
    ctx.check_param("mt19937_outputs_consumed_by_this_call", static_cast<double>(gen.outputs_consumed() - before));
  check_noise(ctx, noise);
}

void run_philox_randn_case(CaseContext& ctx) {
  const uint64_t seed = static_cast<uint64_t>(ctx.param("seed").as_int());
  const Shape shape = shape_param(ctx, "shape");
  const int64_t offset = ctx.param("offset").as_int();
  SD_CHECK(offset >= 0 && offset <= 0xFFFFFFFFll, "bad Philox offset ", offset);
  PhiloxGenerator gen(seed, static_cast<uint32_t>(offset));
  check_noise(ctx, gen.randn(shape));
}

}  // namespace sd
