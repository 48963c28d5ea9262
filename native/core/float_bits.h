// A float32's IEEE bits and back, without the undefined behaviour of a
// pointer or union cast.
#pragma once

#include <cstdint>
#include <cstring>

namespace sd {

inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

inline float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

}  // namespace sd
