#!/usr/bin/env python3
"""Independent float64 reference for the samplers (plain Python, no numpy/torch).

Writes test/native/data/sampler_oracle.json: sampling specs for
`sd-driver sample --spec` (native/sample/sample_spec.h) with the latents this
script computes for them. The C++ samplers run in float32 through an analytic
UNet (eps of Gaussian data, k-diffusion's CompVisDenoiser scaling, the webui's
CFG); here the same algorithms are written directly from k-diffusion's
sampling.py (ab527a9), CompVis' DDIM/PLMS and the webui's sd_samplers_*
modules, with the exact Gaussian denoiser
    D(x; sigma) = (v x + sigma^2 mu) / (v + sigma^2)
and classifier-free guidance D = D_u + s (D_c - D_u).

Regenerate with:  python3 scripts/sampler_oracle.py
"""

import json
import math
import os
import random

T = 1000


# ---- schedules ---------------------------------------------------------------

def alphas_cumprod():
    a, b = math.sqrt(0.00085), math.sqrt(0.012)
    out, prod = [], 1.0
    for i in range(T):
        root = a + (b - a) * i / (T - 1)
        prod *= 1.0 - root * root
        out.append(prod)
    return out


AC = alphas_cumprod()
MODEL_SIGMAS = [math.sqrt((1 - a) / a) for a in AC]
LOG_SIGMAS = [math.log(s) for s in MODEL_SIGMAS]


def linspace(a, b, n):
    if n == 1:
        return [a]
    return [a + (b - a) * i / (n - 1) for i in range(n)]


def t_to_sigma(t):
    lo, hi = math.floor(t), math.ceil(t)
    w = t - lo
    return math.exp((1 - w) * LOG_SIGMAS[lo] + w * LOG_SIGMAS[hi])


def sigmas_uniform(n):
    return [t_to_sigma(t) for t in linspace(T - 1, 0, n)] + [0.0]


def sigmas_karras(n, rho=7.0):
    lo, hi = MODEL_SIGMAS[0] ** (1 / rho), MODEL_SIGMAS[-1] ** (1 / rho)
    return [(hi + r * (lo - hi)) ** rho for r in linspace(0, 1, n)] + [0.0]


def sigmas_exponential(n):
    return [math.exp(v) for v in linspace(math.log(MODEL_SIGMAS[-1]), math.log(MODEL_SIGMAS[0]), n)] + [0.0]


SCHEDULES = {'Uniform': sigmas_uniform, 'Karras': sigmas_karras, 'Exponential': sigmas_exponential}


def webui_sigmas(scheduler, steps, discard):
    s = SCHEDULES[scheduler](steps + (1 if discard else 0))
    if discard:
        s = s[:-2] + s[-1:]
    return s


# ---- vectors -------------------------------------------------------------------

def lin(*terms):
    """sum of coefficient * vector"""
    n = len(terms[0][1])
    return [sum(c * v[i] for c, v in terms) for i in range(n)]


def sigma_to_t(sigma):
    ls = math.log(sigma)
    low = 0
    for i, v in enumerate(LOG_SIGMAS):
        if v <= ls:
            low = i
    low = min(low, T - 2)
    w = (LOG_SIGMAS[low] - ls) / (LOG_SIGMAS[low] - LOG_SIGMAS[low + 1])
    w = min(max(w, 0.0), 1.0)
    return (1 - w) * low + w * (low + 1)


class Model:
    """The webui's CFG over k-diffusion's CompVisDenoiser over an exact Gaussian eps model.

    Inside the schedule's range this is D(x; sigma) = (v x + sigma^2 mu) / (v + sigma^2);
    beyond sigma_max (Euler/Heun churn) the UNet only knows t = 999, as in the reference."""

    def __init__(self, mu_c, mu_u, var, scale):
        self.mu_c, self.mu_u, self.var, self.scale = mu_c, mu_u, var, scale
        self.calls = 0

    def _eps_vp(self, x_in, a, mu):
        return [math.sqrt(1 - a) * (xi - math.sqrt(a) * m) / (a * self.var + 1 - a) for xi, m in zip(x_in, mu)]

    def _d(self, x, sigma, mu):
        c_in = 1 / math.sqrt(sigma * sigma + 1)
        s_t = t_to_sigma(sigma_to_t(sigma))
        a = 1 / (1 + s_t * s_t)
        eps = self._eps_vp([v * c_in for v in x], a, mu)
        return [xi - sigma * e for xi, e in zip(x, eps)]

    def denoise(self, x, sigma):
        self.calls += 1
        dc, du = self._d(x, sigma, self.mu_c), self._d(x, sigma, self.mu_u)
        return [u + self.scale * (c - u) for c, u in zip(dc, du)]

    def eps(self, x, t):
        self.calls += 1
        a = AC[int(t)]
        ec, eu = self._eps_vp(x, a, self.mu_c), self._eps_vp(x, a, self.mu_u)
        return [u + self.scale * (c - u) for c, u in zip(ec, eu)]


class Draws:
    def __init__(self, draws):
        self.draws, self.used = draws, 0

    def __call__(self):
        d = self.draws[self.used]
        self.used += 1
        return d


class Brownian:
    """W on [lo, hi]: W(lo) = 0, W(hi) ~ sqrt(hi - lo) z, Brownian bridge for new points."""

    def __init__(self, lo, hi, draw):
        self.lo, self.hi, self.draw, self.points = lo, hi, draw, {}

    def at(self, t):
        t = min(max(t, self.lo), self.hi)
        if t in self.points:
            return self.points[t]
        if not self.points:
            z = self.draw()
            self.points[self.lo] = [0.0] * len(z)
            self.points[self.hi] = [math.sqrt(self.hi - self.lo) * v for v in z]
            if t in self.points:
                return self.points[t]
        l = max(p for p in self.points if p < t)
        r = min(p for p in self.points if p > t)
        w = (t - l) / (r - l)
        sd = math.sqrt((t - l) * (r - t) / (r - l))
        z = self.draw()
        wl, wr = self.points[l], self.points[r]
        self.points[t] = [a + (b - a) * w + sd * v for a, b, v in zip(wl, wr, z)]
        return self.points[t]

    def __call__(self, sigma, sigma_next):
        wa = self.at(sigma)
        wb = self.at(sigma_next)
        return [(b - a) / math.sqrt(abs(sigma_next - sigma)) for a, b in zip(wa, wb)]


# ---- k-diffusion ------------------------------------------------------------------

def to_d(x, sigma, den):
    return [(a - b) / sigma for a, b in zip(x, den)]


def ancestral(s_from, s_to, eta):
    if not eta:
        return s_to, 0.0
    up = min(s_to, eta * math.sqrt(s_to ** 2 * (s_from ** 2 - s_to ** 2) / s_from ** 2))
    return math.sqrt(s_to ** 2 - up ** 2), up


def euler(m, x, s, o, noise):
    for i in range(len(s) - 1):
        gamma = min(o['s_churn'] / (len(s) - 1), 2 ** 0.5 - 1) if o['s_tmin'] <= s[i] <= o['s_tmax'] else 0.0
        if o['s_churn'] > 0:
            eps = [v * o['s_noise'] for v in noise()]
        hat = s[i] * (gamma + 1)
        if gamma > 0:
            x = lin((1, x), (math.sqrt(hat ** 2 - s[i] ** 2), eps))
        d = to_d(x, hat, m.denoise(x, hat))
        x = lin((1, x), (s[i + 1] - hat, d))
    return x


def heun(m, x, s, o, noise):
    for i in range(len(s) - 1):
        d = to_d(x, s[i], m.denoise(x, s[i]))
        dt = s[i + 1] - s[i]
        if s[i + 1] == 0:
            x = lin((1, x), (dt, d))
        else:
            x2 = lin((1, x), (dt, d))
            d2 = to_d(x2, s[i + 1], m.denoise(x2, s[i + 1]))
            x = lin((1, x), (dt / 2, d), (dt / 2, d2))
    return x


def dpm2(m, x, s, o, noise):
    for i in range(len(s) - 1):
        d = to_d(x, s[i], m.denoise(x, s[i]))
        if s[i + 1] == 0:
            x = lin((1, x), (s[i + 1] - s[i], d))
        else:
            mid = math.exp((math.log(s[i]) + math.log(s[i + 1])) / 2)
            x2 = lin((1, x), (mid - s[i], d))
            d2 = to_d(x2, mid, m.denoise(x2, mid))
            x = lin((1, x), (s[i + 1] - s[i], d2))
    return x


def euler_a(m, x, s, o, noise):
    for i in range(len(s) - 1):
        den = m.denoise(x, s[i])
        down, up = ancestral(s[i], s[i + 1], o['eta'])
        x = lin((1, x), (down - s[i], to_d(x, s[i], den)))
        if s[i + 1] > 0 and o['eta']:
            x = lin((1, x), (o['s_noise'] * up, noise()))
    return x


def dpm2_a(m, x, s, o, noise):
    for i in range(len(s) - 1):
        den = m.denoise(x, s[i])
        down, up = ancestral(s[i], s[i + 1], o['eta'])
        d = to_d(x, s[i], den)
        if down == 0:
            x = lin((1, x), (down - s[i], d))
        else:
            mid = math.exp((math.log(s[i]) + math.log(down)) / 2)
            x2 = lin((1, x), (mid - s[i], d))
            d2 = to_d(x2, mid, m.denoise(x2, mid))
            x = lin((1, x), (down - s[i], d2))
            if o['eta']:
                x = lin((1, x), (o['s_noise'] * up, noise()))
    return x


def lms_coeff(order, t, i, j):
    # Exact integral of the Lagrange basis polynomial j: expand to coefficients.
    poly = [1.0]  # ascending powers
    for k in range(order):
        if k == j:
            continue
        den = t[i - j] - t[i - k]
        poly = [((poly[p - 1] if p > 0 else 0.0) - t[i - k] * (poly[p] if p < len(poly) else 0.0)) / den
                for p in range(len(poly) + 1)]
    def prim(x):
        return sum(c * x ** (p + 1) / (p + 1) for p, c in enumerate(poly))
    return prim(t[i + 1]) - prim(t[i])


def lms(m, x, s, o, noise, order=4):
    ds = []
    for i in range(len(s) - 1):
        ds.append(to_d(x, s[i], m.denoise(x, s[i])))
        ds = ds[-order:]
        cur = min(i + 1, order)
        x = lin((1, x), *[(lms_coeff(cur, s, i, j), ds[-1 - j]) for j in range(cur)])
    return x


def dpmpp_2s_a(m, x, s, o, noise):
    for i in range(len(s) - 1):
        den = m.denoise(x, s[i])
        down, up = ancestral(s[i], s[i + 1], o['eta'])
        if down == 0:
            x = lin((1, x), (down - s[i], to_d(x, s[i], den)))
        else:
            t, tn = -math.log(s[i]), -math.log(down)
            h = tn - t
            sm = t + h / 2
            x2 = lin((math.exp(-sm) / math.exp(-t), x), (-math.expm1(-h / 2), den))
            den2 = m.denoise(x2, math.exp(-sm))
            x = lin((math.exp(-tn) / math.exp(-t), x), (-math.expm1(-h), den2))
        if s[i + 1] > 0 and o['eta']:
            x = lin((1, x), (o['s_noise'] * up, noise()))
    return x


def dpmpp_2m(m, x, s, o, noise):
    old = None
    for i in range(len(s) - 1):
        den = m.denoise(x, s[i])
        if s[i + 1] == 0:
            x = list(den)  # sigma_next / sigma = 0 and expm1(-inf) = -1
        else:
            h = math.log(s[i]) - math.log(s[i + 1])
            if old is None:
                dd = den
            else:
                r = (math.log(s[i - 1]) - math.log(s[i])) / h
                dd = lin((1 + 1 / (2 * r), den), (-1 / (2 * r), old))
            x = lin((s[i + 1] / s[i], x), (-math.expm1(-h), dd))
        old = den
    return x


def positive_range(s):
    pos = [v for v in s if v > 0]
    return min(pos), max(s)


def dpmpp_sde(m, x, s, o, noise):
    eta = o['eta']
    bt = Brownian(*positive_range(s), noise) if eta else None
    for i in range(len(s) - 1):
        den = m.denoise(x, s[i])
        if s[i + 1] == 0:
            x = lin((1, x), (s[i + 1] - s[i], to_d(x, s[i], den)))
            continue
        t, tn = -math.log(s[i]), -math.log(s[i + 1])
        h = tn - t
        sm = t + h / 2
        down, up = ancestral(s[i], math.exp(-sm), eta)
        s_ = -math.log(down)
        x2 = lin((down / s[i], x), (-math.expm1(t - s_), den))
        if bt:
            x2 = lin((1, x2), (o['s_noise'] * up, bt(s[i], math.exp(-sm))))
        den2 = m.denoise(x2, math.exp(-sm))
        down, up = ancestral(s[i], s[i + 1], eta)
        tn_ = -math.log(down)
        x = lin((down / s[i], x), (-math.expm1(t - tn_), den2))
        if bt:
            x = lin((1, x), (o['s_noise'] * up, bt(s[i], s[i + 1])))
    return x


def dpmpp_2m_sde(m, x, s, o, noise, heun=False):
    eta = o['eta']
    bt = Brownian(*positive_range(s), noise) if eta else None
    old, h_last = None, None
    for i in range(len(s) - 1):
        den = m.denoise(x, s[i])
        h = h_last
        if s[i + 1] == 0:
            x = list(den)
        else:
            h = math.log(s[i]) - math.log(s[i + 1])
            eh = eta * h
            phi = -math.expm1(-h - eh)
            x = lin((s[i + 1] / s[i] * math.exp(-eh), x), (phi, den))
            if old is not None:
                r = h_last / h
                c = (phi / (-h - eh) + 1) / r if heun else 0.5 * phi / r
                x = lin((1, x), (c, den), (-c, old))
            if bt:
                x = lin((1, x), (s[i + 1] * math.sqrt(-math.expm1(-2 * eh)) * o['s_noise'], bt(s[i], s[i + 1])))
        old, h_last = den, h
    return x


def dpmpp_3m_sde(m, x, s, o, noise):
    eta = o['eta']
    bt = Brownian(*positive_range(s), noise) if eta else None
    d1 = d2 = None
    h1 = h2 = None
    for i in range(len(s) - 1):
        den = m.denoise(x, s[i])
        h = h1
        if s[i + 1] == 0:
            x = list(den)
        else:
            h = math.log(s[i]) - math.log(s[i + 1])
            he = h * (eta + 1)
            x = lin((math.exp(-he), x), (-math.expm1(-he), den))
            if h2 is not None:
                r0, r1 = h1 / h, h2 / h
                d1_0 = [(a - b) / r0 for a, b in zip(den, d1)]
                d1_1 = [(a - b) / r1 for a, b in zip(d1, d2)]
                dd1 = [a + (a - b) * r0 / (r0 + r1) for a, b in zip(d1_0, d1_1)]
                dd2 = [(a - b) / (r0 + r1) for a, b in zip(d1_0, d1_1)]
                phi2 = math.expm1(-he) / he + 1
                phi3 = phi2 / he - 0.5
                x = lin((1, x), (phi2, dd1), (-phi3, dd2))
            elif h1 is not None:
                r = h1 / h
                phi2 = math.expm1(-he) / he + 1
                x = lin((1, x), (phi2 / r, den), (-phi2 / r, d1))
            if bt:
                x = lin((1, x), (s[i + 1] * math.sqrt(-math.expm1(-2 * h * eta)) * o['s_noise'], bt(s[i], s[i + 1])))
        d1, d2 = den, d1
        h1, h2 = h, h1
    return x


K_SAMPLERS = {
    'Euler': (euler, 'Uniform', False),
    'Euler a': (euler_a, 'Uniform', False),
    'Heun': (heun, 'Uniform', False),
    'DPM2': (dpm2, 'Karras', True),
    'DPM2 a': (dpm2_a, 'Karras', True),
    'LMS': (lms, 'Uniform', False),
    'DPM++ 2S a': (dpmpp_2s_a, 'Karras', False),
    'DPM++ 2M': (dpmpp_2m, 'Karras', False),
    'DPM++ SDE': (dpmpp_sde, 'Karras', False),
    'DPM++ 2M SDE': (dpmpp_2m_sde, 'Exponential', False),
    'DPM++ 2M SDE Heun': (lambda *a: dpmpp_2m_sde(*a, heun=True), 'Exponential', False),
    'DPM++ 3M SDE': (dpmpp_3m_sde, 'Exponential', True),
}


# ---- DDIM / PLMS --------------------------------------------------------------------

def ddim_timesteps(steps):
    c = T // steps
    return [min(t + 1, T - 1) for t in range(0, T, c)]


def ddim_step(x, e, ts, index, eta, z):
    a = AC[ts[index]]
    ap = AC[ts[index - 1]] if index > 0 else AC[0]
    sig = eta * math.sqrt((1 - ap) / (1 - a) * (1 - a / ap))
    pred = [(xi - math.sqrt(1 - a) * ei) / math.sqrt(a) for xi, ei in zip(x, e)]
    out = [math.sqrt(ap) * p + math.sqrt(1 - ap - sig * sig) * ei for p, ei in zip(pred, e)]
    if z is not None:
        out = [v + sig * zi for v, zi in zip(out, z)]
    return out


def ddim(m, x, ts, first, stop, eta, noise):
    for index in range(first, stop - 1, -1):
        e = m.eps(x, ts[index])
        x = ddim_step(x, e, ts, index, eta, noise() if eta else None)
    return x


def plms(m, x, ts, first, stop):
    old = []
    for index in range(first, stop - 1, -1):
        e = m.eps(x, ts[index])
        if not old:
            xn = ddim_step(x, e, ts, index, 0.0, None)
            en = m.eps(xn, ts[max(index - 1, 0)])
            ep = [(a + b) / 2 for a, b in zip(e, en)]
        elif len(old) == 1:
            ep = [(3 * a - b) / 2 for a, b in zip(e, old[-1])]
        elif len(old) == 2:
            ep = [(23 * a - 16 * b + 5 * c) / 12 for a, b, c in zip(e, old[-1], old[-2])]
        else:
            ep = [(55 * a - 59 * b + 37 * c - 9 * d) / 24 for a, b, c, d in zip(e, old[-1], old[-2], old[-3])]
        x = ddim_step(x, ep, ts, index, 0.0, None)
        old = (old + [e])[-3:]
    return x


# ---- cases ----------------------------------------------------------------------------

def gaussians(rng, n):
    return [rng.gauss(0.0, 1.0) for _ in range(n)]


def make_case(name, rng, sampler, steps, *, scheduler=None, eta=None, mode='txt2img', strength=0.75,
              webui_ts=True, s_churn=0.0, batch=1, n=6, cfg=3.0):
    per = n
    mu_c = [rng.uniform(-1, 1) for _ in range(per)]
    mu_u = [rng.uniform(-0.5, 0.5) for _ in range(per)]
    var = 0.3
    noise0 = gaussians(rng, per * batch)
    extra = [gaussians(rng, per * batch) for _ in range(200)]
    init = [rng.uniform(-1.5, 1.5) for _ in range(per * batch)] if mode == 'img2img' else None
    spec = {'shape': [batch, 1, 1, per], 'mode': mode, 'sampler': sampler, 'steps': steps,
            'model': {'mu_cond': mu_c, 'mu_uncond': mu_u, 'variance': var, 'cfg_scale': cfg},
            'noise': noise0, 'extra_noise': extra, 'webui_timestep_samplers': webui_ts}
    if scheduler:
        spec['scheduler'] = scheduler
    if eta is not None:
        spec['eta'] = eta
    if s_churn:
        spec['s_churn'] = s_churn
    if mode == 'img2img':
        spec['init_latent'] = init
        spec['denoising_strength'] = strength

    model = Model(mu_c, mu_u, var, cfg)
    latents = []
    draws_used = 0
    for b in range(batch):
        # The samplers act per element, so each image is independent; but the
        # noise draws are shared batch tensors: image b takes its slice.
        draws = Draws([d[b * per:(b + 1) * per] for d in extra])
        x0 = noise0[b * per:(b + 1) * per]
        model.calls = 0
        if sampler in ('DDIM', 'PLMS'):
            steps_full = steps
            ts = ddim_timesteps(steps_full)
            e = 0.0 if eta is None else eta
            stop = 1 if webui_ts else 0
            if mode == 'img2img':
                t_enc = int(min(strength, 0.999) * steps)
                a = AC[ts[t_enc]]
                x = [math.sqrt(a) * i + math.sqrt(1 - a) * z for i, z in zip(init[b * per:(b + 1) * per], x0)]
                first = t_enc - 1
            else:
                x, first = list(x0), len(ts) - 1
            x = plms(model, x, ts, first, stop) if sampler == 'PLMS' else ddim(model, x, ts, first, stop, e, draws)
        else:
            fn, default_sched, discard = K_SAMPLERS[sampler]
            s = webui_sigmas(scheduler or default_sched, steps, discard)
            if mode == 'img2img':
                t_enc = int(min(strength, 0.999) * steps)
                s = s[steps - t_enc - 1:]
                x = [i + z * s[0] for i, z in zip(init[b * per:(b + 1) * per], x0)]
            else:
                x = [z * s[0] for z in x0]
            o = {'eta': 1.0 if eta is None else eta, 's_noise': 1.0, 's_churn': s_churn, 's_tmin': 0.0,
                 's_tmax': float('inf')}
            x = fn(model, x, s, o, draws)
        latents.extend(x)
        draws_used = draws.used
    spec['extra_noise'] = extra[:draws_used]  # exactly the draws the sampler takes
    return {'name': name, 'spec': spec, 'expected_latent': latents, 'expected_model_calls': model.calls,
            'expected_draws': draws_used}


def main():
    rng = random.Random(20240611)
    cases = []
    for sampler in K_SAMPLERS:
        cases.append(make_case(f'{sampler} 8 steps', rng, sampler, 8))
    cases.append(make_case('Euler a eta 0.5', rng, 'Euler a', 10, eta=0.5))
    cases.append(make_case('Euler a batch 2', rng, 'Euler a', 6, batch=2))
    cases.append(make_case('DPM++ 2M SDE batch 2', rng, 'DPM++ 2M SDE', 6, batch=2))
    cases.append(make_case('Euler churn 1.5', rng, 'Euler', 8, s_churn=1.5))
    cases.append(make_case('DPM++ 2M uniform 12 steps', rng, 'DPM++ 2M', 12, scheduler='Uniform'))
    cases.append(make_case('LMS karras 15 steps', rng, 'LMS', 15, scheduler='Karras'))
    cases.append(make_case('Heun exponential 5 steps', rng, 'Heun', 5, scheduler='Exponential'))
    cases.append(make_case('DPM++ 2S a eta 0', rng, 'DPM++ 2S a', 7, eta=0.0))
    cases.append(make_case('DPM++ SDE eta 0', rng, 'DPM++ SDE', 6, eta=0.0))
    for webui in (True, False):
        tag = 'webui' if webui else 'CompVis'
        cases.append(make_case(f'DDIM 10 steps {tag}', rng, 'DDIM', 10, webui_ts=webui))
        cases.append(make_case(f'DDIM 6 steps eta 0.7 {tag}', rng, 'DDIM', 6, eta=0.7, webui_ts=webui))
        cases.append(make_case(f'PLMS 12 steps {tag}', rng, 'PLMS', 12, webui_ts=webui))
        cases.append(make_case(f'DDIM img2img 0.6 {tag}', rng, 'DDIM', 10, mode='img2img', strength=0.6, webui_ts=webui))
    cases.append(make_case('Euler img2img 0.75', rng, 'Euler', 12, mode='img2img', strength=0.75))
    cases.append(make_case('DPM++ 2M img2img 0.3', rng, 'DPM++ 2M', 20, mode='img2img', strength=0.3))
    cases.append(make_case('Euler a img2img 0.5', rng, 'Euler a', 10, mode='img2img', strength=0.5))
    out = os.path.join(os.path.dirname(__file__), '..', 'test', 'native', 'data', 'sampler_oracle.json')
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, 'w') as f:
        json.dump({'generator': 'scripts/sampler_oracle.py', 'cases': cases}, f, indent=None, separators=(',', ':'))
        f.write('\n')
    print(f'wrote {len(cases)} cases to {os.path.normpath(out)}')


if __name__ == '__main__':
    main()
