import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadAddon } from '../../cli/binding/load-addon.js';

// The samplers: the webui's table through the addon; the sampler arithmetic
// against the fixtures' recorded trajectories (sd-driver sampler-replay), an
// independent float64 implementation (scripts/sampler_oracle.py, committed
// results in test/native/data) and closed forms for Gaussian data.
const driver = join('build', 'native', process.platform === 'win32' ? 'sd-driver.exe' : 'sd-driver');

interface SampleResult {
  cancelled: boolean;
  completed_steps: number;
  sampler: string;
  scheduler: string;
  latent: number[];
  start: number[];
  sigmas?: number[];
  timesteps?: number[];
  total_steps: number;
  model_calls: number;
  draws: number;
}

function runDriver(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  assert.ok(existsSync(driver), `${driver} is missing: run "npm run build:native"`);
  const r = spawnSync(driver, args, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function sample(spec: object): SampleResult {
  const r = runDriver(['sample', '--spec', '-'], JSON.stringify(spec));
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as SampleResult;
}

describe('sampler table', () => {
  const addon = loadAddon();

  it("lists the webui's samplers with their defaults", () => {
    const { samplers, schedulers } = addon.samplers();
    const byName = new Map(samplers.map((s) => [s.name, s]));
    for (const name of ['Euler a', 'Euler', 'LMS', 'Heun', 'DPM2', 'DPM2 a', 'DPM++ 2S a', 'DPM++ 2M', 'DPM++ SDE',
      'DPM++ 2M SDE', 'DPM++ 2M SDE Heun', 'DPM++ 3M SDE', 'DDIM', 'PLMS']) {
      assert.ok(byName.has(name), name);
    }
    assert.equal(byName.get('DPM++ 2M')!.defaultScheduler, 'Karras');
    assert.equal(byName.get('Euler a')!.defaultScheduler, 'Uniform');
    assert.equal(byName.get('DPM++ 2M SDE')!.defaultScheduler, 'Exponential');
    assert.deepEqual(byName.get('Euler a')!.aliases, ['k_euler_a', 'k_euler_ancestral']);
    assert.equal(byName.get('Euler a')!.etaDefault, 1);
    assert.equal(byName.get('DDIM')!.etaDefault, 0);
    assert.equal(byName.get('Heun')!.secondOrder, true);
    assert.equal(byName.get('DPM2')!.discardPenultimateSigma, true);
    for (const s of samplers) assert.equal(s.seedMatchesWebui, !s.brownianNoise, s.name);
    assert.deepEqual(schedulers.slice(0, 5).map((s) => s.label), ['Automatic', 'Uniform', 'Karras', 'Exponential', 'Polyexponential']);
  });

  it('reads names the way the webui does', () => {
    assert.deepEqual(addon.resolveSampler('DPM++ 2M Karras'), { sampler: 'DPM++ 2M', scheduler: 'Karras' });
    assert.deepEqual(addon.resolveSampler('DPM++ 2M'), { sampler: 'DPM++ 2M', scheduler: 'Karras' });
    assert.deepEqual(addon.resolveSampler('DPM++ 2M', 'Uniform'), { sampler: 'DPM++ 2M', scheduler: 'Uniform' });
    assert.deepEqual(addon.resolveSampler('k_euler_a'), { sampler: 'Euler a', scheduler: 'Uniform' });
    assert.deepEqual(addon.resolveSampler('euler A'), { sampler: 'Euler a', scheduler: 'Uniform' });
    assert.deepEqual(addon.resolveSampler('DPM++ 2M SDE Heun Exponential'), { sampler: 'DPM++ 2M SDE Heun', scheduler: 'Exponential' });
    assert.deepEqual(addon.resolveSampler('LMS', 'karras'), { sampler: 'LMS', scheduler: 'Karras' });
    assert.throws(() => addon.resolveSampler('Euler b'), /unknown sampler "Euler b"; choose one of: DPM\+\+ 2M/);
    assert.throws(() => addon.resolveSampler('Euler', 'Cosine'), /unknown schedule type "Cosine"/);
  });
});

describe('samplers', () => {
  it("replay the fixtures' recorded trajectories", () => {
    const r = runDriver(['sampler-replay', join('test', 'fixtures', 'tiny-sd1')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n');
    for (const name of ['sampler_ddim', 'sampler_euler', 'sampler_euler_ancestral', 'sampler_dpmpp_2m',
      'sampler_dpmpp_2m_karras', 'sampler_lms', 'img2img_ddim', 'img2img_euler_a1111']) {
      assert.ok(lines.some((l) => l.startsWith(`PASS  ${name} (replay)`)), `${name}: ${r.stdout}`);
    }
    assert.match(lines.at(-1)!, /^8 passed, 0 failed$/);
  });

  const oracle = JSON.parse(readFileSync(join('test', 'native', 'data', 'sampler_oracle.json'), 'utf8')) as {
    cases: { name: string; spec: object; expected_latent: number[]; expected_model_calls: number; expected_draws: number }[];
  };
  for (const c of oracle.cases) {
    it(`match the float64 oracle: ${c.name}`, () => {
      const r = sample(c.spec);
      assert.equal(r.model_calls, c.expected_model_calls, 'UNet calls');
      assert.equal(r.draws, c.expected_draws, 'noise draws');
      assert.equal(r.latent.length, c.expected_latent.length);
      r.latent.forEach((v, i) => {
        const e = c.expected_latent[i]!;
        assert.ok(Math.abs(v - e) <= 1e-4 * Math.max(1, Math.abs(e)), `latent[${i}] = ${v}, oracle ${e}`);
      });
    });
  }

  // Gaussian data N(mu, v): the probability-flow ODE from sigma_max has the
  // solution x(sigma) = mu + (x_T - mu) sqrt((v + sigma^2) / (v + sigma_max^2)).
  const mu = [0.8, -0.3, 0.1, -1.2];
  const noise = [1.1, -0.4, 0.25, -1.9];
  const variance = 0.2;
  const model = { mu_cond: mu, mu_uncond: 0, variance, cfg_scale: 1 };

  for (const [sampler, steps, tol] of [['Euler', 400, 2e-2], ['Heun', 100, 2e-3], ['DPM++ 2M', 100, 2e-3], ['LMS', 200, 2e-3]] as const) {
    it(`${sampler} converges to the ODE's closed form`, () => {
      const r = sample({ shape: [1, 1, 1, 4], sampler, scheduler: 'Karras', steps, model, noise });
      const smax = r.sigmas![0]!;
      r.latent.forEach((v, i) => {
        const exact = mu[i]! + (noise[i]! * smax - mu[i]!) * Math.sqrt(variance / (variance + smax * smax));
        assert.ok(Math.abs(v - exact) < tol, `${sampler}[${i}]: ${v} vs ${exact}`);
      });
    });
  }

  it('DDIM converges to the same closed form in the VP parametrisation', () => {
    // DDIM's x_t / sqrt(a_t) follows the ODE above with sigma_t = sqrt((1 - a_t) / a_t);
    // CompVis' last step ends at a = alphas_cumprod[0].
    const r = sample({ shape: [1, 1, 1, 4], sampler: 'DDIM', steps: 500, model, noise, webui_timestep_samplers: false });
    const ac = (t: number) => {
      let p = 1;
      for (let i = 0; i <= t; i++) {
        const b = (Math.sqrt(0.00085) + (Math.sqrt(0.012) - Math.sqrt(0.00085)) * i / 999) ** 2;
        p *= 1 - b;
      }
      return p;
    };
    const aT = ac(r.timesteps![0]!), a0 = ac(0);
    const sT = Math.sqrt((1 - aT) / aT), s0 = Math.sqrt((1 - a0) / a0);
    r.latent.forEach((v, i) => {
      const xT = noise[i]! / Math.sqrt(aT);
      const exact = Math.sqrt(a0) * (mu[i]! + (xT - mu[i]!) * Math.sqrt((variance + s0 * s0) / (variance + sT * sT)));
      assert.ok(Math.abs(v - exact) < 5e-3, `DDIM[${i}]: ${v} vs ${exact}`);
    });
  });

  it("draws noise as the webui's image RNG does", () => {
    // Euler a: the first draw is the initial noise, then one draw per step but the last,
    // one generator per image (so an image does not depend on its batch).
    const addon = loadAddon();
    const shape = [4, 2, 2];
    const spec = { shape: [2, ...shape], sampler: 'Euler a', steps: 5, model: { ...model, mu_cond: 0.3 } };
    const seeds = [1234, 98765];
    for (const source of ['gpu', 'cpu'] as const) {
      const viaRng = sample({ ...spec, rng: { source, seeds } });
      const draws = seeds.map((seed) => addon.randn({ source, seed, shape, draws: 5 }));
      const per = 16;
      const slice = (k: number) => draws.flatMap((d) => Array.from(d.subarray(k * per, (k + 1) * per)));
      const explicit = sample({ ...spec, noise: slice(0), extra_noise: [1, 2, 3, 4].map(slice) });
      assert.equal(viaRng.draws, 4);
      assert.deepEqual(viaRng.latent, explicit.latent, source);
      const single = sample({ ...spec, shape: [1, ...shape], rng: { source, seeds: [98765] } });
      assert.deepEqual(single.latent, viaRng.latent.slice(per), `${source}: image 2 alone`);
    }
  });

  it('runs img2img for the steps the webui counts', () => {
    const base = { shape: [1, 1, 1, 4], model, noise, mode: 'img2img', init_latent: [0.5, 0.5, -0.5, 0.0], steps: 20 };
    assert.equal(sample({ ...base, sampler: 'Euler', denoising_strength: 0.75 }).total_steps, 16);
    assert.equal(sample({ ...base, sampler: 'Euler', denoising_strength: 0.75, img2img_fix_steps: true }).total_steps, 20);
    assert.equal(sample({ ...base, sampler: 'DDIM', denoising_strength: 0.5 }).total_steps, 9);
    assert.equal(sample({ ...base, sampler: 'DDIM', denoising_strength: 0.5, webui_timestep_samplers: false }).total_steps, 10);
  });

  it('stops between steps when the step callback cancels', () => {
    const r = sample({ shape: [1, 1, 1, 4], sampler: 'Heun', steps: 10, model, noise, cancel_after: 3 });
    assert.equal(r.cancelled, true);
    assert.equal(r.completed_steps, 3);
    assert.equal(r.model_calls, 7); // 3 Heun steps of 2 evaluations, then the 4th step's first one
    const full = sample({ shape: [1, 1, 1, 4], sampler: 'Heun', steps: 10, model, noise });
    assert.equal(full.cancelled, false);
    assert.equal(full.completed_steps, 10);
    assert.equal(full.model_calls, 19);
  });

  it('rejects bad requests with an error, not a crash', () => {
    const model = { mu_cond: 0.5, variance: 0.2 };
    for (const [spec, message] of [
      [{ shape: [1, 1, 1, 1], sampler: 'Euler z', steps: 4, model, noise: [0] }, /unknown sampler/],
      [{ shape: [1, 1, 1, 1], sampler: 'Euler', steps: 0, model, noise: [0] }, /steps must be between 1 and 1000/],
      [{ shape: [1, 1, 1, 1], sampler: 'Euler', scheduler: 'Nope', steps: 4, model, noise: [0] }, /unknown schedule type/],
      [{ shape: [1, 1, 1, 1], sampler: 'Euler a', steps: 4, model, noise: [0] }, /more than the 0 extra noise draws/],
      [{ shape: [1, 1, 1, 2], sampler: 'Euler', steps: 4, model, noise: [0] }, /noise has 1 values, the shape \[1, 1, 1, 2\] needs 2/],
    ] as const) {
      const r = runDriver(['sample', '--spec', '-'], JSON.stringify(spec));
      assert.equal(r.status, 1);
      assert.match(r.stderr, message);
    }
  });
});
