#include "pipeline/image_convert.h"

#include <algorithm>

namespace sd {

Tensor image_to_uint8(const Tensor& image) {
  SD_CHECK(image.ndim() == 4 && image.dtype() == DType::F32, "image_to_uint8: expected F32 [B, C, H, W]");
  const int64_t b = image.dim(0), c = image.dim(1), h = image.dim(2), w = image.dim(3);
  Tensor out = Tensor::host({b, h, w, c}, DType::U8);
  const float* x = image.data<float>();
  uint8_t* y = out.data<uint8_t>();
  for (int64_t n = 0; n < b; ++n)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < h * w; ++p) {
        float v = (x[(n * c + ch) * h * w + p] + 1.0f) / 2.0f;
        v = std::min(1.0f, std::max(0.0f, v));
        y[(n * h * w + p) * c + ch] = static_cast<uint8_t>(255.0f * v);
      }
  return out;
}

Tensor uint8_to_image(const Tensor& pixels) {
  SD_CHECK(pixels.ndim() == 4 && pixels.dtype() == DType::U8, "uint8_to_image: expected U8 [B, H, W, C]");
  const int64_t b = pixels.dim(0), h = pixels.dim(1), w = pixels.dim(2), c = pixels.dim(3);
  Tensor out = Tensor::host({b, c, h, w});
  const uint8_t* x = pixels.data<uint8_t>();
  float* y = out.data<float>();
  for (int64_t n = 0; n < b; ++n)
    for (int64_t p = 0; p < h * w; ++p)
      for (int64_t ch = 0; ch < c; ++ch)
        y[(n * c + ch) * h * w + p] = static_cast<float>(x[(n * h * w + p) * c + ch]) / 255.0f * 2.0f - 1.0f;
  return out;
}

}  // namespace sd
