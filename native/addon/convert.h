// JS <-> engine value conversions shared by the bindings. All validation of
// shapes and types happens here (or in TS before), so a bad argument is a
// TypeError naming the argument, never a crash in the engine.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "core/tensor.h"

namespace sd_addon {

// A Float32Array (or Int32Array / Uint8Array for those dtypes) + shape -> host tensor (copied).
sd::Tensor tensor_from_js(const Napi::Value& data, const Napi::Value& shape, sd::DType dtype, const char* what);
// Host tensor -> {data: TypedArray, shape: number[]}.
Napi::Object tensor_to_js(Napi::Env env, const sd::Tensor& t);
std::vector<float> floats_from_js(const Napi::Value& v, const char* what);
std::string string_option(const Napi::Object& o, const char* key, const std::string& fallback);
int int_option(const Napi::Object& o, const char* key, int fallback);
bool bool_option(const Napi::Object& o, const char* key, bool fallback);

}  // namespace sd_addon
