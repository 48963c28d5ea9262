// Element-wise arithmetic on host float32 latents ([B, C, H, W], contiguous)
// for the samplers. Each call is one torch tensor operation of the reference
// code, rounded to float32 per element, so the samplers keep torch's order of
// operations; the latents are tiny next to the UNet, so plain loops do.
#pragma once

#include <cstdint>

#include <functional>

#include "core/tensor.h"
#include "sample/samplers.h"

namespace sd::latent {

inline Tensor empty_like(const Tensor& x) { return Tensor::host(x.shape(), DType::F32); }

inline void check_f32(const Tensor& x, const char* what) {
  SD_CHECK(x.defined() && x.dtype() == DType::F32 && x.device() == Device::CPU, what,
           " must be a host float32 tensor, got ", x.defined() ? x.describe() : std::string("nothing"));
}

inline void check_same_shape(const Tensor& a, const Tensor& b, const char* what) {
  SD_CHECK(a.shape() == b.shape(), what, ": shape ", shape_str(b.shape()), " does not match ", shape_str(a.shape()));
}

inline Tensor clone(const Tensor& x) { return x.clone_host(); }

// out[i] = f(a[i])
template <typename F>
Tensor map(const Tensor& a, F f) {
  check_f32(a, "latent");
  Tensor out = empty_like(a);
  const float* pa = a.data<float>();
  float* po = out.data<float>();
  const int64_t n = a.numel();
  for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i]);
  return out;
}

// out[i] = f(a[i], b[i])
template <typename F>
Tensor map(const Tensor& a, const Tensor& b, F f) {
  check_f32(a, "latent");
  check_f32(b, "latent");
  check_same_shape(a, b, "latent");
  Tensor out = empty_like(a);
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* po = out.data<float>();
  const int64_t n = a.numel();
  for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
  return out;
}

// out[i] = f(a[i], b[i], c[i])
template <typename F>
Tensor map(const Tensor& a, const Tensor& b, const Tensor& c, F f) {
  check_f32(c, "latent");
  check_same_shape(a, c, "latent");
  Tensor out = map(a, b, [](float x, float) { return x; });
  const float* pb = b.data<float>();
  const float* pc = c.data<float>();
  float* po = out.data<float>();
  const int64_t n = a.numel();
  for (int64_t i = 0; i < n; ++i) po[i] = f(po[i], pb[i], pc[i]);
  return out;
}

// Rows [begin, end) of the batch dimension as a copy.
inline Tensor rows(const Tensor& x, int64_t begin, int64_t end) { return x.slice0(begin, end).clone_host(); }

// Calls a model callback (a Denoiser or an EpsPredictor: both take x and one
// noise level) and checks what it returned, naming it (`what`) in errors.
inline Tensor call_checked(const std::function<Tensor(const Tensor&, float)>& model, const Tensor& x, float level,
                           const char* what) {
  Tensor out = model(x, level);
  check_f32(out, what);
  check_same_shape(x, out, what);
  return out;
}

// One step's report to the sampler's callback (if any).
inline void report_step(const StepCallback& callback, int i, int total, float level, const Tensor& x,
                        const Tensor& prediction) {
  if (!callback) return;
  SamplerStep step;
  step.index = i;
  step.total = total;
  step.sigma = level;
  step.x = &x;
  step.denoised = &prediction;
  callback(step);
}

}  // namespace sd::latent
