import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadAddon } from '../../cli/binding/load-addon.js';
import { maxAbsDiff, readSafetensors } from '../helpers/safetensors.js';

// The webui's random sources through the addon, against the fixtures
// (test/fixtures/README.md, torch_randn_cpu and philox_randn) and torch's
// well-known outputs.
const fixtures = join('test', 'fixtures', 'tiny-sd1');

interface Case {
  name: string;
  kind: string;
  expected: Record<string, string>;
  params: Record<string, unknown>;
  tolerance: Record<string, { max_abs?: number; abs?: number }>;
}

const manifest = JSON.parse(readFileSync(join(fixtures, 'manifest.json'), 'utf8')) as { cases: Case[] };
const tensors = readSafetensors(join(fixtures, 'cases.safetensors'));

function stored(key: string): Float32Array {
  const t = tensors.get(key);
  assert.ok(t && t.data instanceof Float32Array, `cases.safetensors has F32 ${key}`);
  return t.data;
}

function slices(values: Float32Array): Record<string, Float32Array> {
  const k = Math.min(64, values.length);
  return { first64: values.subarray(0, k), last64: values.subarray(values.length - k), full: values };
}

describe('randn', () => {
  const addon = loadAddon();

  for (const c of manifest.cases.filter((x) => x.kind === 'torch_randn_cpu' || x.kind === 'philox_randn')) {
    it(`reproduces ${c.name}`, () => {
      const seed = c.params.seed as number;
      const shape = c.params.shape as number[];
      const cpu = c.kind === 'torch_randn_cpu';
      // The CPU source continues its stream; the GPU source moves one Philox offset per draw.
      const draws = cpu ? (c.params.draw_index as number) : (c.params.offset as number) + 1;
      const numel = shape.reduce((a, b) => a * b, 1);
      const all = addon.randn({ source: cpu ? 'cpu' : 'gpu', seed: seed >= 2 ** 53 ? BigInt(seed) : seed, shape, draws });
      assert.equal(all.length, numel * draws);
      const last = all.subarray(numel * (draws - 1));
      for (const [output, actual] of Object.entries(slices(last))) {
        const key = c.expected[output];
        if (!key) continue;
        const expected = stored(key);
        if (cpu) {
          // torch's AVX2 float32 math, reproduced operation for operation.
          assert.deepEqual(Array.from(actual), Array.from(expected), `${output} bit for bit`);
        } else {
          assert.ok(maxAbsDiff(actual, expected) <= c.tolerance[output]!.max_abs!, output);
        }
      }
      let sum = 0;
      for (const v of last) sum += v;
      assert.ok(Math.abs(sum - (c.params.sum as number)) <= c.tolerance['params.sum']!.abs!);
      if (cpu) {
        // torch without AVX2 (libm logf/cosf/sinf): the manifest's accepted alternate.
        const scalar = addon.randn({ source: 'cpu', seed, shape, draws, cpuVariant: 'scalar' }).subarray(numel * (draws - 1));
        const alternates = c.params.alternate_expected_scalar_path as Record<string, string>;
        for (const [output, actual] of Object.entries(slices(scalar))) {
          if (!alternates[output]) continue;
          assert.ok(maxAbsDiff(actual, stored(alternates[output])) <= 2e-7, `scalar ${output}`);
        }
      }
    });
  }

  it("matches torch.randn's published values for seed 0", () => {
    // torch.manual_seed(0); torch.randn(2, 3) (6 values: the double path) and
    // torch.randn(4, 4) (16 values: the float path), first row.
    const small = addon.randn({ source: 'cpu', seed: 0, shape: [2, 3] });
    assert.deepEqual(Array.from(small, (v) => v.toFixed(4)), ['1.5410', '-0.2934', '-2.1788', '0.5684', '-1.0845', '-1.3986']);
    const block = addon.randn({ source: 'cpu', seed: 0, shape: [4, 4] });
    assert.deepEqual(Array.from(block.subarray(0, 4), (v) => v.toFixed(4)), ['-1.1258', '-1.1524', '-0.2506', '-0.4339']);
    // The webui's own sample for its NV source (modules/rng_philox.py).
    const nv = addon.randn({ source: 'gpu', seed: 0, shape: [3, 4] });
    const published = [-0.92466259, -0.42534415, -2.6438457, 0.14518388, -0.12086647, -0.57972564, -0.62285122,
      -0.32838709, -1.07454231, -0.36314407, -1.67105067, 2.26550497];
    assert.ok(maxAbsDiff(nv, published) < 5e-7);
  });

  it('keeps torch\'s cached second normal across small draws', () => {
    // numel < 16 uses double Box-Muller pairs and keeps the unused sine half:
    // two draws of 3 equal one draw of 6.
    const two = addon.randn({ source: 'cpu', seed: 1234, shape: [3], draws: 2 });
    const six = addon.randn({ source: 'cpu', seed: 1234, shape: [6] });
    assert.deepEqual(Array.from(two), Array.from(six));
    // ... and a draw of 3 is the start of a draw of 4 (same pairs, the sine half cached).
    const a3 = addon.randn({ source: 'cpu', seed: 99, shape: [3] });
    const a4 = addon.randn({ source: 'cpu', seed: 99, shape: [4] });
    assert.deepEqual(Array.from(a3), Array.from(a4.subarray(0, 3)));
  });

  it('draws 512x512 latent noise in under 5 ms', () => {
    for (const source of ['gpu', 'cpu'] as const) {
      const times: number[] = [];
      for (let i = 0; i < 9; i++) {
        const start = process.hrtime.bigint();
        addon.randn({ source, seed: 1000 + i, shape: [1, 4, 64, 64] });
        times.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      times.sort((x, y) => x - y);
      assert.ok(times[4]! < 5, `${source}: median ${times[4]} ms`);
    }
  });

  it('rejects bad options with a clear error', () => {
    assert.throws(() => addon.randn({ source: 'gpu', seed: -1, shape: [4] }), /seed/);
    assert.throws(() => addon.randn({ source: 'gpu', seed: 1.5, shape: [4] }), /seed/);
    assert.throws(() => addon.randn({ source: 'gpu', seed: 2 ** 64 as unknown as number, shape: [4] }), /seed/);
    assert.throws(() => addon.randn({ source: 'gpu', seed: 1, shape: [0, 4] }), /shape/);
    assert.throws(() => addon.randn({ source: 'gpu', seed: 1, shape: [4], draws: 0 }), /draws/);
    assert.throws(() => addon.randn({ source: 'tpu' as 'gpu', seed: 1, shape: [4] }), /random number source/);
    assert.throws(() => addon.randn({ source: 'gpu', seed: 1, shape: [65536, 65536] }), /at most/);
    assert.deepEqual(
      Array.from(addon.randn({ source: 'gpu', seed: 2n ** 64n - 1n, shape: [2] })).length,
      2,
    );
  });
});
