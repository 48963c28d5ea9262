#pragma once

#include <napi.h>

namespace sd_addon {

// Adds loadModel() and the Model class to the addon's exports.
void register_model_binding(Napi::Env env, Napi::Object exports);

}  // namespace sd_addon
