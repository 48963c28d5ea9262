#include "tools/engine_flags.h"

namespace sd {

bool parse_engine_flag(const std::string& flag, const std::function<std::string()>& next_value, EngineOptions& options) {
  if (flag == "--backend") options.backend = next_value();
  else if (flag == "--mode") options.memory_mode = next_value();
  else if (flag == "--precision") options.weight_dtype = parse_weight_dtype(next_value());
  else if (flag == "--no-half") options.half_activations = false;
  else if (flag == "--vram-budget") options.device_budget_bytes = static_cast<size_t>(std::stoul(next_value())) << 20;
  else return false;
  return true;
}

}  // namespace sd
