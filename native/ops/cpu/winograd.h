// 3x3 stride-1 convolutions by Winograd F(4x4, 3x3): 36 multiplications per
// 16 outputs instead of 144, so a quarter of the direct convolution's FLOPs,
// for the fp32 ("exact") path with the AVX-512 or AVX2 kernels. Its rounding
// is 2-4x the direct sum's (rel_l2 6.8e-6 from the direct path on a full-size
// UNet output, `sd-driver compare-precision`); SD_WINOGRAD=0 turns it off,
// SD_WINOGRAD=1 uses it for every shape it can do (tests), the default where
// it was measured faster.
#pragma once

#include "ops/cpu/gemm.h"

namespace sd {

// Whether this CPU and SD_WINOGRAD let any convolution take the Winograd path (reports).
bool winograd_enabled();
// Whether winograd_conv() will run this convolution (shape, weight type, CPU, SD_WINOGRAD).
bool winograd_applies(const ConvGeometry& g, const PackedWeight& b);
// Same contract as gemm_conv: c[(n, oy, ox), co] with the epilogue's bias and residual.
void winograd_conv(const float* input, const ConvGeometry& g, const PackedWeight& b, float* c,
                   const GemmEpilogue& epi);

}  // namespace sd
