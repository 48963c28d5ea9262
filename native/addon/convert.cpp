#include "addon/convert.h"

#include <cmath>
#include <cstring>

namespace sd_addon {

namespace {
sd::Shape shape_from_js(const Napi::Value& v, const char* what) {
  Napi::Env env = v.Env();
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string(what) + ": shape must be an array of integers");
  const Napi::Array a = v.As<Napi::Array>();
  sd::Shape s;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    const Napi::Value d = a.Get(i);
    const double x = d.IsNumber() ? d.As<Napi::Number>().DoubleValue() : -1;
    if (!(x >= 0) || std::floor(x) != x || x > 1e9)
      throw Napi::TypeError::New(env, std::string(what) + ": shape entries must be non-negative integers");
    s.push_back(static_cast<int64_t>(x));
  }
  if (s.size() > 8) throw Napi::TypeError::New(env, std::string(what) + ": too many dimensions");
  return s;
}
}  // namespace

sd::Tensor tensor_from_js(const Napi::Value& data, const Napi::Value& shape_value, sd::DType dtype, const char* what) {
  Napi::Env env = data.Env();
  const sd::Shape shape = shape_from_js(shape_value, what);
  napi_typedarray_type want = napi_float32_array;
  if (dtype == sd::DType::I32) want = napi_int32_array;
  if (dtype == sd::DType::U8) want = napi_uint8_array;
  if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != want) {
    const char* name = dtype == sd::DType::I32 ? "an Int32Array" : dtype == sd::DType::U8 ? "a Uint8Array" : "a Float32Array";
    throw Napi::TypeError::New(env, std::string(what) + " must be " + name);
  }
  const Napi::TypedArray arr = data.As<Napi::TypedArray>();
  if (static_cast<int64_t>(arr.ElementLength()) != sd::shape_numel(shape))
    throw Napi::TypeError::New(env, std::string(what) + ": " + std::to_string(arr.ElementLength()) +
                                        " values do not match the shape " + sd::shape_str(shape));
  sd::Tensor t = sd::Tensor::host(shape, dtype);
  const uint8_t* src = static_cast<const uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  std::memcpy(t.raw(), src, t.nbytes());
  return t;
}

Napi::Object tensor_to_js(Napi::Env env, const sd::Tensor& t) {
  Napi::Object o = Napi::Object::New(env);
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, t.nbytes());
  if (t.nbytes()) std::memcpy(buf.Data(), t.raw(), t.nbytes());
  switch (t.dtype()) {
    case sd::DType::F32: o.Set("data", Napi::Float32Array::New(env, static_cast<size_t>(t.numel()), buf, 0)); break;
    case sd::DType::I32: o.Set("data", Napi::Int32Array::New(env, static_cast<size_t>(t.numel()), buf, 0)); break;
    case sd::DType::U8: o.Set("data", Napi::Uint8Array::New(env, static_cast<size_t>(t.numel()), buf, 0)); break;
    default: throw Napi::Error::New(env, "internal: cannot return a tensor of this type");
  }
  Napi::Array shape = Napi::Array::New(env, t.shape().size());
  for (size_t i = 0; i < t.shape().size(); ++i) shape.Set(static_cast<uint32_t>(i), static_cast<double>(t.shape()[i]));
  o.Set("shape", shape);
  return o;
}

std::vector<float> floats_from_js(const Napi::Value& v, const char* what) {
  Napi::Env env = v.Env();
  std::vector<float> out;
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array) {
    const Napi::Float32Array a = v.As<Napi::Float32Array>();
    out.assign(a.Data(), a.Data() + a.ElementLength());
    return out;
  }
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string(what) + " must be an array of numbers");
  const Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    const Napi::Value x = a.Get(i);
    if (!x.IsNumber()) throw Napi::TypeError::New(env, std::string(what) + " must contain only numbers");
    out.push_back(x.As<Napi::Number>().FloatValue());
  }
  return out;
}

std::string string_option(const Napi::Object& o, const char* key, const std::string& fallback) {
  const Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

int int_option(const Napi::Object& o, const char* key, int fallback) {
  const Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a number");
  return v.As<Napi::Number>().Int32Value();
}

bool bool_option(const Napi::Object& o, const char* key, bool fallback) {
  const Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsBoolean()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

}  // namespace sd_addon
