#pragma once

#include <napi.h>

namespace sd_addon {

// Adds inspectCheckpoint() to the addon's exports.
void register_checkpoint_binding(Napi::Env env, Napi::Object exports);

}  // namespace sd_addon
