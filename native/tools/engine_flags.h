// The engine flags every sd-driver benchmark command accepts, parsed in one
// place so that `bench` and `generate` measure the same configurations.
#pragma once

#include <functional>
#include <string>

#include "model/stable_diffusion.h"

namespace sd {

// --backend, --mode, --precision, --no-half, --vram-budget MB. Returns false
// when `flag` is none of them; `next_value` consumes the flag's argument.
bool parse_engine_flag(const std::string& flag, const std::function<std::string()>& next_value, EngineOptions& options);

}  // namespace sd
