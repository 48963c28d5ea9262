// The webui's sampler list (modules/sd_samplers_kdiffusion.py
// samplers_k_diffusion and sd_samplers_timesteps.py, webui 1.10): names,
// aliases, default schedule and options, and its rule for reading a sampler
// name that carries a schedule ("DPM++ 2M Karras" = DPM++ 2M + Karras, as
// infotexts from before 1.9 write it). DDIM and PLMS step on DDPM timesteps
// and ignore the schedule type, as in the webui.
#pragma once

#include <string>
#include <vector>

#include "sample/samplers.h"
#include "sample/schedule.h"

namespace sd {

enum class SamplerFamily { KDiffusion, Timesteps };
enum class TimestepSampler { DDIM, PLMS };

struct SamplerInfo {
  std::string name;                  // "DPM++ 2M"
  std::vector<std::string> aliases;  // {"k_dpmpp_2m"}
  SamplerFamily family = SamplerFamily::KDiffusion;
  KSampler k = KSampler::Euler;                      // KDiffusion
  TimestepSampler timesteps = TimestepSampler::DDIM;  // Timesteps
  std::string default_scheduler;  // the webui's options['scheduler'] ("" = uniform)
  bool second_order = false;      // two UNet evaluations per step
  bool uses_ensd = false;         // the webui writes its ENSD setting to the infotext (when eta != 0)
  bool brownian_noise = false;    // SDE samplers (see brownian_noise.h)
  bool discard_next_to_last_sigma = false;
  bool heun_solver = false;       // DPM++ 2M SDE Heun
  bool takes_eta = false;         // the sampler function has an eta parameter
  bool takes_churn = false;       // s_churn, s_tmin, s_tmax, s_noise apply
  float eta_default = 1.0f;       // the webui's eta_ancestral (1) / eta_ddim (0)
  // Same seed, same picture as the webui (false for the SDE samplers, whose
  // Brownian-tree noise is built differently).
  bool seed_matches_webui = true;
};

const std::vector<SamplerInfo>& sampler_table();

struct ResolvedSampler {
  const SamplerInfo* sampler = nullptr;
  const SchedulerInfo* scheduler = nullptr;  // never "automatic": resolved to the sampler's default
};

// A sampler by webui name or alias (case-insensitive), optionally with a
// schedule suffix ("Euler a", "k_euler_a", "DPM++ 2M Karras"), and a schedule
// type name ("", "Automatic", "Karras", "karras", ...; "" = Automatic). A
// schedule in the name wins over `scheduler` when that is Automatic, as in the
// webui. Unknown names are an sd::Error listing the valid ones.
ResolvedSampler resolve_sampler(const std::string& name, const std::string& scheduler = "");

}  // namespace sd
