// SD 1.x noise schedules, computed as the reference code computes them (the
// fixtures' README, "schedule"):
//   - the DDPM schedule: betas = linspace(sqrt(start), sqrt(end), T)^2 and
//     alphas_cumprod in float64 (CompVis "linear" = diffusers "scaled_linear");
//     the models keep alphas_cumprod as a float32 buffer, which DDIM/PLMS and
//     k-diffusion read;
//   - DDIM timesteps and their alphas (CompVis make_ddim_timesteps "uniform");
//   - k-diffusion's CompVisDenoiser view: sigma(t) = sqrt((1 - a_t) / a_t) in
//     float32, get_sigmas(n), sigma_to_t / t_to_sigma (fractional timesteps);
//   - the webui's schedule types (Karras, Exponential, ...), evaluated in float32
//     with torch's linspace rounding.
// Every sigma list ends with the final 0 (n + 1 values) unless noted.
#pragma once

#include <string>
#include <vector>

namespace sd {

class NoiseSchedule {
 public:
  // `timesteps` DDPM steps with betas linear in sqrt space from linear_start to
  // linear_end (SD 1.x: 1000, 0.00085, 0.012).
  NoiseSchedule(int timesteps = 1000, double linear_start = 0.00085, double linear_end = 0.012);

  int timesteps() const { return static_cast<int>(betas_.size()); }
  const std::vector<double>& betas() const { return betas_; }
  const std::vector<double>& alphas_cumprod() const { return alphas_cumprod_; }
  // The float32 buffer the models hold (what samplers index).
  const std::vector<float>& alphas_cumprod_f32() const { return alphas_cumprod_f32_; }

  // k-diffusion CompVisDenoiser: sigmas[t] = sqrt((1 - a_t) / a_t), float32, t = 0..T-1.
  const std::vector<float>& sigmas() const { return sigmas_; }
  const std::vector<float>& log_sigmas() const { return log_sigmas_; }
  float sigma_min() const { return sigmas_.front(); }
  float sigma_max() const { return sigmas_.back(); }

  // The fractional DDPM timestep the UNet receives for a sigma (log-linear
  // interpolation between the two neighbouring model sigmas).
  float sigma_to_t(float sigma) const;
  float t_to_sigma(float t) const;

  // DiscreteSchedule.get_sigmas(n): n sigmas at t = linspace(T-1, 0, n), then 0.
  std::vector<float> get_sigmas(int n) const;

 private:
  std::vector<double> betas_;
  std::vector<double> alphas_cumprod_;
  std::vector<float> alphas_cumprod_f32_;
  std::vector<float> sigmas_;
  std::vector<float> log_sigmas_;
};

// torch.linspace(start, end, steps) for float32 on the CPU (AVX2 build),
// value for value: both halves counted from their end with FMAs, blocks of 16
// built as vectors from a base value.
std::vector<float> torch_linspace_f32(float start, float end, int steps);

// ---- DDIM (CompVis make_ddim_timesteps, "uniform") ---------------------------

// c = T // steps, timesteps = [0, c, 2c, ...] + 1, clipped to T - 1 (the
// webui's clip; CompVis would index out of bounds). When T % steps != 0 this is
// MORE than `steps` entries (6 -> 7: 1, 167, ..., 997). Ascending.
std::vector<int> ddim_timesteps(int steps, int timesteps = 1000);

struct DDIMParameters {
  std::vector<int> timesteps;      // ascending
  std::vector<double> alphas;      // alphas_cumprod[ts]
  std::vector<double> alphas_prev; // alphas_cumprod[0], then alphas_cumprod[ts[:-1]]
  std::vector<double> sigmas;      // eta * sqrt((1 - a_prev) / (1 - a) * (1 - a / a_prev))
};

// From the float32 alphas_cumprod buffer, as CompVis and the webui read it.
DDIMParameters ddim_parameters(const NoiseSchedule& schedule, const std::vector<int>& timesteps, double eta);

// ---- k-diffusion / webui sigma schedules ---------------------------------------

// get_sigmas_karras(n, sigma_min, sigma_max, rho)
std::vector<float> karras_sigmas(int n, double sigma_min, double sigma_max, double rho = 7.0);
// get_sigmas_exponential(n, sigma_min, sigma_max)
std::vector<float> exponential_sigmas(int n, double sigma_min, double sigma_max);
// get_sigmas_polyexponential(n, sigma_min, sigma_max, rho)
std::vector<float> polyexponential_sigmas(int n, double sigma_min, double sigma_max, double rho = 1.0);

// The webui's "Schedule type" list (modules/sd_schedulers.py).
struct SchedulerInfo {
  const char* name;         // "karras"
  const char* label;        // "Karras"
  double default_rho;       // -1 when the schedule has no rho
  const char* alias;        // extra accepted name or nullptr
};
const std::vector<SchedulerInfo>& schedulers();
// By name, label or alias (case-sensitive, like the webui); nullptr if unknown.
const SchedulerInfo* find_scheduler(const std::string& name);

struct SigmaOptions {
  double sigma_min = 0;  // 0 = the model's
  double sigma_max = 0;  // 0 = the model's
  double rho = 0;        // 0 = the schedule's default
};

// Sigmas for `steps` steps with the named schedule ("uniform", "karras", ...;
// "automatic" is resolved by the caller to the sampler's default).
std::vector<float> scheduler_sigmas(const std::string& scheduler, int steps, const NoiseSchedule& schedule,
                                    const SigmaOptions& options = {});

// The webui's img2img step bookkeeping (sd_samplers_common.setup_img2img_steps):
// with the default settings steps stay as asked and t_enc = int(min(strength,
// 0.999) * steps); with "img2img_fix_steps" the schedule is stretched so that
// exactly `steps` steps run.
struct Img2ImgSteps {
  int steps;  // length of the full schedule
  int t_enc;  // how many of its steps run (k-diffusion runs t_enc + 1 sigmas)
};
Img2ImgSteps img2img_steps(int steps, double denoising_strength, bool fix_steps = false);

// sigmas[steps - t_enc - 1:], the tail of the full schedule that img2img runs.
std::vector<float> img2img_sigma_tail(const std::vector<float>& sigmas, const Img2ImgSteps& s);

}  // namespace sd
