import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadAddon } from '../../cli/binding/load-addon.js';
import { readSafetensorsHeader, zeroSafetensors } from '../helpers/checkpoint-files.js';

type Spec = { name: string; dtype: string; shape: number[] };

const unet = 'model.diffusion_model.';

/** The tiny fixture's tensor list, edited by `edit`, as a zero-filled safetensors file without config. */
function variant(base: Spec[], edit: (specs: Spec[]) => Spec[]): Buffer {
  return zeroSafetensors(edit(base.map((s) => ({ ...s, shape: [...s.shape] }))));
}

function reshape(name: string, shape: number[]): (specs: Spec[]) => Spec[] {
  return (specs) => specs.map((s) => (s.name === name ? { ...s, shape } : s));
}

describe('model detection', { timeout: 120_000 }, () => {
  const addon = loadAddon();
  let work = '';
  let base: Spec[] = [];

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'sd-detect-test-'));
    const header = readSafetensorsHeader(readFileSync('test/fixtures/tiny-sd1/model.safetensors'));
    base = [...header.tensors].map(([name, e]) => ({ name, dtype: e.dtype, shape: e.shape }));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  async function detect(file: Buffer, name = 'model.safetensors') {
    const path = join(work, name);
    writeFileSync(path, file);
    return addon.inspectCheckpoint(path);
  }

  it('accepts the unedited layout (the baseline the refusals below depart from)', async () => {
    const info = await detect(variant(base, (s) => s));
    assert.equal(info.configSource, 'inferred', info.configError);
  });

  const refusals: { label: string; edit: (specs: Spec[]) => Spec[]; message: RegExp }[] = [
    {
      label: 'SDXL',
      edit: (s) => [...s, { name: 'conditioner.embedders.0.transformer.text_model.final_layer_norm.weight', dtype: 'F16', shape: [32] }],
      message: /SDXL checkpoint/,
    },
    {
      label: 'SD 2.x (OpenCLIP text encoder)',
      edit: (s) => [...s.filter((x) => !x.name.startsWith('cond_stage_model.')), { name: 'cond_stage_model.model.ln_final.weight', dtype: 'F16', shape: [32] }],
      message: /SD 2\.x checkpoint/,
    },
    {
      label: 'SD 2.x (1024-wide context)',
      edit: reshape(`${unet}middle_block.1.transformer_blocks.0.attn2.to_k.weight`, [64, 1024]),
      message: /SD 2\.x model \(1024-wide/,
    },
    {
      label: 'SD 2.x (linear proj_in)',
      edit: reshape(`${unet}middle_block.1.proj_in.weight`, [64, 64]),
      message: /linear proj_in/,
    },
    { label: 'inpainting', edit: reshape(`${unet}input_blocks.0.0.weight`, [32, 9, 3, 3]), message: /inpainting model \(9 UNet input channels\)/ },
    { label: 'InstructPix2Pix', edit: reshape(`${unet}input_blocks.0.0.weight`, [32, 8, 3, 3]), message: /InstructPix2Pix/ },
    {
      label: 'LoRA',
      edit: () => [
        { name: 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight', dtype: 'F16', shape: [4, 32] },
        { name: 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight', dtype: 'F16', shape: [32, 4] },
      ],
      message: /is a LoRA/,
    },
    {
      label: 'VAE only',
      edit: (s) => s.filter((x) => x.name.startsWith('first_stage_model.')).map((x) => ({ ...x, name: x.name.slice('first_stage_model.'.length) })),
      message: /VAE on its own/,
    },
    {
      label: 'textual inversion embedding',
      edit: () => [{ name: 'emb_params', dtype: 'F32', shape: [2, 768] }],
      message: /textual-inversion embedding/,
    },
    {
      label: 'diffusers component',
      edit: () => [{ name: 'down_blocks.0.resnets.0.conv1.weight', dtype: 'F16', shape: [32, 32, 3, 3] }],
      message: /diffusers-format/,
    },
    {
      label: 'the pre-4.19 transformers CLIP names',
      edit: (s) => s.map((x) => ({ ...x, name: x.name.replace('cond_stage_model.transformer.text_model.', 'cond_stage_model.transformer.') })),
      message: /transformers < 4\.19/,
    },
    { label: 'no VAE', edit: (s) => s.filter((x) => !x.name.startsWith('first_stage_model.')), message: /no VAE weights/ },
    {
      label: 'a missing tensor',
      edit: (s) => s.filter((x) => x.name !== `${unet}output_blocks.5.1.proj_out.weight`),
      message: /lacks 1 tensor\(s\) of the SD 1\.x model .*output_blocks\.5\.1\.proj_out\.weight/,
    },
    {
      label: 'an unexpected UNet tensor',
      edit: (s) => [...s, { name: `${unet}input_blocks.1.2.weight`, dtype: 'F16', shape: [4] }],
      message: /input_blocks\.1\.2\.weight.*different architecture/,
    },
    {
      label: 'a tensor of the wrong shape',
      edit: reshape(`${unet}output_blocks.3.0.skip_connection.weight`, [64, 127, 1, 1]),
      message: /skip_connection\.weight" has shape \[64, 127, 1, 1\], but the configuration from the shapes of its tensors needs \[64, 128, 1, 1\]/,
    },
  ];
  for (const r of refusals) {
    it(`refuses ${r.label} with a clear message`, async () => {
      const info = await detect(variant(base, r.edit));
      assert.equal(info.config, undefined);
      assert.match(info.configError ?? '', r.message);
    });
  }

  it('ignores model_ema.* and training scalars beside the weights', async () => {
    const info = await detect(
      variant(base, (s) => [...s, { name: 'model_ema.decay', dtype: 'F32', shape: [] }, { name: 'model_ema.num_updates', dtype: 'I32', shape: [] }]),
    );
    assert.equal(info.configSource, 'inferred', info.configError);
  });

  it('uses <stem>.config.json beside a file, and rejects one that does not match the weights', async () => {
    const tiny = JSON.parse(readFileSync('test/fixtures/tiny-sd1/config.json', 'utf8')) as { unet: { num_heads: number; model_channels: number } };
    writeFileSync(join(work, 'sidecar.config.json'), JSON.stringify(tiny));
    const ok = await detect(variant(base, (s) => s), 'sidecar.safetensors');
    assert.equal(ok.configSource, join(work, 'sidecar.config.json'));
    assert.equal((ok.config as { unet: { num_heads: number } }).unet.num_heads, 2);
    writeFileSync(join(work, 'sidecar.config.json'), JSON.stringify({ ...tiny, unet: { ...tiny.unet, model_channels: 64 } }));
    const bad = await detect(variant(base, (s) => s), 'sidecar.safetensors');
    assert.match(bad.configError ?? '', /configuration from .*sidecar\.config\.json needs/);
  });

  it('rejects files that are not checkpoints with a message saying what they are', async () => {
    const cases: { bytes: Buffer; message: RegExp }[] = [
      { bytes: Buffer.from('<!DOCTYPE html><html><body>Access denied</body></html>'), message: /web page \(HTML\).*download/ },
      { bytes: Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8]), message: /legacy PyTorch format/ },
      { bytes: Buffer.alloc(0), message: /truncated|0 bytes/ },
      { bytes: Buffer.from('just some text, not a model at all'), message: /neither a \.safetensors file nor a PyTorch/ },
      { bytes: Buffer.from('PK\x05\x06' + '\0'.repeat(18), 'latin1'), message: /zip archive that does not start with a file entry/ },
    ];
    for (const c of cases) {
      await assert.rejects(detect(c.bytes, 'not-a-model.ckpt'), (e: Error) => {
        assert.match(e.message, c.message);
        assert.match(e.message, /not-a-model\.ckpt/);
        return true;
      });
    }
    await assert.rejects(addon.inspectCheckpoint(join(work, 'missing.safetensors')), /cannot open .*missing\.safetensors/);
    await assert.rejects(addon.inspectCheckpoint(work), /is not a regular file|cannot open/);
  });
});
