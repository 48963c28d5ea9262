#include "sample/sampler_table.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "core/error.h"

namespace sd {

namespace {

SamplerInfo k(std::string name, std::vector<std::string> aliases, KSampler kind, std::string scheduler = "") {
  SamplerInfo s;
  s.name = std::move(name);
  s.aliases = std::move(aliases);
  s.family = SamplerFamily::KDiffusion;
  s.k = kind;
  s.default_scheduler = std::move(scheduler);
  return s;
}

SamplerInfo timesteps(std::string name, std::vector<std::string> aliases, TimestepSampler kind) {
  SamplerInfo s;
  s.name = std::move(name);
  s.aliases = std::move(aliases);
  s.family = SamplerFamily::Timesteps;
  s.timesteps = kind;
  s.eta_default = 0.0f;
  return s;
}

std::vector<SamplerInfo> build_table() {
  std::vector<SamplerInfo> t;
  // Order and options as in the webui (1.10). Not provided: DPM fast, DPM
  // adaptive, Restart, DDIM CFG++, UniPC, LCM.
  {
    auto s = k("DPM++ 2M", {"k_dpmpp_2m"}, KSampler::DPMpp2M, "karras");
    t.push_back(s);
  }
  {
    auto s = k("DPM++ SDE", {"k_dpmpp_sde"}, KSampler::DPMppSDE, "karras");
    s.second_order = true;
    s.brownian_noise = true;
    s.takes_eta = true;
    t.push_back(s);
  }
  {
    auto s = k("DPM++ 2M SDE", {"k_dpmpp_2m_sde"}, KSampler::DPMpp2MSDE, "exponential");
    s.brownian_noise = true;
    s.takes_eta = true;
    t.push_back(s);
  }
  {
    auto s = k("DPM++ 2M SDE Heun", {"k_dpmpp_2m_sde_heun"}, KSampler::DPMpp2MSDE, "exponential");
    s.brownian_noise = true;
    s.takes_eta = true;
    s.heun_solver = true;
    t.push_back(s);
  }
  {
    auto s = k("DPM++ 2S a", {"k_dpmpp_2s_a"}, KSampler::DPMpp2SAncestral, "karras");
    s.uses_ensd = true;
    s.second_order = true;
    s.takes_eta = true;
    t.push_back(s);
  }
  {
    auto s = k("DPM++ 3M SDE", {"k_dpmpp_3m_sde"}, KSampler::DPMpp3MSDE, "exponential");
    s.discard_next_to_last_sigma = true;
    s.brownian_noise = true;
    s.takes_eta = true;
    t.push_back(s);
  }
  {
    auto s = k("Euler a", {"k_euler_a", "k_euler_ancestral"}, KSampler::EulerAncestral);
    s.uses_ensd = true;
    s.takes_eta = true;
    t.push_back(s);
  }
  {
    auto s = k("Euler", {"k_euler"}, KSampler::Euler);
    s.takes_churn = true;
    t.push_back(s);
  }
  t.push_back(k("LMS", {"k_lms"}, KSampler::LMS));
  {
    auto s = k("Heun", {"k_heun"}, KSampler::Heun);
    s.second_order = true;
    s.takes_churn = true;
    t.push_back(s);
  }
  {
    auto s = k("DPM2", {"k_dpm_2"}, KSampler::DPM2, "karras");
    s.discard_next_to_last_sigma = true;
    s.second_order = true;
    s.takes_churn = true;
    t.push_back(s);
  }
  {
    auto s = k("DPM2 a", {"k_dpm_2_a"}, KSampler::DPM2Ancestral, "karras");
    s.discard_next_to_last_sigma = true;
    s.uses_ensd = true;
    s.second_order = true;
    s.takes_eta = true;
    t.push_back(s);
  }
  {
    auto s = timesteps("DDIM", {"ddim"}, TimestepSampler::DDIM);
    s.takes_eta = true;
    t.push_back(s);
  }
  t.push_back(timesteps("PLMS", {"plms"}, TimestepSampler::PLMS));
  for (auto& s : t) s.seed_matches_webui = !s.brownian_noise;
  return t;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

const SamplerInfo* find_sampler(const std::string& name) {
  const std::string key = lower(name);
  for (const auto& s : sampler_table()) {
    if (lower(s.name) == key) return &s;
    for (const auto& a : s.aliases)
      if (lower(a) == key) return &s;
  }
  return nullptr;
}

std::string sampler_names() {
  std::ostringstream out;
  bool first = true;
  for (const auto& s : sampler_table()) {
    out << (first ? "" : ", ") << s.name;
    first = false;
  }
  return out.str();
}

std::string scheduler_labels() {
  std::ostringstream out;
  bool first = true;
  for (const auto& s : schedulers()) {
    out << (first ? "" : ", ") << s.label;
    first = false;
  }
  return out.str();
}

}  // namespace

const std::vector<SamplerInfo>& sampler_table() {
  static const std::vector<SamplerInfo> table = build_table();
  return table;
}

ResolvedSampler resolve_sampler(const std::string& name, const std::string& scheduler) {
  const SchedulerInfo* found = find_scheduler(scheduler.empty() ? "automatic" : scheduler);
  if (!found) found = find_scheduler(lower(scheduler));
  SD_CHECK(found != nullptr, "unknown schedule type \"", scheduler, "\"; choose one of: ", scheduler_labels());
  // A schedule named at the end of the sampler name replaces it (webui
  // get_sampler_and_scheduler): "DPM++ 2M Karras".
  std::string base = name;
  for (const auto& s : schedulers()) {
    const char* options[] = {s.label, s.name, s.alias};
    for (const char* option : options) {
      if (!option) continue;
      const std::string suffix = std::string(" ") + option;
      if (ends_with(lower(base), lower(suffix))) {
        found = &s;
        base = base.substr(0, base.size() - suffix.size());
        break;
      }
    }
  }
  const SamplerInfo* sampler = find_sampler(base);
  SD_CHECK(sampler != nullptr, "unknown sampler \"", name, "\"; choose one of: ", sampler_names());
  ResolvedSampler r;
  r.sampler = sampler;
  if (std::string(found->name) == "automatic")
    found = find_scheduler(sampler->default_scheduler.empty() ? "uniform" : sampler->default_scheduler);
  r.scheduler = found;
  return r;
}

}  // namespace sd
