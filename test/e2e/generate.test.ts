import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseInfotext } from '../../cli/generate/infotext.js';
import { decodePng } from '../../cli/image/png-decode.js';
import { tinyCases } from '../helpers/fixtures.js';
import { readSafetensors } from '../helpers/safetensors.js';

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [join(process.cwd(), 'dist', 'cli', 'main.js'), 'generate', ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function pngsIn(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(join(d, e.name));
    }
  };
  walk(dir);
  return out.sort();
}

describe('sd-setup generate with the built-in tiny model', { timeout: 300_000 }, () => {
  let work = '';
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'sd-generate-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('reproduces the reference Euler run pixel for pixel from its noise', () => {
    // The fixture's sampler_euler case: CompVis/k-diffusion/webui CFG on the tiny
    // model from a given noise; we feed the same noise through the whole CLI.
    const cases = readSafetensors(tinyCases);
    const noise = cases.get('sampler_euler/noise')!;
    const expected = cases.get('sampler_euler/image_uint8')!;
    const noiseFile = join(work, 'noise.f32');
    writeFileSync(noiseFile, Buffer.from((noise.data as Float32Array).buffer));
    const out = join(work, 'euler');
    const r = cli(
      ['--model', 'tiny', '--prompt', 'a photograph of an astronaut riding a horse', '--sampler', 'Euler', '--steps', '6', '--cfg', '7.5',
        '--width', '128', '--height', '128', '--seed', '1', '--noise', noiseFile, '--out', out],
      work,
    );
    assert.equal(r.code, 0, r.stderr);
    const files = pngsIn(out);
    assert.equal(files.length, 1);
    assert.match(files[0]!, /txt2img-images[/\\]\d{4}-\d\d-\d\d[/\\]00000-1\.png$/);
    const png = decodePng(readFileSync(files[0]!));
    assert.equal(png.width, 128);
    assert.equal(png.height, 128);
    const want = expected.data as Uint8Array;
    let mismatched = 0;
    let worst = 0;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(png.data[i]! - want[i]!);
      worst = Math.max(worst, d);
      if (d) mismatched++;
    }
    // The manifest's tolerance for 8-bit pictures: every value within 1, at most 1% differing.
    assert.ok(worst <= 1 && mismatched / want.length <= 0.01, `worst ${worst}, ${mismatched} values differ`);
    const info = parseInfotext(png.text.parameters!);
    assert.equal(info.prompt, 'a photograph of an astronaut riding a horse');
    assert.equal(info.params.Steps, '6');
    assert.equal(info.params.Sampler, 'Euler');
    assert.equal(info.params['CFG scale'], '7.5');
    assert.equal(info.params.Seed, '1');
    assert.equal(info.params.Size, '128x128');
    assert.equal(info.params.Model, 'tiny-sd1');
    assert.match(info.params['Model hash']!, /^[0-9a-f]{10}$/);
  });

  it('makes the same picture from the same seed, seed+1 per picture, and writes the negative prompt', () => {
    const args = ['--model', 'tiny', '-p', '(a cat:1.2), BREAK night', '-n', 'blurry', '-W', '64', '-H', '64', '--steps', '4', '--seed', '77', '--batch-size', '2'];
    const a = cli([...args, '--out', join(work, 'a')], work);
    const b = cli([...args, '--out', join(work, 'b')], work);
    assert.equal(a.code, 0, a.stderr);
    const fa = pngsIn(join(work, 'a')), fb = pngsIn(join(work, 'b'));
    assert.deepEqual(fa.map((f) => f.split(/[/\\]/).pop()), ['00000-77.png', '00001-78.png']);
    const pa = fa.map((f) => decodePng(readFileSync(f))), pb = fb.map((f) => decodePng(readFileSync(f)));
    assert.deepEqual(pa[0]!.data, pb[0]!.data, 'same seed, same picture');
    assert.notDeepEqual(pa[0]!.data, pa[1]!.data, 'seed+1 gives another picture');
    const info = parseInfotext(pa[1]!.text.parameters!);
    assert.equal(info.negativePrompt, 'blurry');
    assert.equal(info.params.Seed, '78');
  });

  it('makes pictures whose sides are multiples of 8 but not of 64', () => {
    const out = join(work, 'odd');
    const r = cli(['--model', 'tiny', '-p', 'x', '-W', '72', '-H', '88', '--steps', '3', '--seed', '3', '--out', out], work);
    assert.equal(r.code, 0, r.stderr);
    const png = decodePng(readFileSync(pngsIn(out)[0]!));
    assert.deepEqual([png.width, png.height], [72, 88]);
  });

  it('runs img2img from a JPEG and records the denoising strength', () => {
    const r = cli(['--model', 'tiny', '-p', 'x', '--init-image', join(process.cwd(), 'test/fixtures/images/photo.jpg'), '--strength', '0.5',
      '-W', '64', '-H', '64', '--steps', '4', '--seed', '5', '--rng', 'cpu', '--out', join(work, 'i2i')], work);
    assert.equal(r.code, 0, r.stderr);
    const files = pngsIn(join(work, 'i2i'));
    assert.match(files[0]!, /img2img-images/);
    const info = parseInfotext(decodePng(readFileSync(files[0]!)).text.parameters!);
    assert.equal(info.params['Denoising strength'], '0.5');
    assert.equal(info.params.RNG, 'CPU');
  });

  it('refuses bad input before loading anything', () => {
    assert.match(cli(['-p', 'x', '-W', '100'], work).stderr, /--width: must be a multiple of 8/);
    assert.match(cli(['-p', 'x', '--sampler', 'Nope'], work).stderr, /--sampler: unknown sampler "Nope"/);
    assert.match(cli(['-p', 'x', '--init-image', join(process.cwd(), 'package.json')], work).stderr, /use a PNG or JPEG/);
    assert.match(cli(['-p', 'x', '--model', join(work, 'missing.safetensors')], work).stderr, /no model file/);
    assert.match(cli([], work).stderr, /--prompt is required/);
  });

  // Ctrl-C, and SIGTERM as a service manager or `timeout` sends it.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`stops on ${signal} without leaving a picture behind`, async () => {
      const { spawn } = await import('node:child_process');
      const out = join(work, `interrupted-${signal}`);
      const child = spawn(process.execPath, [join(process.cwd(), 'dist', 'cli', 'main.js'), 'generate', '--model', 'tiny', '-p', 'x',
        '-W', '256', '-H', '256', '--steps', '150', '--out', out], { cwd: work });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/sampling/.test(stderr) && !child.killed) child.kill(signal);
      });
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.equal(code, 130, stderr);
      assert.match(stderr, /nothing unfinished will be written/);
      assert.deepEqual(pngsIn(out).filter((f) => f.endsWith('.png')), []);
      assert.deepEqual(pngsIn(out).filter((f) => f.endsWith('.tmp')), []);
    });
  }
});
