import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadAddon } from '../../cli/binding/load-addon.js';
import type { LoadModelOptions } from '../../cli/binding/types.js';
import { tinyCases, tinySafetensors } from '../helpers/fixtures.js';
import { readSafetensors } from '../helpers/safetensors.js';

// The memory modes' residency logic is backend-independent: here it runs on
// the CPU backend, whose "device" memory is the packed weights, under a budget.
describe('memory modes on the CPU backend', () => {
  const addon = loadAddon();
  const cases = readSafetensors(tinyCases);
  const x = cases.get('unet_a_16x16/x')!;
  const ctx = cases.get('unet_a_16x16/context')!;
  const ids = cases.get('text_encoder/input_ids')!;
  const z = cases.get('vae_decode_raw/z')!;

  async function runAll(options: LoadModelOptions) {
    const model = await addon.loadModel(tinySafetensors, { precision: 'f16', ...options });
    try {
      const text = await model.encodeText(ids.data as Int32Array, ids.shape);
      const eps = await model.unet(x.data as Float32Array, x.shape, [999, 250], ctx.data as Float32Array, ctx.shape);
      const image = await model.vaeDecode(z.data as Float32Array, z.shape);
      return { text, eps, image, info: model.info() };
    } finally {
      model.dispose();
    }
  }

  it('gives bit-identical results in normal, medvram and lowvram, with falling peaks', async () => {
    const normal = await runAll({ memoryMode: 'normal' });
    const med = await runAll({ memoryMode: 'medvram' });
    const low = await runAll({ memoryMode: 'lowvram' });
    for (const r of [med, low]) {
      assert.deepEqual(r.text.data, normal.text.data);
      assert.deepEqual(r.eps.data, normal.eps.data);
      assert.deepEqual(r.image.data, normal.image.data);
    }
    assert.ok(med.info.peakResidentBytes < normal.info.peakResidentBytes, 'medvram holds less than everything');
    assert.ok(low.info.peakResidentBytes < med.info.peakResidentBytes, 'lowvram holds less than medvram');
    // After the VAE decode only the VAE stays: models go when another one needs the device.
    assert.ok(low.info.residentBytes > 0 && low.info.residentBytes < med.info.peakResidentBytes, 'only the last model stays');
  });

  it('keeps resident weights under the budget at every point of a lowvram run', async () => {
    // The CLIP token table alone is 49408 x 32 floats = 6.3 MB; 7 MiB fits it plus one UNet block pair.
    const r = await runAll({ memoryMode: 'lowvram', weightBudgetMB: 7 });
    assert.ok(r.info.peakResidentBytes <= 7 * 1024 * 1024, `peak ${r.info.peakResidentBytes}`);
  });

  it('says which block does not fit a budget that is too small', async () => {
    await assert.rejects(runAll({ memoryMode: 'lowvram', weightBudgetMB: 1 }), /VRAM budget of 1 MiB is too small: cond_stage_model/);
  });
});

describe('tiled VAE decoding', () => {
  const addon = loadAddon();

  it('matches the untiled decoder for any tile size, square or not', async () => {
    const model = await addon.loadModel(tinySafetensors, { precision: 'f32' });
    try {
      for (const [h, w] of [
        [16, 16],
        [12, 20],
      ] as const) {
        const z = new Float32Array(4 * h * w);
        for (let i = 0; i < z.length; i++) z[i] = Math.sin(i * 0.37) * 2 + Math.cos(i * 0.011);
        const whole = await model.vaeDecode(z, [1, 4, h, w]);
        for (const tilePixels of [64, 40, 9]) {
          const tiled = await model.vaeDecode(z, [1, 4, h, w], undefined, { tilePixels });
          assert.deepEqual(tiled.shape, whole.shape);
          let diff2 = 0, ref2 = 0;
          for (let i = 0; i < whole.data.length; i++) {
            diff2 += (tiled.data[i]! - whole.data[i]!) ** 2;
            ref2 += whole.data[i]! ** 2;
          }
          // Same arithmetic up to rounding: the GroupNorm statistics' summation
          // order, and the Winograd convolutions' rounding, which depends on where
          // their 4x4 output blocks fall and so moves with the tiles (measured
          // 4.7e-6; a wrong halo row shows as 1e-3 and more).
          assert.ok(Math.sqrt(diff2 / ref2) < 2e-5, `${h}x${w} tile ${tilePixels}: rel_l2 ${Math.sqrt(diff2 / ref2)}`);
        }
      }
    } finally {
      model.dispose();
    }
  });

  // The latent-resolution part (mid block, attention) is shared with the
  // whole decoder and must report progress, and so listen for a cancel, there too.
  it('reports progress through the mid block as the whole decoder does', async () => {
    const model = await addon.loadModel(tinySafetensors, { precision: 'f32' });
    try {
      const z = new Float32Array(4 * 16 * 16).map((_, i) => Math.sin(i * 0.37));
      const count = async (tilePixels?: number) => {
        let calls = 0;
        await model.vaeDecode(z, [1, 4, 16, 16], () => calls++, tilePixels ? { tilePixels } : undefined);
        return calls;
      };
      assert.equal(await count(40), await count());
    } finally {
      model.dispose();
    }
  });
});
