import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import { loadAddon } from '../../cli/binding/load-addon.js';
import type { NativeModel } from '../../cli/binding/types.js';
import { tinyCases, tinySafetensors } from '../helpers/fixtures.js';
import { maxAbsDiff, readSafetensors } from '../helpers/safetensors.js';

describe('native model binding', () => {
  const addon = loadAddon();
  const cases = readSafetensors(tinyCases);
  const get = (key: string) => {
    const t = cases.get(key);
    assert.ok(t, `fixture tensor ${key}`);
    return t;
  };
  let model: NativeModel;

  before(async () => {
    const phases: string[] = [];
    model = await addon.loadModel(tinySafetensors, { precision: 'f32' }, (phase) => phases.push(phase));
    assert.ok(phases.length > 0, 'loading reports progress');
  });
  after(() => model.dispose());

  it('describes itself', () => {
    const info = model.info();
    assert.equal(info.backend, 'cpu');
    assert.equal(info.weightDtype, 'F32');
    assert.equal((JSON.parse(info.config) as { unet: { model_channels: number } }).unet.model_channels, 32);
    assert.ok(info.residentBytes > 1_000_000);
  });

  it('runs the UNet off the JS thread with block progress, matching the reference', async () => {
    const x = get('unet_a_16x16/x');
    const t = get('unet_a_16x16/timesteps');
    const ctx = get('unet_a_16x16/context');
    let blocks = 0;
    const eps = await model.unet(x.data as Float32Array, x.shape, Array.from(t.data), ctx.data as Float32Array, ctx.shape, () => blocks++);
    assert.deepEqual(eps.shape, x.shape);
    assert.ok(blocks >= 10, `progress reported per block (${blocks})`);
    assert.ok(maxAbsDiff(eps.data, get('unet_a_16x16/eps').data) < 2e-5);
  });

  it('encodes text and decodes/encodes with the VAE', async () => {
    const ids = get('text_encoder/input_ids');
    const z = await model.encodeText(ids.data as Int32Array, ids.shape);
    assert.ok(maxAbsDiff(z.data, get('text_encoder/last_hidden_state').data) < 1e-5);
    const lat = get('vae_decode_raw/z');
    const img = await model.vaeDecode(lat.data as Float32Array, lat.shape);
    assert.ok(maxAbsDiff(img.data, get('vae_decode_raw/image').data) < 5e-5);
    const image = get('vae_encode/image');
    const moments = await model.vaeEncode(image.data as Float32Array, image.shape);
    assert.ok(maxAbsDiff(moments.mean.data, get('vae_encode/mean').data) < 5e-5);
  });

  it('rejects a second operation while one runs, and cancels with an AbortError', async () => {
    const x = get('unet_a_16x16/x');
    const ctx = get('unet_a_16x16/context');
    const running = model.unet(x.data as Float32Array, x.shape, [999, 250], ctx.data as Float32Array, ctx.shape, () => model.cancel());
    assert.throws(() => model.vaeDecode(new Float32Array(4 * 4 * 4), [1, 4, 4, 4]), /busy/);
    await assert.rejects(running, (e: Error & { code?: string }) => e.name === 'AbortError' && e.code === 'ABORT_ERR');
    // The model is usable again afterwards.
    const eps = await model.unet(x.data as Float32Array, x.shape, [999, 250], ctx.data as Float32Array, ctx.shape);
    assert.equal(eps.data.length, x.data.length);
  });

  it('turns bad arguments into errors, not crashes', async () => {
    assert.throws(() => model.unet(new Float32Array(3), [1, 4, 16, 16], [1], new Float32Array(77 * 32), [1, 77, 32]), /do not match the shape/);
    await assert.rejects(model.unet(new Float32Array(3 * 16 * 16), [1, 3, 16, 16], [1], new Float32Array(77 * 32), [1, 77, 32]), /input must be \[B, 4, H, W\]/);
    await assert.rejects(model.unet(new Float32Array(4 * 16 * 16), [1, 4, 16, 16], [1], new Float32Array(77 * 16), [1, 77, 16]), /context must be/);
    await assert.rejects(addon.loadModel('/nonexistent/model.safetensors'), /cannot open/);
  });
});
