import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadAddon } from '../../cli/binding/load-addon.js';
import { halfToFloat, readSafetensorsHeader } from '../helpers/checkpoint-files.js';

const driver = 'build/native/sd-driver';
const tinyConfig = 'test/fixtures/tiny-sd1/config.json';

function run(args: string[]): string {
  return execFileSync(driver, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('sd-driver layout and make-model', { timeout: 120_000 }, () => {
  const addon = loadAddon();
  let work = '';
  before(() => {
    assert.ok(existsSync(driver), `${driver} is not built (npm run build:native)`);
    work = mkdtempSync(join(tmpdir(), 'sd-make-model-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('lays out the tiny config exactly as the fixture checkpoint holds it', () => {
    const layout = JSON.parse(run(['layout', '--config', tinyConfig])) as { name: string; dtype: string; shape: number[] }[];
    const fixture = readSafetensorsHeader(readFileSync('test/fixtures/tiny-sd1/model.safetensors')).tensors;
    assert.equal(layout.length, 913);
    assert.deepEqual(new Set(layout.map((t) => t.name)), new Set(fixture.keys()));
    for (const t of layout) {
      assert.deepEqual(t.shape, fixture.get(t.name)!.shape, t.name);
      assert.equal(t.dtype, t.name.endsWith('position_ids') ? 'I64' : 'F32', t.name);
    }
  });

  it('lays out SD 1.5 with the published parameter counts', () => {
    const layout = JSON.parse(run(['layout', '--config', 'sd15'])) as { name: string; shape: number[] }[];
    const count = (prefix: string) =>
      layout.filter((t) => t.name.startsWith(prefix) && !t.name.endsWith('position_ids')).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
    assert.equal(layout.length, 1143);
    assert.equal(count('model.diffusion_model.'), 859_520_964); // diffusers UNet2DConditionModel, SD 1.x
    assert.equal(count('first_stage_model.'), 83_653_863); // AutoencoderKL
    assert.equal(count('cond_stage_model.transformer.text_model.'), 123_060_480); // CLIP ViT-L/14 text model
  });

  it('writes deterministic tiny models in both formats that load as the same weights', async () => {
    const st = join(work, 'tiny.safetensors');
    const again = join(work, 'again.safetensors');
    const other = join(work, 'other.safetensors');
    const ckpt = join(work, 'tiny.ckpt');
    run(['make-model', '--config', tinyConfig, '--out', st, '--seed', '3', '--embed-config']);
    run(['make-model', '--config', tinyConfig, '--out', again, '--seed', '3', '--embed-config']);
    run(['make-model', '--config', tinyConfig, '--out', other, '--seed', '4', '--embed-config']);
    run(['make-model', '--config', tinyConfig, '--out', ckpt, '--seed', '3', '--format', 'ckpt', '--dtype', 'f32', '--embed-config']);
    assert.ok(readFileSync(st).equals(readFileSync(again)), 'same seed, same bytes');
    assert.ok(!readFileSync(st).equals(readFileSync(other)), 'another seed, other weights');
    assert.ok(existsSync(join(work, 'tiny.config.json')), 'the .ckpt gets a sidecar config');

    const a = await addon.inspectCheckpoint(st, { verify: true, dtype: 'f16' });
    const b = await addon.inspectCheckpoint(ckpt, { verify: true, dtype: 'f16' });
    assert.equal(a.configSource, 'metadata');
    assert.equal(b.configSource, join(work, 'tiny.config.json'));
    assert.equal((a.config as { unet: { num_heads: number } }).unet.num_heads, 2);
    assert.equal(b.format, 'ckpt');
    assert.equal(b.metadata.global_step, '0');
    const crcs = new Map(a.tensors.map((t) => [t.name, t.crc32]));
    assert.equal(b.tensors.length, 913);
    for (const t of b.tensors) assert.equal(t.crc32, crcs.get(t.name), `${t.name}: fp32 .ckpt rounded to fp16 differs from the fp16 file`);
  });

  it('initialises weights like PyTorch, finite and without denormal floods', () => {
    const path = join(work, 'init.safetensors');
    run(['make-model', '--config', tinyConfig, '--out', path, '--seed', '9']);
    const file = readFileSync(path);
    const header = readSafetensorsHeader(file);
    const start = 8 + header.headerLength;
    let subnormals = 0;
    let total = 0;
    for (const [name, e] of header.tensors) {
      const raw = file.subarray(start + e.data_offsets[0], start + e.data_offsets[1]);
      if (e.dtype === 'I64') {
        const ids = Array.from({ length: raw.length / 8 }, (_, i) => Number(raw.readBigInt64LE(i * 8)));
        assert.deepEqual(ids, Array.from({ length: 77 }, (_, i) => i), name);
        continue;
      }
      const values = Array.from({ length: raw.length / 2 }, (_, i) => raw.readUInt16LE(i * 2));
      subnormals += values.filter((h) => (h & 0x7c00) === 0 && (h & 0x3ff) !== 0).length;
      total += values.length;
      const floats = values.map(halfToFloat);
      assert.ok(floats.every(Number.isFinite), `${name} has a non-finite value`);
      const max = floats.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      if (name === 'alphas_cumprod') {
        // The SD 1.x "linear" schedule, computed here independently.
        let prod = 1;
        const expected = Array.from({ length: 1000 }, (_, t) => {
          const s = Math.sqrt(0.00085) + ((Math.sqrt(0.012) - Math.sqrt(0.00085)) * t) / 999;
          prod *= 1 - s * s;
          return prod;
        });
        floats.forEach((v, t) => assert.ok(Math.abs(v - expected[t]!) <= 1e-3 * expected[t]!, `alphas_cumprod[${t}]`));
      } else if (name.includes('embedding.weight')) {
        const std = Math.sqrt(floats.reduce((s, v) => s + v * v, 0) / floats.length);
        assert.ok(std > 0.015 && std < 0.025, `${name} std ${std}`);
      } else if (e.shape.length === 1 && name.endsWith('.weight')) {
        assert.ok(floats.every((v) => v >= 0.949 && v <= 1.051), `${name} is a norm weight near 1`);
      } else if (e.shape.length > 1) {
        const fanIn = e.shape.slice(1).reduce((x, y) => x * y, 1);
        assert.ok(max <= 1.001 / Math.sqrt(fanIn), `${name} exceeds 1/sqrt(fan_in)`);
        assert.ok(max >= 0.5 / Math.sqrt(fanIn), `${name} is suspiciously small`);
      }
    }
    assert.ok(total > 6_000_000);
    assert.equal(subnormals, 0, `${subnormals} of ${total} fp16 values are subnormal`);
  });

  it('refuses bad arguments without writing anything', () => {
    const out = join(work, 'never.safetensors');
    assert.throws(() => run(['make-model', '--config', tinyConfig, '--out', out, '--dtype', 'f8']), /--dtype must be f32, f16 or bf16/);
    assert.throws(() => run(['make-model', '--config', join(work, 'nope.json'), '--out', out]), /cannot read/);
    assert.ok(!existsSync(out) && !existsSync(`${out}.partial`));
  });
});
