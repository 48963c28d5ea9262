// txt2img and img2img as AUTOMATIC1111's webui runs them: the prompt and
// negative prompt become conditionings (emphasis, 75-token chunks, clip skip),
// the sampler runs over the UNet with classifier-free guidance from per-image
// seeded noise, and the VAE turns the latents into 8-bit pictures.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "sample/noise_source.h"
#include "sample/sampling.h"
#include "text/emphasis.h"

namespace sd {

class StableDiffusion;
class ClipTokenizer;

struct GenerationRequest {
  std::string prompt;
  std::string negative_prompt;
  int width = 512;
  int height = 512;
  SamplingRequest sampling;      // sampler, schedule type, steps, eta, denoising strength
  float cfg_scale = 7.0f;
  std::vector<uint64_t> seeds;   // one per image: the batch size
  int clip_skip = 1;
  RngSource rng = RngSource::Gpu;
  EmphasisMode emphasis = EmphasisMode::Original;
  // img2img: U8 [1 or batch, height, width, 3], already fitted to the size.
  Tensor init_images;
  // > 0: decode in tiles of this many pixels (bounded device memory, same result).
  int vae_tile_pixels = 0;
  // txt2img: start from this noise (host F32 [batch, 4, h, w]) instead of the
  // seeds' first draw — for reproducing reference runs; later draws still
  // come from the seeds.
  Tensor initial_noise;
};

struct GenerationStep {
  int step = 0;   // 1-based, steps done
  int total = 0;
  const Tensor* denoised = nullptr;  // host F32 [B, 4, h, w]: the current prediction of the result
};

// What the caller asks of a running generation, checked between steps.
enum class StopRequest : int { None = 0, Interrupt = 1, Abort = 2 };

struct GenerationOutput {
  Tensor pixels;             // U8 [B, height, width, 3]
  Tensor latent;             // the final latent (diffusion space), host F32 [B, 4, h, w]
  bool interrupted = false;  // stopped early on request: the pictures decode the last prediction
  SamplingPlan plan;         // what ran (for the infotext)
};

// Runs one batch. Abort throws sd::Cancelled; Interrupt finishes early with
// the latest prediction, as the webui's Interrupt button does.
GenerationOutput generate(StableDiffusion& model, const ClipTokenizer& tokenizer, const GenerationRequest& request,
                          const std::function<void(const GenerationStep&)>& on_step = {},
                          const std::atomic<int>* stop = nullptr);

// A prompt's conditioning as the webui builds it: [1, 77 * chunks, hidden], host F32.
Tensor encode_prompt(StableDiffusion& model, const ClipTokenizer& tokenizer, const std::string& prompt, int clip_skip,
                     EmphasisMode emphasis);

}  // namespace sd
