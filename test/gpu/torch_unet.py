"""Plain-PyTorch SD 1.x UNet (CompVis openaimodel layout, SD 1.5 shapes) for
timing against sd-setup's CUDA engine on the same GPU. Random weights: only
the time per CFG step (batch 2) is measured. Attention uses
F.scaled_dot_product_attention, what current PyTorch (and the webui's
--opt-sdp-attention) runs. Usage: python3 torch_unet.py [--size 64] [--json FILE]
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def gn(c, eps=1e-5):
    return nn.GroupNorm(32, c, eps=eps)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, emb):
        super().__init__()
        self.in_layers = nn.Sequential(gn(cin), nn.SiLU(), nn.Conv2d(cin, cout, 3, padding=1))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb, cout))
        self.out_layers = nn.Sequential(gn(cout), nn.SiLU(), nn.Dropout(0), nn.Conv2d(cout, cout, 3, padding=1))
        self.skip = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x, emb):
        h = self.in_layers(x)
        h = h + self.emb_layers(emb)[:, :, None, None]
        return self.skip(x) + self.out_layers(h)


class Attention(nn.Module):
    def __init__(self, dim, ctx, heads):
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(ctx, dim, bias=False)
        self.to_v = nn.Linear(ctx, dim, bias=False)
        self.to_out = nn.Linear(dim, dim)

    def forward(self, x, context=None):
        context = x if context is None else context
        b, n, c = x.shape
        q, k, v = self.to_q(x), self.to_k(context), self.to_v(context)
        q, k, v = (t.view(b, -1, self.heads, c // self.heads).transpose(1, 2) for t in (q, k, v))
        o = F.scaled_dot_product_attention(q, k, v)
        return self.to_out(o.transpose(1, 2).reshape(b, n, c))


class Transformer(nn.Module):
    def __init__(self, c, ctx, heads):
        super().__init__()
        self.norm = gn(c, 1e-6)
        self.proj_in = nn.Conv2d(c, c, 1)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(c), nn.LayerNorm(c), nn.LayerNorm(c)
        self.attn1, self.attn2 = Attention(c, c, heads), Attention(c, ctx, heads)
        self.ff_in = nn.Linear(c, 8 * c)
        self.ff_out = nn.Linear(4 * c, c)
        self.proj_out = nn.Conv2d(c, c, 1)

    def forward(self, x, context):
        b, c, h, w = x.shape
        t = self.proj_in(self.norm(x)).permute(0, 2, 3, 1).reshape(b, h * w, c)
        t = self.attn1(self.norm1(t)) + t
        t = self.attn2(self.norm2(t), context) + t
        a, gate = self.ff_in(self.norm3(t)).chunk(2, dim=-1)
        t = self.ff_out(a * F.gelu(gate)) + t
        return self.proj_out(t.reshape(b, h, w, c).permute(0, 3, 1, 2)) + x


class UNet(nn.Module):
    def __init__(self, mc=320, mult=(1, 2, 4, 4), nres=2, attn=(4, 2, 1), heads=8, ctx=768):
        super().__init__()
        emb = 4 * mc
        self.mc = mc
        self.time_embed = nn.Sequential(nn.Linear(mc, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.inp = nn.ModuleList([nn.ModuleList([nn.Conv2d(4, mc, 3, padding=1)])])
        chans, ch, ds = [mc], mc, 1
        for i, m in enumerate(mult):
            for _ in range(nres):
                layers = [ResBlock(ch, m * mc, emb)]
                ch = m * mc
                if ds in attn:
                    layers.append(Transformer(ch, ctx, heads))
                self.inp.append(nn.ModuleList(layers))
                chans.append(ch)
            if i != len(mult) - 1:
                self.inp.append(nn.ModuleList([nn.Conv2d(ch, ch, 3, stride=2, padding=1)]))
                chans.append(ch)
                ds *= 2
        self.mid = nn.ModuleList([ResBlock(ch, ch, emb), Transformer(ch, ctx, heads), ResBlock(ch, ch, emb)])
        self.outp = nn.ModuleList()
        for i, m in list(enumerate(mult))[::-1]:
            for j in range(nres + 1):
                layers = [ResBlock(ch + chans.pop(), m * mc, emb)]
                ch = m * mc
                if ds in attn:
                    layers.append(Transformer(ch, ctx, heads))
                if i and j == nres:
                    layers.append(nn.Conv2d(ch, ch, 3, padding=1))
                    ds //= 2
                self.outp.append(nn.ModuleList(layers))
        self.out = nn.Sequential(gn(ch), nn.SiLU(), nn.Conv2d(ch, 4, 3, padding=1))

    def run(self, layers, h, emb, ctx):
        for layer in layers:
            if isinstance(layer, ResBlock):
                h = layer(h, emb)
            elif isinstance(layer, Transformer):
                h = layer(h, ctx)
            elif layer.stride == (2, 2):
                h = layer(h)
            elif layer.kernel_size == (3, 3) and layer is layers[-1] and len(layers) > 1:
                h = layer(F.interpolate(h, scale_factor=2, mode="nearest"))
            else:
                h = layer(h)
        return h

    def forward(self, x, t, ctx):
        half = self.mc // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32, device=x.device) / half)
        args = t[:, None].float() * freqs[None]
        emb = self.time_embed(torch.cat([torch.cos(args), torch.sin(args)], -1).to(x.dtype))
        hs, h = [], x
        for layers in self.inp:
            h = self.run(layers, h, emb, ctx)
            hs.append(h)
        h = self.run(self.mid, h, emb, ctx)
        for layers in self.outp:
            h = self.run(layers, torch.cat([h, hs.pop()], 1), emb, ctx)
        return self.out(h)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=64, help="latent side (64 = 512x512 pixels)")
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--json")
    a = p.parse_args()
    torch.backends.cudnn.benchmark = True
    dev = "cuda"
    model = UNet().to(dev, torch.float16).eval()
    params = sum(p.numel() for p in model.parameters())
    x = torch.randn(2, 4, a.size, a.size, device=dev, dtype=torch.float16)
    t = torch.tensor([999.0, 999.0], device=dev)
    ctx = torch.randn(2, 77, 768, device=dev, dtype=torch.float16)
    times = []
    with torch.inference_mode():
        for _ in range(3):
            model(x, t, ctx)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        for _ in range(a.reps):
            t0 = time.perf_counter()
            model(x, t, ctx)
            torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
    result = {
        "engine": f"pytorch {torch.__version__} fp16 eager, SDPA attention, cudnn.benchmark",
        "gpu": torch.cuda.get_device_name(),
        "params": params,
        "latent": a.size,
        "unet_cfg_step_s": statistics.median(times),
        "peak_memory_bytes": torch.cuda.max_memory_allocated(),
    }
    print(json.dumps(result))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f)


if __name__ == "__main__":
    main()
