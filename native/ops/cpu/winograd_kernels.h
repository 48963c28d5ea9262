// The per-instruction-set part of the Winograd convolution (its transforms),
// as gemm_kernels.h is for the GEMM: the driver in winograd.cpp picks the set
// of the GEMM kernel in use.
#pragma once

#include <cstdint>

namespace sd {

struct WinogradTransforms {
  // One tile: 36 input pixels (nullptr = zero padding) of `channels` floats ->
  // the 36 transformed rows at v + p * v_stride.
  void (*input_tile)(const float* const* pixels, int64_t channels, float* v, int64_t v_stride);
  // 9 taps of a weight panel slice (n values each, tap t at w + t * tap_stride)
  // -> the 6 transformed slices of point row `py` at u + px * u_stride.
  void (*weights_f32)(const float* w, int64_t tap_stride, int64_t n, int py, float* u, int64_t u_stride);
  void (*weights_f16)(const uint16_t* w, int64_t tap_stride, int64_t n, int py, float* u, int64_t u_stride);
  // One tile's 36 product rows (m + p * m_stride, `cols` floats) -> 16 output
  // pixels (out[i], nullptr past the image's edge), + bias + residual[i] when given.
  void (*output_tile)(const float* m, int64_t m_stride, int64_t cols, const float* bias, float* const* out,
                      const float* const* residual);
};

#ifdef SD_X86_KERNELS
const WinogradTransforms& winograd_transforms_avx512();  // isa/winograd_avx512.cpp
const WinogradTransforms& winograd_transforms_avx2();    // isa/winograd_avx2.cpp
#endif

}  // namespace sd
