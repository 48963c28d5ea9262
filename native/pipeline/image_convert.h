// Conversions between the networks' float pictures and 8-bit RGB, exactly as
// AUTOMATIC1111 / CompVis do them, so the same latent gives the same PNG.
#pragma once

#include "core/tensor.h"

namespace sd {

// [B, C, H, W] float in ~[-1, 1] -> U8 [B, H, W, C]:
// uint8(trunc(255 * clamp((x + 1) / 2, 0, 1))) in float32 — truncation, not rounding.
Tensor image_to_uint8(const Tensor& image);

// U8 [B, H, W, C] -> [B, C, H, W] float = u8 / 255 * 2 - 1 (CompVis load_img, in float32).
Tensor uint8_to_image(const Tensor& pixels);

}  // namespace sd
