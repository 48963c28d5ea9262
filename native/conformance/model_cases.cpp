// Conformance runners for the networks: text encoder, UNet, VAE.
#include <cstring>

#include "conformance/cases.h"
#include "model/stable_diffusion.h"
#include "model/unet.h"
#include "model/vae.h"
#include "pipeline/image_convert.h"

namespace sd {

namespace {

int clip_skip_of(const CaseContext& ctx) {
  const Json* p = ctx.find_param("clip_skip");
  return p ? static_cast<int>(p->as_int("clip_skip")) : 1;
}

// The case's single expected output, whatever the manifest calls it.
std::string only_output(const CaseContext& ctx) {
  const auto& outputs = ctx.spec().at("expected").as_object("expected");
  SD_CHECK(outputs.size() == 1, "case ", ctx.name(), " should expect exactly one output");
  return outputs.front().first;
}

std::vector<float> floats_of(const Tensor& t) {
  const Tensor f = t.clone_host(true);
  return std::vector<float>(f.data<float>(), f.data<float>() + f.numel());
}

}  // namespace

void run_text_encoder_case(CaseContext& ctx) {
  // input_ids [B, 77] I32 -> last_hidden_state [B, 77, hidden]
  const Tensor ids = ctx.input("input_ids");
  const Tensor out = ctx.resources().model().text_encoder().forward(ids, clip_skip_of(ctx));
  ctx.check(only_output(ctx), out);
}

void run_text_encoder_chunked_case(CaseContext& ctx) {
  // chunk_ids [n_chunks, 77]: each chunk encoded alone (batch 1), concatenated on the sequence axis.
  const Tensor chunks = ctx.input("chunk_ids");
  const int64_t n = chunks.dim(0), t = chunks.dim(1);
  CLIPTextModel& encoder = ctx.resources().model().text_encoder();
  Tensor out;
  for (int64_t i = 0; i < n; ++i) {
    const Tensor one = chunks.slice0(i, i + 1).clone_host();
    const Tensor z = encoder.forward(one, clip_skip_of(ctx));  // [1, 77, hidden]
    if (!out.defined()) out = Tensor::host({1, n * t, z.dim(2)});
    std::memcpy(out.data<float>() + i * t * z.dim(2), z.data<float>(), z.nbytes());
  }
  ctx.check(only_output(ctx), out);
}

void run_unet_case(CaseContext& ctx) {
  const Tensor eps = ctx.resources().model().unet().forward(ctx.input("x"), floats_of(ctx.input("timesteps")),
                                                            ctx.input("context"));
  ctx.check("eps", eps);
}

void run_vae_decode_case(CaseContext& ctx) {
  StableDiffusion& model = ctx.resources().model();
  Tensor z;
  if (ctx.has_input("latent")) {
    // decode_first_stage: a diffusion-space latent, scaled by 1/scale_factor (computed in double, applied in float).
    z = ctx.input("latent").clone_host(true);
    const float inv = static_cast<float>(1.0 / model.config().diffusion.scale_factor);
    for (int64_t i = 0; i < z.numel(); ++i) z.data<float>()[i] *= inv;
  } else {
    z = ctx.input("z").clone_host(true);
  }
  const Tensor image = model.vae().decode(z);
  ctx.check("image", image);
  if (ctx.has_expected("image_uint8")) ctx.check("image_uint8", image_to_uint8(image));
}

void run_vae_encode_case(CaseContext& ctx) {
  StableDiffusion& model = ctx.resources().model();
  const VAEMoments m = model.vae().encode(ctx.input("image"));
  ctx.check("mean", m.mean);
  ctx.check("logvar", m.logvar);
  Tensor latent = m.mean.clone_host();
  const float s = static_cast<float>(model.config().diffusion.scale_factor);
  for (int64_t i = 0; i < latent.numel(); ++i) latent.data<float>()[i] *= s;
  ctx.check("latent", latent);
}

}  // namespace sd
