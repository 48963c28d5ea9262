import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadAddon } from '../../cli/binding/load-addon.js';
import { tinyCases, tinySafetensors } from '../helpers/fixtures.js';
import { readSafetensors } from '../helpers/safetensors.js';

// The CPU GEMM splits rows and columns across threads (and, with bf16 weights,
// runs AMX tiles or bf16 dot products): one thread and two must agree.
describe('CPU results do not depend on the thread count', () => {
  const addon = loadAddon();
  const cases = readSafetensors(tinyCases);
  const x = cases.get('unet_b_24x16/x')!;
  const ctx = cases.get('unet_b_24x16/context')!;

  async function eps(precision: string, threads: number) {
    const model = await addon.loadModel(tinySafetensors, { precision, threads });
    try {
      return await model.unet(x.data as Float32Array, x.shape, [999, 250], ctx.data as Float32Array, ctx.shape);
    } finally {
      model.dispose();
    }
  }

  for (const precision of ['f16', 'bf16']) {
    it(`${precision} weights: 1 thread = 2 threads`, async () => {
      const one = await eps(precision, 1);
      const two = await eps(precision, 2);
      let d2 = 0, r2 = 0;
      for (let i = 0; i < one.data.length; i++) {
        d2 += (one.data[i]! - two.data[i]!) ** 2;
        r2 += one.data[i]! ** 2;
      }
      // Only GroupNorm's partial sums are grouped by thread; everything else is the same arithmetic.
      assert.ok(Math.sqrt(d2 / r2) < 1e-6, `rel_l2 ${Math.sqrt(d2 / r2)}`);
    });
  }
});
