#include "model/vae_blocks.h"

#include <cmath>
#include <utility>

namespace sd {

Tensor vae_resnet_block(Backend& backend, const Weights& w, Tensor x) {
  // With a projected shortcut, x is not needed after norm1: the shortcut goes
  // first so norm1 can overwrite x. At 512x512 the block that narrows 256
  // channels to 128 then peaks at 512 MiB instead of 640.
  Tensor skip;
  if (const DeviceWeight* s = w.optional("nin_shortcut.weight"))
    skip = backend.conv2d(x, *s, &w("nin_shortcut.bias"), Conv2dParams::same(1));
  Tensor h;
  if (skip.defined()) {
    h = backend.group_norm_consume(std::move(x), kVAEGroups, w("norm1.weight"), w("norm1.bias"), kVAENormEps, true);
  } else {
    h = backend.group_norm(x, kVAEGroups, w("norm1.weight"), w("norm1.bias"), kVAENormEps, true);
    skip = std::move(x);
  }
  h = backend.conv2d(h, w("conv1.weight"), &w("conv1.bias"), Conv2dParams::same(3));
  h = backend.group_norm_consume(std::move(h), kVAEGroups, w("norm2.weight"), w("norm2.bias"), kVAENormEps, true);
  return backend.conv2d(h, w("conv2.weight"), &w("conv2.bias"), Conv2dParams::same(3), &skip);
}

Tensor vae_attention_block(Backend& backend, const Weights& w, const Tensor& x) {
  const int64_t b = x.dim(0), hh = x.dim(1), ww = x.dim(2), c = x.dim(3);
  const Tensor h = backend.group_norm(x, kVAEGroups, w("norm.weight"), w("norm.bias"), kVAENormEps, false);
  const Tensor q = backend.conv2d(h, w("q.weight"), &w("q.bias"), Conv2dParams::same(1)).reshape({b, hh * ww, c});
  const Tensor k = backend.conv2d(h, w("k.weight"), &w("k.bias"), Conv2dParams::same(1)).reshape({b, hh * ww, c});
  const Tensor v = backend.conv2d(h, w("v.weight"), &w("v.bias"), Conv2dParams::same(1)).reshape({b, hh * ww, c});
  const Tensor a = backend.attention(q, k, v, 1, 1.0f / std::sqrt(static_cast<float>(c)), false).reshape({b, hh, ww, c});
  return backend.conv2d(a, w("proj_out.weight"), &w("proj_out.bias"), Conv2dParams::same(1), &x);
}

Tensor vae_decoder_stem(Backend& backend, const Weights& root, const Weights& dec, const Tensor& z,
                        const std::function<void()>& before_block) {
  const auto block_boundary = [&] {
    if (before_block) before_block();
  };
  Tensor h = backend.nchw_to_nhwc(backend.upload(z));
  h = backend.conv2d(h, root("post_quant_conv.weight"), &root("post_quant_conv.bias"), Conv2dParams::same(1));
  h = backend.conv2d(h, dec("conv_in.weight"), &dec("conv_in.bias"), Conv2dParams::same(3));
  block_boundary();
  h = vae_resnet_block(backend, dec.sub("mid.block_1."), std::move(h));
  block_boundary();
  h = vae_attention_block(backend, dec.sub("mid.attn_1."), h);
  block_boundary();
  return vae_resnet_block(backend, dec.sub("mid.block_2."), std::move(h));
}

}  // namespace sd
