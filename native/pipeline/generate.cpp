#include "pipeline/generate.h"

#include <cstring>

#include "core/host_allocator.h"
#include "model/block_hook.h"
#include "model/stable_diffusion.h"
#include "model/unet.h"
#include "model/vae.h"
#include "pipeline/image_convert.h"
#include "sample/guidance.h"
#include "sample/schedule.h"
#include "text/prompt_chunks.h"

namespace sd {

namespace {

// The UNet as the samplers see it; cancellation is checked between its blocks.
class UNetEps final : public EpsModel {
 public:
  UNetEps(UNetModel& unet, std::function<void()> check) : unet_(unet), check_(std::move(check)) {}
  Tensor eps(const Tensor& x, const std::vector<float>& t, const Tensor& context) override {
    const BlockHook hook(unet_.between_blocks, check_);
    return unet_.forward(x, t, context);
  }

 private:
  UNetModel& unet_;
  std::function<void()> check_;
};

// Thrown from the step callback to stop sampling but keep the latest prediction.
struct InterruptSampling {};

Tensor repeat_rows(const Tensor& one, int64_t n) {
  Shape s = one.shape();
  s[0] = n;
  Tensor out = Tensor::host(s);
  for (int64_t i = 0; i < n; ++i) std::memcpy(out.data<float>() + i * one.numel(), one.data<float>(), one.nbytes());
  return out;
}

}  // namespace

Tensor encode_prompt(StableDiffusion& model, const ClipTokenizer& tokenizer, const std::string& prompt, int clip_skip,
                     EmphasisMode emphasis) {
  PromptOptions options;
  options.emphasis = emphasis;
  const PromptTokens tokens = tokenize_prompt(tokenizer, prompt, options);
  const int64_t chunks = static_cast<int64_t>(tokens.chunks.size());
  const std::vector<int32_t> flat = tokens.flat_ids();
  Tensor ids = Tensor::host({chunks, ClipTokenizer::kContextLength}, DType::I32);
  std::memcpy(ids.raw(), flat.data(), flat.size() * 4);
  Tensor z = model.text_encoder().forward(ids, clip_skip);  // [chunks, 77, hidden]
  apply_emphasis(z, tokens.flat_weights(), emphasis);
  return z.reshape({1, chunks * ClipTokenizer::kContextLength, z.dim(2)});
}

GenerationOutput generate(StableDiffusion& model, const ClipTokenizer& tokenizer, const GenerationRequest& request,
                          const std::function<void(const GenerationStep&)>& on_step, const std::atomic<int>* stop) {
  const ModelConfig& cfg = model.config();
  const int64_t batch = static_cast<int64_t>(request.seeds.size());
  SD_CHECK(batch >= 1, "no seeds: a generation needs one seed per image");
  SD_CHECK(request.width % 8 == 0 && request.height % 8 == 0 && request.width >= 64 && request.height >= 64,
           "width and height must be multiples of 8, at least 64 (got ", request.width, "x", request.height, ")");
  const auto abort_check = [stop] {
    if (stop && stop->load() == static_cast<int>(StopRequest::Abort)) throw Cancelled();
  };
  const bool img2img = request.init_images.defined();
  const NoiseSchedule schedule(cfg.diffusion.timesteps, cfg.diffusion.linear_start, cfg.diffusion.linear_end);
  GenerationOutput out;
  out.plan = plan_sampling(request.sampling, schedule, img2img);

  abort_check();
  Guidance guidance;
  guidance.scale = request.cfg_scale;
  guidance.cond = repeat_rows(encode_prompt(model, tokenizer, request.prompt, request.clip_skip, request.emphasis), batch);
  guidance.uncond =
      repeat_rows(encode_prompt(model, tokenizer, request.negative_prompt, request.clip_skip, request.emphasis), batch);
  // cond and uncond in one UNet batch in every mode: in lowvram each UNet call
  // streams all weights once, so two half-size calls would cost twice the uploads.
  guidance.one_batch = true;

  const int64_t lh = request.height / 8, lw = request.width / 8;
  ImageRNG rng(request.rng, {cfg.unet.in_channels, lh, lw}, request.seeds);
  UNetEps eps(model.unet(), abort_check);
  Tensor last_denoised;
  const StepCallback callback = [&](const SamplerStep& s) {
    if (s.denoised) last_denoised = s.denoised->clone_host();
    if (on_step) on_step({s.index + 1, s.total, s.denoised});
    if (stop) {
      const int request_now = stop->load();
      if (request_now == static_cast<int>(StopRequest::Abort)) throw Cancelled();
      if (request_now == static_cast<int>(StopRequest::Interrupt) && s.index + 1 < s.total) throw InterruptSampling{};
    }
  };

  Tensor latent;
  try {
    if (img2img) {
      const Tensor& init = request.init_images;
      SD_CHECK(init.ndim() == 4 && init.dim(1) == request.height && init.dim(2) == request.width && init.dim(3) == 3 &&
                   (init.dim(0) == 1 || init.dim(0) == batch),
               "img2img: the init image must be fitted to ", request.width, "x", request.height, " RGB first");
      const VAEMoments m = model.vae().encode(uint8_to_image(init));  // posterior mean, as the fixtures' reference
      Tensor init_latent = m.mean.clone_host();
      const float s = static_cast<float>(cfg.diffusion.scale_factor);
      for (int64_t i = 0; i < init_latent.numel(); ++i) init_latent.data<float>()[i] *= s;
      if (init_latent.dim(0) != batch) init_latent = repeat_rows(init_latent, batch);
      latent = sample_img2img(out.plan, eps, guidance, schedule, init_latent, rng, callback);
    } else if (request.initial_noise.defined()) {
      SD_CHECK(request.initial_noise.shape() == Shape({batch, cfg.unet.in_channels, lh, lw}), "initial noise must be [",
               batch, ", ", cfg.unet.in_channels, ", ", lh, ", ", lw, "], got ", request.initial_noise.describe());
      rng.next();  // the seeds' own first draw is replaced, so later draws stay where the webui has them
      latent = run_sampler(out.plan, eps, guidance, schedule, txt2img_start(out.plan, request.initial_noise),
                           [&rng] { return rng.next(); }, callback);
    } else {
      latent = sample_txt2img(out.plan, eps, guidance, schedule, rng, callback);
    }
  } catch (const InterruptSampling&) {
    SD_CHECK(last_denoised.defined(), "interrupted before the first step finished");
    latent = last_denoised;
    out.interrupted = true;
  }

  abort_check();
  out.latent = latent;
  // The sampler's activations stay cached for the next step; the VAE needs
  // other sizes, so hand that memory back before it allocates its own.
  host_trim();
  Tensor z = latent.clone_host();
  const float inv = static_cast<float>(1.0 / cfg.diffusion.scale_factor);
  for (int64_t i = 0; i < z.numel(); ++i) z.data<float>()[i] *= inv;
  const BlockHook hook(model.vae().between_blocks, abort_check);
  out.pixels = image_to_uint8(model.vae().decode(z, request.vae_tile_pixels));
  return out;
}

}  // namespace sd
