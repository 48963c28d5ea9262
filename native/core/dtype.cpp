#include "core/dtype.h"

#include <cstring>

#include "core/error.h"
#include "core/half.h"

namespace sd {

namespace {
struct DTypeInfo {
  DType type;
  const char* name;
  size_t size;
};
constexpr DTypeInfo kTypes[] = {
    {DType::F32, "F32", 4}, {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2}, {DType::F64, "F64", 8},
    {DType::I64, "I64", 8}, {DType::I32, "I32", 4}, {DType::I16, "I16", 2},   {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},   {DType::Bool, "BOOL", 1},
};
}  // namespace

size_t dtype_size(DType t) {
  for (const auto& info : kTypes)
    if (info.type == t) return info.size;
  fail("unknown dtype");
}

const char* dtype_name(DType t) {
  for (const auto& info : kTypes)
    if (info.type == t) return info.name;
  return "?";
}

bool parse_dtype(const std::string& name, DType* out) {
  for (const auto& info : kTypes) {
    if (name == info.name) {
      *out = info.type;
      return true;
    }
  }
  return false;
}

bool is_float(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16 || t == DType::F64; }

void convert_to_f32(DType src_type, const void* src, float* dst, size_t count) {
  switch (src_type) {
    case DType::F32:
      std::memcpy(dst, src, count * 4);
      return;
    case DType::F16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < count; ++i) dst[i] = half_to_float(s[i]);
      return;
    }
    case DType::BF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < count; ++i) dst[i] = bf16_to_float(s[i]);
      return;
    }
    case DType::F64: {
      const auto* s = static_cast<const double*>(src);
      for (size_t i = 0; i < count; ++i) dst[i] = static_cast<float>(s[i]);
      return;
    }
    case DType::I64: {
      const auto* s = static_cast<const int64_t*>(src);
      for (size_t i = 0; i < count; ++i) dst[i] = static_cast<float>(s[i]);
      return;
    }
    case DType::I32: {
      const auto* s = static_cast<const int32_t*>(src);
      for (size_t i = 0; i < count; ++i) dst[i] = static_cast<float>(s[i]);
      return;
    }
    case DType::I16: {
      const auto* s = static_cast<const int16_t*>(src);
      for (size_t i = 0; i < count; ++i) dst[i] = static_cast<float>(s[i]);
      return;
    }
    case DType::I8: {
      const auto* s = static_cast<const int8_t*>(src);
      for (size_t i = 0; i < count; ++i) dst[i] = static_cast<float>(s[i]);
      return;
    }
    case DType::U8:
    case DType::Bool: {
      const auto* s = static_cast<const uint8_t*>(src);
      for (size_t i = 0; i < count; ++i) dst[i] = static_cast<float>(s[i]);
      return;
    }
  }
  fail("convert_to_f32: unsupported dtype");
}

void convert_from_f32(const float* src, DType dst_type, void* dst, size_t count) {
  switch (dst_type) {
    case DType::F32:
      std::memcpy(dst, src, count * 4);
      return;
    case DType::F16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (size_t i = 0; i < count; ++i) d[i] = float_to_half(src[i]);
      return;
    }
    case DType::BF16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (size_t i = 0; i < count; ++i) d[i] = float_to_bf16(src[i]);
      return;
    }
    default:
      fail("convert_from_f32: ", dtype_name(dst_type), " is not a float storage type");
  }
}

}  // namespace sd
