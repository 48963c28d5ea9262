import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { loadAddon } from '../../cli/binding/load-addon.js';
import type { ConformanceCase } from '../../cli/binding/types.js';
import { tinyDir } from '../helpers/fixtures.js';

// The shipped fixtures through the conformance runner: every case of the kinds
// below must pass (the runner itself reports unimplemented kinds as failures).
const implementedKinds = ['text_encoder', 'text_encoder_chunked', 'unet', 'vae_decode', 'vae_encode'];

async function run(checkpoint: string, filter?: string): Promise<ConformanceCase[]> {
  const results: ConformanceCase[] = [];
  await loadAddon().runConformance(tinyDir, { checkpoint, precision: 'f32', ...(filter ? { filter } : {}) }, (r) => results.push(r));
  return results;
}

describe('conformance fixtures (tiny-sd1)', { timeout: 600_000 }, () => {
  for (const checkpoint of ['safetensors']) {
    it(`passes every network case from model.${checkpoint}`, async () => {
      const results = await run(checkpoint);
      const relevant = results.filter((r) => implementedKinds.includes(r.kind));
      assert.ok(relevant.length === 11, `found ${relevant.length} network cases`);
      const failed = relevant.filter((r) => !r.passed).map((r) => r.line);
      assert.deepEqual(failed, []);
    });
  }

  // The code an old laptop without AVX-512 runs (AVX2 micro-kernels, element
  // loops and Winograd transforms), and what a CPU without x86 kernels runs
  // (generic, scalar loops, direct convolutions), on this
  // machine through the override, in the driver so the override is read fresh.
  // SD_WINOGRAD=0: the direct 3x3 convolution where Winograd would run;
  // SD_WINOGRAD=1: Winograd on every shape it can do, small ones included.
  const overrides: Record<string, string>[] = [
    { SD_GEMM_KERNEL: 'avx2' },
    { SD_GEMM_KERNEL: 'generic' },
    { SD_WINOGRAD: '0' },
    { SD_WINOGRAD: '1' },
  ];
  for (const override of overrides) {
    const [name, value] = Object.entries(override)[0] ?? [];
    it(`passes every case with ${name}=${value}`, () => {
      const r = spawnSync('build/native/sd-driver', ['conformance', tinyDir], {
        encoding: 'utf8',
        env: { ...process.env, ...override },
      });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^66 passed, 0 failed$/m);
    });
  }

  it('reports kinds it cannot run as failed, not skipped', async () => {
    const results = await run('safetensors');
    for (const r of results.filter((c) => c.notImplemented)) assert.equal(r.passed, false);
  });
});
