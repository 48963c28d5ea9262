// The noise of the SDE samplers (DPM++ SDE, DPM++ 2M SDE, DPM++ 3M SDE): a
// Brownian motion W over [sigma_min, sigma_max], sampled lazily where the
// sampler asks (a Brownian bridge between the nearest known points), so that
// increments over overlapping intervals are consistent, as with k-diffusion's
// BrownianTreeNoiseSampler. Each new point takes one draw from the image RNG,
// so the result is reproducible per seed and independent of the batch.
//
// The webui builds this from torchsde's BrownianTree (a dyadic tree whose
// node seeds come from numpy's SeedSequence); this is a different, equally
// valid construction of the same process, so pictures from these samplers
// follow the same distribution but do not match the webui's for a given seed.
#pragma once

#include <map>

#include "sample/samplers.h"

namespace sd {

class BrownianNoise {
 public:
  BrownianNoise(double sigma_min, double sigma_max, NoiseFn draw);

  // (W(sigma_next) - W(sigma)) / sqrt(|sigma_next - sigma|): standard normal.
  Tensor operator()(float sigma, float sigma_next);

 private:
  const Tensor& at(double t);

  double t0_, t1_;
  NoiseFn draw_;
  std::map<double, Tensor> points_;
};

}  // namespace sd
