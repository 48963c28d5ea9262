#include "sample/strict_fp.h"
#include "sample/guidance.h"

#include <cmath>
#include <cstring>
#include <memory>

#include "sample/latent_math.h"

namespace sd {

namespace {

// Validated guidance with the row bookkeeping worked out.
struct Plan {
  Guidance g;
  int64_t batch = 0;                  // images
  std::vector<int64_t> row_image;     // cond row -> image
  std::vector<float> row_weight;      // cond row -> weight
  std::vector<std::vector<int64_t>> image_rows;  // image -> its cond rows
};

std::shared_ptr<const Plan> make_plan(Guidance g) {
  SD_CHECK(g.cond.defined() && g.uncond.defined(), "guidance needs both the prompt's and the negative prompt's conditioning");
  SD_CHECK(g.cond.ndim() == 3 && g.uncond.ndim() == 3, "conditionings are [N, tokens, dim], got ", g.cond.describe(),
           " and ", g.uncond.describe());
  SD_CHECK(g.cond.dim(2) == g.uncond.dim(2), "prompt and negative prompt conditionings differ in width: ",
           g.cond.describe(), " vs ", g.uncond.describe());
  SD_CHECK(std::isfinite(g.scale), "the CFG scale must be a finite number");
  g.cond = g.cond.clone_host(true);
  g.uncond = g.uncond.clone_host(true);
  auto plan = std::make_shared<Plan>();
  plan->batch = g.uncond.dim(0);
  if (g.cond_weights.empty()) g.cond_weights.assign(static_cast<size_t>(plan->batch), std::vector<float>{1.0f});
  SD_CHECK(static_cast<int64_t>(g.cond_weights.size()) == plan->batch, "guidance: ", g.cond_weights.size(),
           " images have prompt weights but the negative prompt has ", plan->batch, " rows");
  plan->image_rows.resize(static_cast<size_t>(plan->batch));
  for (int64_t i = 0; i < plan->batch; ++i) {
    SD_CHECK(!g.cond_weights[i].empty(), "guidance: image ", i, " has no prompt");
    for (float w : g.cond_weights[i]) {
      plan->image_rows[i].push_back(static_cast<int64_t>(plan->row_image.size()));
      plan->row_image.push_back(i);
      plan->row_weight.push_back(w);
    }
  }
  SD_CHECK(static_cast<int64_t>(plan->row_image.size()) == g.cond.dim(0), "guidance: the prompt conditioning has ",
           g.cond.dim(0), " rows for ", plan->row_image.size(), " (sub-)prompts");
  plan->g = std::move(g);
  return plan;
}

// Copies rows of `src` (a [N, ...] tensor) into `dst` starting at row `at`.
void put_row(Tensor& dst, int64_t at, const Tensor& src, int64_t row) {
  const int64_t per = src.numel() / src.dim(0);
  std::memcpy(dst.data<float>() + at * per, src.data<float>() + row * per, static_cast<size_t>(per) * 4);
}

Shape with_batch(const Shape& s, int64_t n) {
  Shape out = s;
  out[0] = n;
  return out;
}

// Runs the UNet over the guidance batch for the per-image inputs x_in
// ([B, ...]) at timestep t. Returns eps for [cond rows..., uncond rows...]
// (or [uncond..., cond...] when uncond_first), in one or two calls.
Tensor guided_eps(EpsModel& model, const Plan& p, const Tensor& x_in, float t, bool uncond_first) {
  const int64_t nc = static_cast<int64_t>(p.row_image.size());
  const int64_t nb = p.batch;
  const auto batch_of = [&](bool cond) {
    const int64_t n = cond ? nc : nb;
    Tensor xs = Tensor::host(with_batch(x_in.shape(), n), DType::F32);
    for (int64_t r = 0; r < n; ++r) put_row(xs, r, x_in, cond ? p.row_image[r] : r);
    return xs;
  };
  const auto check = [&](const Tensor& e, const Tensor& xs) {
    latent::check_f32(e, "the UNet output");
    latent::check_same_shape(xs, e, "the UNet output");
  };
  const Tensor& first_ctx = uncond_first ? p.g.uncond : p.g.cond;
  const Tensor& second_ctx = uncond_first ? p.g.cond : p.g.uncond;
  const Tensor x_first = batch_of(!uncond_first);
  const Tensor x_second = batch_of(uncond_first);
  const bool joint = p.g.one_batch && p.g.cond.dim(1) == p.g.uncond.dim(1);
  Tensor out = Tensor::host(with_batch(x_in.shape(), nc + nb), DType::F32);
  const int64_t n_first = x_first.dim(0);
  if (joint) {
    Tensor xs = Tensor::host(out.shape(), DType::F32);
    std::memcpy(xs.data<float>(), x_first.data<float>(), x_first.nbytes());
    std::memcpy(xs.data<float>() + x_first.numel(), x_second.data<float>(), x_second.nbytes());
    Tensor ctx = Tensor::host({nc + nb, first_ctx.dim(1), first_ctx.dim(2)}, DType::F32);
    std::memcpy(ctx.data<float>(), first_ctx.data<float>(), first_ctx.nbytes());
    std::memcpy(ctx.data<float>() + first_ctx.numel(), second_ctx.data<float>(), second_ctx.nbytes());
    Tensor e = model.eps(xs, std::vector<float>(static_cast<size_t>(nc + nb), t), ctx);
    check(e, xs);
    return e;
  }
  const Tensor e1 = model.eps(x_first, std::vector<float>(static_cast<size_t>(n_first), t), first_ctx);
  check(e1, x_first);
  const Tensor e2 = model.eps(x_second, std::vector<float>(static_cast<size_t>(x_second.dim(0)), t), second_ctx);
  check(e2, x_second);
  std::memcpy(out.data<float>(), e1.data<float>(), e1.nbytes());
  std::memcpy(out.data<float>() + e1.numel(), e2.data<float>(), e2.nbytes());
  return out;
}

// out[i] = u[i] + sum_k (c[row_k] - u[i]) * (w_k * scale), per image i, where
// `rows` holds [cond rows..., uncond rows...] or the reverse.
Tensor combine(const Plan& p, const Tensor& rows, bool uncond_first) {
  const int64_t nc = static_cast<int64_t>(p.row_image.size());
  const int64_t per = rows.numel() / rows.dim(0);
  const float* base = rows.data<float>();
  const float* cond = uncond_first ? base + p.batch * per : base;
  const float* uncond = uncond_first ? base : base + nc * per;
  Tensor out = Tensor::host(with_batch(rows.shape(), p.batch), DType::F32);
  float* po = out.data<float>();
  for (int64_t i = 0; i < p.batch; ++i) {
    const float* u = uncond + i * per;
    float* o = po + i * per;
    std::memcpy(o, u, static_cast<size_t>(per) * 4);
    for (int64_t row : p.image_rows[i]) {
      const float* c = cond + row * per;
      // weight * scale as Python floats, applied as float32.
      const float s = static_cast<float>(static_cast<double>(p.row_weight[row]) * static_cast<double>(p.g.scale));
      for (int64_t k = 0; k < per; ++k) {
        const float diff = c[k] - u[k];
        const float step = diff * s;
        o[k] = o[k] + step;
      }
    }
  }
  return out;
}

}  // namespace

Denoiser make_kdiffusion_denoiser(EpsModel& model, const NoiseSchedule& schedule, Guidance guidance) {
  std::shared_ptr<const Plan> plan = make_plan(std::move(guidance));
  return [&model, &schedule, plan](const Tensor& x, float sigma) -> Tensor {
    latent::check_f32(x, "the latent");
    SD_CHECK(x.dim(0) == plan->batch, "the latent batch has ", x.dim(0), " images, the guidance ", plan->batch);
    // CompVisDenoiser: c_in = 1 / sqrt(sigma^2 + 1), c_out = -sigma.
    const float sigma2 = sigma * sigma;
    const float c_in = 1.0f / std::sqrt(sigma2 + 1.0f);
    const float c_out = -sigma;
    const float t = schedule.sigma_to_t(sigma);
    const Tensor x_in = latent::map(x, [c_in](float v) { return v * c_in; });
    const Tensor eps = guided_eps(model, *plan, x_in, t, false);
    // Denoised per row: x of the row's image + eps * c_out.
    const int64_t nc = static_cast<int64_t>(plan->row_image.size());
    const int64_t per = x.numel() / x.dim(0);
    Tensor denoised = Tensor::host(eps.shape(), DType::F32);
    const float* px = x.data<float>();
    const float* pe = eps.data<float>();
    float* pd = denoised.data<float>();
    for (int64_t r = 0; r < eps.dim(0); ++r) {
      const int64_t image = r < nc ? plan->row_image[r] : r - nc;
      const float* xi = px + image * per;
      for (int64_t k = 0; k < per; ++k) {
        const float scaled = pe[r * per + k] * c_out;
        pd[r * per + k] = xi[k] + scaled;
      }
    }
    return combine(*plan, denoised, false);
  };
}

EpsPredictor make_eps_guidance(EpsModel& model, Guidance guidance, bool uncond_first) {
  std::shared_ptr<const Plan> plan = make_plan(std::move(guidance));
  return [&model, plan, uncond_first](const Tensor& x, float t) -> Tensor {
    latent::check_f32(x, "the latent");
    SD_CHECK(x.dim(0) == plan->batch, "the latent batch has ", x.dim(0), " images, the guidance ", plan->batch);
    return combine(*plan, guided_eps(model, *plan, x, t, uncond_first), uncond_first);
  };
}

}  // namespace sd
