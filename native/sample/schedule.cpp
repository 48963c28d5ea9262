#include "sample/strict_fp.h"
#include "sample/schedule.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "sample/sleef_f32.h"

namespace sd {

namespace {

// torch.linspace on the CPU for float32 / float64, value for value.
template <typename T>
std::vector<T> torch_linspace(T start, T end, int steps) {
  SD_CHECK(steps >= 0, "linspace: negative number of steps");
  std::vector<T> out(static_cast<size_t>(steps));
  if (steps == 0) return out;
  if (steps == 1) {
    out[0] = start;
    return out;
  }
  // The first half counts up from start, the second half down from end, so
  // both ends are exact. torch's CPU kernel is built with FMA enabled (and
  // CUDA contracts by default), so each value is one fused multiply-add.
  const T diff = end - start;
  const T step = diff / static_cast<T>(steps - 1);
  const int halfway = steps / 2;
  const auto scalar = [&](int i) {
    return i < halfway ? std::fma(step, static_cast<T>(i), start)
                       : std::fma(-step, static_cast<T>(steps - i - 1), end);
  };
  // Blocks of two 256-bit vectors (AVX2 build): each vector is base, base +
  // step, base + 2 step, ... from its first element's value; the remaining
  // tail element by element.
  constexpr int kVec = static_cast<int>(32 / sizeof(T));
  int i = 0;
  for (; i + 2 * kVec <= steps; i += 2 * kVec) {
    for (int v = i; v < i + 2 * kVec; v += kVec) {
      const T base = scalar(v);
      out[v] = base;
      out[v + 1] = base + step;
      for (int j = 2; j < kVec; ++j) out[v + j] = std::fma(static_cast<T>(j), step, base);
    }
  }
  for (; i < steps; ++i) out[i] = scalar(i);
  return out;
}

}  // namespace

NoiseSchedule::NoiseSchedule(int timesteps, double linear_start, double linear_end) {
  SD_CHECK(timesteps >= 2, "a noise schedule needs at least 2 timesteps, got ", timesteps);
  SD_CHECK(linear_start > 0 && linear_end > linear_start && linear_end < 1,
           "bad beta schedule: linear_start ", linear_start, ", linear_end ", linear_end);
  const int n = timesteps;
  betas_.resize(n);
  alphas_cumprod_.resize(n);
  alphas_cumprod_f32_.resize(n);
  sigmas_.resize(n);
  log_sigmas_.resize(n);
  // CompVis: torch.linspace(start ** 0.5, end ** 0.5, n, dtype=float64) ** 2,
  // then cumprod(1 - betas) in float64.
  const std::vector<double> roots = torch_linspace(std::sqrt(linear_start), std::sqrt(linear_end), n);
  double cumprod = 1.0;
  for (int i = 0; i < n; ++i) {
    betas_[i] = roots[i] * roots[i];
    cumprod *= 1.0 - betas_[i];
    alphas_cumprod_[i] = cumprod;
    const float ac = static_cast<float>(cumprod);
    alphas_cumprod_f32_[i] = ac;
    // k-diffusion: ((1 - ac) / ac) ** 0.5 on the float32 buffer.
    const float one_minus = 1.0f - ac;
    const float ratio = one_minus / ac;
    sigmas_[i] = std::sqrt(ratio);
    log_sigmas_[i] = sleef_f32::log(sigmas_[i]);
  }
}

float NoiseSchedule::sigma_to_t(float sigma) const {
  const float log_sigma = sleef_f32::log(sigma);
  const int n = timesteps();
  // low = the last t with log_sigmas[t] <= log sigma (0 when there is none),
  // at most n - 2 so that low + 1 exists.
  int low = 0;
  for (int t = 0; t < n; ++t)
    if (log_sigma - log_sigmas_[t] >= 0.0f) low = t;
  low = std::min(low, n - 2);
  const float lo = log_sigmas_[low], hi = log_sigmas_[low + 1];
  const float num = lo - log_sigma;
  const float den = lo - hi;
  float w = num / den;
  w = std::clamp(w, 0.0f, 1.0f);  // NaN-free here: den < 0 strictly
  const float one_minus_w = 1.0f - w;
  const float a = one_minus_w * static_cast<float>(low);
  const float b = w * static_cast<float>(low + 1);
  return a + b;
}

float NoiseSchedule::t_to_sigma(float t) const {
  const int n = timesteps();
  SD_CHECK(t >= 0 && t <= static_cast<float>(n - 1), "timestep ", t, " outside [0, ", n - 1, "]");
  const int low = static_cast<int>(std::floor(t));
  const int high = static_cast<int>(std::ceil(t));
  const float w = t - std::trunc(t);
  const float one_minus_w = 1.0f - w;
  const float a = one_minus_w * log_sigmas_[low];
  const float b = w * log_sigmas_[high];
  return sleef_f32::exp(a + b);
}

std::vector<float> NoiseSchedule::get_sigmas(int n) const {
  SD_CHECK(n >= 1, "need at least 1 sampling step, got ", n);
  const std::vector<float> ts = torch_linspace_f32(static_cast<float>(timesteps() - 1), 0.0f, n);
  std::vector<float> out;
  out.reserve(ts.size() + 1);
  for (float t : ts) out.push_back(t_to_sigma(t));
  out.push_back(0.0f);
  return out;
}

std::vector<float> torch_linspace_f32(float start, float end, int steps) { return torch_linspace(start, end, steps); }

// ---- DDIM ---------------------------------------------------------------------

std::vector<int> ddim_timesteps(int steps, int timesteps) {
  SD_CHECK(steps >= 1 && steps <= timesteps, "DDIM/PLMS take 1 to ", timesteps, " steps, got ", steps);
  const int c = timesteps / steps;
  std::vector<int> out;
  for (int t = 0; t < timesteps; t += c) out.push_back(std::min(t + 1, timesteps - 1));
  return out;
}

DDIMParameters ddim_parameters(const NoiseSchedule& schedule, const std::vector<int>& timesteps, double eta) {
  SD_CHECK(!timesteps.empty(), "DDIM needs at least one timestep");
  const auto& ac = schedule.alphas_cumprod_f32();
  DDIMParameters p;
  p.timesteps = timesteps;
  for (size_t i = 0; i < timesteps.size(); ++i) {
    const int t = timesteps[i];
    SD_CHECK(t >= 0 && t < schedule.timesteps(), "DDIM timestep ", t, " out of range");
    const double a = ac[t];
    const double a_prev = i == 0 ? ac[0] : ac[timesteps[i - 1]];
    p.alphas.push_back(a);
    p.alphas_prev.push_back(a_prev);
    p.sigmas.push_back(eta * std::sqrt((1 - a_prev) / (1 - a) * (1 - a / a_prev)));
  }
  return p;
}

// ---- sigma schedules ------------------------------------------------------------

namespace {

std::vector<float> append_zero(std::vector<float> v) {
  v.push_back(0.0f);
  return v;
}

void check_sigma_range(int n, double sigma_min, double sigma_max) {
  SD_CHECK(n >= 1, "need at least 1 sampling step, got ", n);
  SD_CHECK(sigma_min > 0 && sigma_max > sigma_min, "bad sigma range [", sigma_min, ", ", sigma_max, "]");
}

}  // namespace

std::vector<float> karras_sigmas(int n, double sigma_min, double sigma_max, double rho) {
  check_sigma_range(n, sigma_min, sigma_max);
  SD_CHECK(rho > 0, "the Karras schedule needs rho > 0, got ", rho);
  // Python-float exponents, float32 tensor arithmetic (scalars rounded to float).
  const double min_inv_rho = std::pow(sigma_min, 1.0 / rho);
  const double max_inv_rho = std::pow(sigma_max, 1.0 / rho);
  const float span = static_cast<float>(min_inv_rho - max_inv_rho);
  const float base = static_cast<float>(max_inv_rho);
  std::vector<float> out;
  for (float r : torch_linspace_f32(0.0f, 1.0f, n)) {
    const float scaled = r * span;
    const float v = base + scaled;
    // torch's scalar pow kernel widens to double (std::pow(float, double)).
    // (For n >= 16 its vector kernel uses SLEEF's powf on the first blocks of
    // 16, which can differ in the last bit; n < 16 is exact.)
    out.push_back(static_cast<float>(std::pow(static_cast<double>(v), rho)));
  }
  return append_zero(std::move(out));
}

std::vector<float> exponential_sigmas(int n, double sigma_min, double sigma_max) {
  check_sigma_range(n, sigma_min, sigma_max);
  std::vector<float> out;
  for (float l : torch_linspace_f32(static_cast<float>(std::log(sigma_max)), static_cast<float>(std::log(sigma_min)), n))
    out.push_back(sleef_f32::exp(l));
  return append_zero(std::move(out));
}

std::vector<float> polyexponential_sigmas(int n, double sigma_min, double sigma_max, double rho) {
  check_sigma_range(n, sigma_min, sigma_max);
  const float span = static_cast<float>(std::log(sigma_max) - std::log(sigma_min));
  const float log_min = static_cast<float>(std::log(sigma_min));
  std::vector<float> out;
  for (float r : torch_linspace_f32(1.0f, 0.0f, n)) {
    const float ramp = std::pow(r, static_cast<float>(rho));
    const float scaled = ramp * span;
    out.push_back(sleef_f32::exp(scaled + log_min));
  }
  return append_zero(std::move(out));
}

const std::vector<SchedulerInfo>& schedulers() {
  static const std::vector<SchedulerInfo> list = {
      {"automatic", "Automatic", -1, nullptr},
      {"uniform", "Uniform", -1, nullptr},
      {"karras", "Karras", 7.0, nullptr},
      {"exponential", "Exponential", -1, nullptr},
      {"polyexponential", "Polyexponential", 1.0, nullptr},
      {"sgm_uniform", "SGM Uniform", -1, "SGMUniform"},
      {"kl_optimal", "KL Optimal", -1, nullptr},
      {"align_your_steps", "Align Your Steps", -1, nullptr},
      {"simple", "Simple", -1, nullptr},
      {"normal", "Normal", -1, nullptr},
      {"ddim", "DDIM", -1, nullptr},
  };
  return list;
}

const SchedulerInfo* find_scheduler(const std::string& name) {
  for (const auto& s : schedulers())
    if (name == s.name || name == s.label || (s.alias && name == s.alias)) return &s;
  return nullptr;
}

namespace {

// Timesteps t evenly spaced from the model's sigma_max down to sigma_min
// (count values, optionally dropping the last of count + 1), mapped to sigmas.
std::vector<float> timestep_spaced(const NoiseSchedule& s, double sigma_min, double sigma_max, int count, bool sgm) {
  const float start = s.sigma_to_t(static_cast<float>(sigma_max));
  const float end = s.sigma_to_t(static_cast<float>(sigma_min));
  std::vector<float> ts = torch_linspace_f32(start, end, sgm ? count + 1 : count);
  if (sgm) ts.pop_back();
  std::vector<float> out;
  for (float t : ts) out.push_back(s.t_to_sigma(t));
  return append_zero(std::move(out));
}

// Align Your Steps (NVIDIA), SD 1.5 list, log-linearly resampled to n values.
std::vector<float> align_your_steps(int n) {
  static const double kSD15[] = {14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029};
  constexpr int kCount = 11;
  std::vector<float> out;
  if (n == kCount) {
    for (double v : kSD15) out.push_back(static_cast<float>(v));
    return append_zero(std::move(out));
  }
  // numpy: xs = linspace(0, 1, 11), ys = log(reversed list); interp at
  // linspace(0, 1, n); exp; reversed.
  std::vector<double> ys(kCount);
  for (int i = 0; i < kCount; ++i) ys[i] = std::log(kSD15[kCount - 1 - i]);
  std::vector<double> interped(n);
  for (int i = 0; i < n; ++i) {
    const double x = n == 1 ? 0.0 : static_cast<double>(i) / (n - 1);
    const double pos = x * (kCount - 1);
    int k = std::min(static_cast<int>(std::floor(pos)), kCount - 2);
    const double xk = static_cast<double>(k) / (kCount - 1), xk1 = static_cast<double>(k + 1) / (kCount - 1);
    const double slope = (ys[k + 1] - ys[k]) / (xk1 - xk);
    interped[i] = std::exp(x >= 1.0 ? ys[kCount - 1] : ys[k] + slope * (x - xk));
  }
  for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<float>(interped[i]));
  return append_zero(std::move(out));
}

}  // namespace

std::vector<float> scheduler_sigmas(const std::string& scheduler, int steps, const NoiseSchedule& schedule,
                                    const SigmaOptions& options) {
  SD_CHECK(steps >= 1, "need at least 1 sampling step, got ", steps);
  const SchedulerInfo* info = find_scheduler(scheduler);
  SD_CHECK(info != nullptr, "unknown schedule type \"", scheduler, "\"");
  const std::string name = info->name;
  // The webui passes the model's extremes as Python floats, overridable by settings.
  const double sigma_min = options.sigma_min > 0 ? options.sigma_min : static_cast<double>(schedule.sigma_min());
  const double sigma_max = options.sigma_max > 0 ? options.sigma_max : static_cast<double>(schedule.sigma_max());
  const double rho = options.rho > 0 ? options.rho : info->default_rho;
  if (name == "automatic" || name == "uniform") return schedule.get_sigmas(steps);
  if (name == "karras") return karras_sigmas(steps, sigma_min, sigma_max, rho);
  if (name == "exponential") return exponential_sigmas(steps, sigma_min, sigma_max);
  if (name == "polyexponential") return polyexponential_sigmas(steps, sigma_min, sigma_max, rho);
  if (name == "sgm_uniform") return timestep_spaced(schedule, sigma_min, sigma_max, steps, true);
  if (name == "normal") return timestep_spaced(schedule, sigma_min, sigma_max, steps, false);
  if (name == "align_your_steps") return align_your_steps(steps);
  const auto& sigmas = schedule.sigmas();
  const int count = static_cast<int>(sigmas.size());
  std::vector<float> out;
  if (name == "kl_optimal") {
    // tan of a linear blend of arctan(sigma_max) and arctan(sigma_min): n + 1
    // values ending at sigma_min itself (no final 0), as the webui does.
    const float alpha_min = std::atan(static_cast<float>(sigma_min));
    const float alpha_max = std::atan(static_cast<float>(sigma_max));
    for (int i = 0; i <= steps; ++i) {
      const float frac = static_cast<float>(i) / static_cast<float>(steps);
      const float a = frac * alpha_min;
      const float b = (1.0f - frac) * alpha_max;
      out.push_back(std::tan(a + b));
    }
    return out;
  }
  if (name == "simple") {
    const double stride = static_cast<double>(count) / steps;
    for (int i = 0; i < steps; ++i) out.push_back(sigmas[count - 1 - static_cast<int>(i * stride)]);
    return append_zero(std::move(out));
  }
  if (name == "ddim") {
    const int stride = std::max(count / steps, 1);
    for (int t = 1; t < count; t += stride) out.push_back(sigmas[t]);
    std::reverse(out.begin(), out.end());
    return append_zero(std::move(out));
  }
  fail("schedule type \"", info->label, "\" is not supported");
}

// ---- img2img ---------------------------------------------------------------------

Img2ImgSteps img2img_steps(int steps, double denoising_strength, bool fix_steps) {
  SD_CHECK(steps >= 1, "need at least 1 sampling step, got ", steps);
  SD_CHECK(denoising_strength >= 0 && denoising_strength <= 1, "denoising strength must be within [0, 1], got ",
           denoising_strength);
  const double strength = std::min(denoising_strength, 0.999);
  if (fix_steps) {
    SD_CHECK(denoising_strength > 0, "denoising strength 0 leaves nothing to do with fixed img2img steps");
    return {static_cast<int>(steps / strength), steps - 1};
  }
  return {steps, static_cast<int>(strength * steps)};
}

std::vector<float> img2img_sigma_tail(const std::vector<float>& sigmas, const Img2ImgSteps& s) {
  const int begin = s.steps - s.t_enc - 1;
  SD_CHECK(begin >= 0 && begin < static_cast<int>(sigmas.size()), "img2img: no sigmas left for t_enc ", s.t_enc);
  return std::vector<float>(sigmas.begin() + begin, sigmas.end());
}

}  // namespace sd
