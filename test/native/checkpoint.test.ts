import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32, constants as zlib } from 'node:zlib';
import { loadAddon } from '../../cli/binding/load-addon.js';
import type { CheckpointInfo } from '../../cli/binding/types.js';
import {
  buildSafetensors,
  buildZip,
  halfToFloat,
  miniCheckpoint,
  PickleBuilder,
  readSafetensorsHeader,
  readZipEntries,
  type ZipEntryIn,
  type ZipOptions,
} from '../helpers/checkpoint-files.js';

const fixtures = 'test/fixtures/tiny-sd1';
const ckptPath = join(fixtures, 'model.ckpt');
const safetensorsPath = join(fixtures, 'model.safetensors');
const config = JSON.parse(readFileSync(join(fixtures, 'config.json'), 'utf8')) as {
  unet: Record<string, unknown>;
  vae: { embed_dim: number; ddconfig: Record<string, unknown> };
  clip: Record<string, unknown>;
};

const scheduleBuffers = new Set([
  'betas',
  'alphas_cumprod',
  'alphas_cumprod_prev',
  'sqrt_alphas_cumprod',
  'sqrt_one_minus_alphas_cumprod',
  'log_one_minus_alphas_cumprod',
  'sqrt_recip_alphas_cumprod',
  'sqrt_recipm1_alphas_cumprod',
  'posterior_variance',
  'posterior_log_variance_clipped',
  'posterior_mean_coef1',
  'posterior_mean_coef2',
]);

function crcByName(info: CheckpointInfo): Map<string, number> {
  return new Map(info.tensors.map((t) => [t.name, t.crc32!]));
}

describe('checkpoint loading (tiny-sd1 fixtures)', { timeout: 120_000 }, () => {
  const addon = loadAddon();
  const header = readSafetensorsHeader(readFileSync(safetensorsPath));
  let work = '';
  let ckptInfo: CheckpointInfo;
  let safetensorsInfo: CheckpointInfo;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'sd-ckpt-test-'));
    ckptInfo = await addon.inspectCheckpoint(ckptPath, { verify: true, dtype: 'f32' });
    safetensorsInfo = await addon.inspectCheckpoint(safetensorsPath, { verify: true, dtype: 'f32' });
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('lists the 913 tensors of the safetensors header, with their shapes, from both files', () => {
    assert.equal(header.tensors.size, 913);
    for (const info of [ckptInfo, safetensorsInfo]) {
      assert.equal(info.tensors.length, 913);
      for (const t of info.tensors) {
        const expected = header.tensors.get(t.name);
        assert.ok(expected, `${info.format}: unexpected tensor ${t.name}`);
        assert.deepEqual(t.shape, expected.shape, t.name);
        const isIds = t.name.endsWith('position_ids');
        assert.equal(t.dtype, isIds ? 'I64' : info.format === 'ckpt' ? 'F32' : 'F16', t.name);
      }
    }
    assert.equal(ckptInfo.format, 'ckpt');
    assert.equal(safetensorsInfo.format, 'safetensors');
    assert.equal(ckptInfo.metadata.global_step, undefined, 'the fixture pickle has only state_dict');
    assert.equal(safetensorsInfo.metadata.format, 'pt');
  });

  it('converts both files to identical values, matching an independent fp16 -> fp32 decode', () => {
    const fromCkpt = crcByName(ckptInfo);
    const fromSafetensors = crcByName(safetensorsInfo);
    const file = readFileSync(safetensorsPath);
    const dataStart = 8 + header.headerLength;
    for (const [name, entry] of header.tensors) {
      // The schedule buffers are the one exception the fixture README names: the
      // fp16 file holds them rounded to fp16, the fp32 .ckpt exactly.
      if (!scheduleBuffers.has(name)) assert.equal(fromCkpt.get(name), fromSafetensors.get(name), `${name} differs between the files`);
      const raw = file.subarray(dataStart + entry.data_offsets[0], dataStart + entry.data_offsets[1]);
      let expected: Buffer;
      if (entry.dtype === 'F16') {
        const f32 = new Float32Array(raw.length / 2);
        for (let i = 0; i < f32.length; i++) f32[i] = halfToFloat(raw.readUInt16LE(i * 2));
        expected = Buffer.from(f32.buffer);
      } else {
        expected = Buffer.from(raw);
      }
      assert.equal(fromSafetensors.get(name), crc32(expected), `${name} converts wrongly`);
    }
    assert.equal(scheduleBuffers.size, 12);
    for (const name of scheduleBuffers) assert.ok(header.tensors.has(name), name);
    const ids = ckptInfo.tensors.find((t) => t.name.endsWith('position_ids'))!;
    assert.equal(ids.readAs, 'I64', 'integer tensors keep their type');
  });

  it('reads in half precision to the bytes of the fp16 file', async () => {
    const half = await addon.inspectCheckpoint(ckptPath, { verify: true, dtype: 'f16' });
    const file = readFileSync(safetensorsPath);
    const dataStart = 8 + header.headerLength;
    for (const t of half.tensors) {
      const entry = header.tensors.get(t.name)!;
      assert.equal(t.crc32, crc32(file.subarray(dataStart + entry.data_offsets[0], dataStart + entry.data_offsets[1])), t.name);
    }
  });

  it('takes the configuration from the safetensors metadata and from the config.json beside the .ckpt', () => {
    assert.equal(safetensorsInfo.configSource, 'metadata');
    assert.equal(ckptInfo.configSource, join(fixtures, 'config.json'));
    for (const info of [ckptInfo, safetensorsInfo]) {
      const c = info.config as { unet: Record<string, unknown>; vae: { embed_dim: number; ddconfig: Record<string, unknown> }; clip: Record<string, unknown> };
      for (const key of ['in_channels', 'out_channels', 'model_channels', 'channel_mult', 'num_res_blocks', 'attention_resolutions', 'num_heads', 'transformer_depth', 'context_dim'])
        assert.deepEqual(c.unet[key], config.unet[key], `unet.${key}`);
      assert.equal(c.vae.embed_dim, config.vae.embed_dim);
      for (const key of ['ch', 'ch_mult', 'num_res_blocks', 'z_channels', 'double_z', 'in_channels', 'out_ch', 'attn_resolutions'])
        assert.deepEqual(c.vae.ddconfig[key], config.vae.ddconfig[key], `vae.${key}`);
      for (const key of ['vocab_size', 'max_position_embeddings', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'hidden_act'])
        assert.deepEqual(c.clip[key], config.clip[key], `clip.${key}`);
    }
  });

  it('infers the architecture from shapes when neither metadata nor a sidecar is there', async () => {
    const bare = join(work, 'bare.ckpt');
    copyFileSync(ckptPath, bare);
    const file = readFileSync(safetensorsPath);
    const json = JSON.parse(file.subarray(8, 8 + header.headerLength).toString('utf8')) as Record<string, unknown>;
    json.__metadata__ = { format: 'pt' };
    const bareSafetensors = join(work, 'bare.safetensors');
    writeFileSync(bareSafetensors, buildSafetensors(json, file.subarray(8 + header.headerLength)));
    for (const path of [bare, bareSafetensors]) {
      const info = await addon.inspectCheckpoint(path);
      assert.equal(info.configSource, 'inferred', info.configError);
      const c = info.config as { unet: Record<string, unknown>; vae: { ddconfig: Record<string, unknown> }; clip: Record<string, unknown> };
      for (const key of ['model_channels', 'channel_mult', 'num_res_blocks', 'attention_resolutions', 'transformer_depth', 'context_dim', 'in_channels', 'out_channels'])
        assert.deepEqual(c.unet[key], config.unet[key], `unet.${key}`);
      for (const key of ['ch', 'ch_mult', 'num_res_blocks', 'z_channels', 'double_z'])
        assert.deepEqual(c.vae.ddconfig[key], config.vae.ddconfig[key], `vae.${key}`);
      for (const key of ['vocab_size', 'hidden_size', 'num_hidden_layers', 'intermediate_size', 'max_position_embeddings'])
        assert.deepEqual(c.clip[key], config.clip[key], `clip.${key}`);
      // Head counts are not in the weights: inference assumes SD 1.x's (documented).
      assert.equal(c.unet.num_heads, 8);
    }
  });

  it('reads a Lightning training checkpoint: callbacks, numpy scalars and sets as inert data, parameters as tensors', async () => {
    const values = new Float32Array([1.5, -2, 0.25, 8]);
    const p = new PickleBuilder().proto().raw('}');
    p.str('epoch').int(5).raw('s').str('global_step').int(470000).raw('s');
    p.str('pytorch-lightning_version').str('1.4.2').raw('s');
    // callbacks: {ModelCheckpoint: {"best_model_score": numpy.float64 scalar, "monitor": None}}
    p.str('callbacks').raw('}').global('pytorch_lightning.callbacks.model_checkpoint', 'ModelCheckpoint').raw('}');
    p.str('best_model_score').global('numpy.core.multiarray', 'scalar').mark();
    p.global('numpy', 'dtype').tuple((q) => q.str('f8').raw(0x89, 0x88)).raw('R');
    p.tuple((q) => q.int(3).str('<').raw('N', 'N', 'N').int(0).int(0).int(0)).raw('b');
    p.global('_codecs', 'encode').tuple((q) => q.str('\u0000\u0000\u0000\u0000\u0000\u0000\u00f0?').str('latin1')).raw('R');
    p.raw('t', 'R', 's').str('monitor').raw('N', 's', 's', 's');
    p.str('tags').global('builtins', 'set').mark().raw(']').str('a').raw('a').raw('t', 'R', 's');
    p.str('state_dict').global('collections', 'OrderedDict').raw(')', 'R').mark();
    p.str('model.diffusion_model.out.2.bias').global('torch._utils', '_rebuild_parameter').mark();
    p.tensor({ storageType: 'FloatStorage', key: '0', numel: 4, shape: [4] }).raw(0x88).global('collections', 'OrderedDict').raw(')', 'R', 't', 'R');
    p.raw('u', 's', '.');
    const path = join(work, 'lightning.ckpt');
    writeFileSync(path, miniCheckpoint([{ name: 'unused', values, shape: [4] }], { pickle: p.bytes() }).file);
    const info = await addon.inspectCheckpoint(path, { verify: true });
    assert.deepEqual(info.tensors.map((t) => [t.name, t.dtype, t.shape]), [['model.diffusion_model.out.2.bias', 'F32', [4]]]);
    assert.equal(info.tensors[0]!.crc32, crc32(Buffer.from(values.buffer)));
    assert.deepEqual(info.metadata, { epoch: '5', global_step: '470000', 'pytorch-lightning_version': '1.4.2' });
    assert.match(info.configError ?? '', /no VAE weights/);
  });

  it('reads deflated, zip64, data-descriptor and renamed-folder archives as written by Node zlib', async () => {
    const entries = readZipEntries(readFileSync(ckptPath));
    const reference = crcByName(ckptInfo);
    const variants: { label: string; entry: Partial<ZipEntryIn>; zip?: ZipOptions; folder?: string }[] = [
      { label: 'deflate level 6, zip64, data descriptors', entry: { deflate: { level: 6 }, zip64: true, dataDescriptor: true }, zip: { zip64: true } },
      { label: 'deflate level 1, fixed Huffman codes', entry: { deflate: { level: 1, strategy: zlib.Z_FIXED } } },
      { label: 'deflate Huffman only', entry: { deflate: { level: 6, strategy: zlib.Z_HUFFMAN_ONLY } } },
      { label: 'deflate RLE', entry: { deflate: { level: 6, strategy: zlib.Z_RLE } } },
      { label: 'deflate level 0 (stored blocks), archive comment, folder sd-v1-4/', entry: { deflate: { level: 0 } }, zip: { comment: 'saved by a test' }, folder: 'sd-v1-4' },
      { label: 'deflate level 9, small window, aligned', entry: { deflate: { level: 9, windowBits: 9, memLevel: 1 } }, zip: { align: true } },
      { label: 'stored, zip64 extra fields only', entry: { zip64: true } },
    ];
    for (const v of variants) {
      const rebuilt = buildZip(
        entries.map((e) => ({ name: v.folder ? e.name.replace(/^archive\//, `${v.folder}/`) : e.name, data: e.data, ...v.entry })),
        v.zip,
      );
      const path = join(work, 'variant.ckpt');
      writeFileSync(path, rebuilt.file);
      const info = await addon.inspectCheckpoint(path, { verify: true, dtype: 'f32' });
      assert.equal(info.tensors.length, 913, v.label);
      for (const t of info.tensors) assert.equal(t.crc32, reference.get(t.name), `${v.label}: ${t.name}`);
    }
  });
});
