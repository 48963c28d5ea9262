// Element types the engine stores. Activations are computed in F32 on the CPU;
// F16/BF16 are storage formats for weights (and activations on CUDA).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sd {

enum class DType : uint8_t { F32, F16, BF16, F64, I64, I32, I16, I8, U8, Bool };

size_t dtype_size(DType t);
const char* dtype_name(DType t);  // safetensors spelling: "F32", "F16", ...
bool parse_dtype(const std::string& name, DType* out);
bool is_float(DType t);

// Converts `count` elements to float32; integer types are converted by value.
void convert_to_f32(DType src_type, const void* src, float* dst, size_t count);
// Converts float32 to a float storage type (F32, F16, BF16) with round-to-nearest-even.
void convert_from_f32(const float* src, DType dst_type, void* dst, size_t count);

}  // namespace sd
