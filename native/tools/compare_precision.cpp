// sd-driver compare-precision MODEL: how far the fp32 path with Winograd 3x3
// convolutions (the default) and the bf16 mode (bf16 weights, bf16 products,
// fp32 accumulation) land from the direct fp32 sums on a real-size model:
// relative L2 of one UNet output and of a whole sampled latent.
#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "model/stable_diffusion.h"
#include "model/unet.h"
#include "pipeline/generate.h"
#include "text/clip_tokenizer.h"

namespace sd {

namespace {
double rel_l2(const Tensor& a, const Tensor& b) {
  double d2 = 0, r2 = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double d = a.data<float>()[i] - b.data<float>()[i];
    d2 += d * d;
    r2 += static_cast<double>(b.data<float>()[i]) * b.data<float>()[i];
  }
  return std::sqrt(d2 / r2);
}
}  // namespace

int compare_precision_main(int argc, char** argv) {
  if (argc < 1) {
    std::fprintf(stderr, "usage: sd-driver compare-precision MODEL [--unet-size PX] [--sample-size PX] [--steps N] [--vocab FILE]\n");
    return 2;
  }
  const std::string path = argv[0];
  int unet_size = 512, sample_size = 256, steps = 20;
  std::string vocab = "assets/bpe_simple_vocab_16e6.txt.gz";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--unet-size") unet_size = std::stoi(argv[i + 1]);
    else if (a == "--sample-size") sample_size = std::stoi(argv[i + 1]);
    else if (a == "--steps") steps = std::stoi(argv[i + 1]);
    else if (a == "--vocab") vocab = argv[i + 1];
    else fail("unknown option ", a);
  }
  const auto tokenizer = ClipTokenizer::load(vocab);
  EngineOptions direct, winograd, bf16;
  direct.weight_dtype = DType::F16;  // fp16 weights widened: fp32 products summed directly
  direct.winograd = false;
  winograd.weight_dtype = DType::F16;
  bf16.weight_dtype = DType::BF16;
  Tensor unet_out[3], latent[3];
  const EngineOptions* modes[3] = {&direct, &winograd, &bf16};
  const char* names[3] = {"direct fp32", "winograd fp32", "bf16"};
  for (int m = 0; m < 3; ++m) {
    StableDiffusion model(path, *modes[m]);
    const int64_t lat = unet_size / 8;
    Tensor x = Tensor::host({2, 4, lat, lat});
    std::mt19937 rng(7);
    std::normal_distribution<float> n(0.0f, 1.0f);
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = n(rng);
    const Tensor ctx = encode_prompt(model, *tokenizer, "a lighthouse at dusk, oil painting", 1, EmphasisMode::Original);
    Tensor ctx2 = Tensor::host({2, ctx.dim(1), ctx.dim(2)});
    for (int b = 0; b < 2; ++b) std::copy(ctx.data<float>(), ctx.data<float>() + ctx.numel(), ctx2.data<float>() + b * ctx.numel());
    unet_out[m] = model.unet().forward(x, {500.0f, 500.0f}, ctx2);
    GenerationRequest r;
    r.prompt = "a lighthouse at dusk, oil painting";
    r.width = r.height = sample_size;
    r.sampling.sampler = "Euler";
    r.sampling.steps = steps;
    r.seeds = {1234};
    latent[m] = generate(model, *tokenizer, r).latent;
    std::fprintf(stderr, "%s done\n", names[m]);
  }
  // Both against the direct sums, the path closest to PyTorch's.
  std::printf("{\"winograd_unet_%d_rel_l2\": %.6g, \"winograd_latent_%d_%dsteps_rel_l2\": %.6g, "
              "\"bf16_unet_%d_rel_l2\": %.6g, \"bf16_latent_%d_%dsteps_rel_l2\": %.6g}\n",
              unet_size, rel_l2(unet_out[1], unet_out[0]), sample_size, steps, rel_l2(latent[1], latent[0]), unet_size,
              rel_l2(unet_out[2], unet_out[0]), sample_size, steps, rel_l2(latent[2], latent[0]));
  return 0;
}

}  // namespace sd
