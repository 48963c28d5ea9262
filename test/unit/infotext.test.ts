import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createInfotext, parseInfotext } from '../../cli/generate/infotext.js';
import { imageFileName, nextImageNumber, outputFolder } from '../../cli/generate/output-files.js';

describe('infotext', () => {
  it('writes the webui layout', () => {
    const text = createInfotext({
      prompt: 'a lighthouse, (dusk:1.2)',
      negativePrompt: 'blurry',
      steps: 20,
      sampler: 'Euler a',
      cfgScale: 7,
      seed: 1234,
      width: 512,
      height: 768,
      modelHash: '6ce0161689',
      modelName: 'v1-5-pruned-emaonly',
      clipSkip: 2,
      rng: 'CPU',
    });
    assert.equal(
      text,
      'a lighthouse, (dusk:1.2)\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1234, Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Clip skip: 2, RNG: CPU',
    );
  });
  it('omits an empty negative prompt and the default clip skip, quotes values with commas', () => {
    const text = createInfotext({ prompt: 'x', negativePrompt: '', steps: 5, sampler: 'DPM++ 2M', cfgScale: 7.5, seed: 1, width: 64, height: 64, clipSkip: 1, extra: { Note: 'a, b' } });
    assert.equal(text, 'x\nSteps: 5, Sampler: DPM++ 2M, CFG scale: 7.5, Seed: 1, Size: 64x64, Note: "a, b"');
  });
  it('parses what it writes', () => {
    const parsed = parseInfotext('two\nlines\nNegative prompt: bad\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 9, Size: 512x512, Note: "a, b"');
    assert.equal(parsed.prompt, 'two\nlines');
    assert.equal(parsed.negativePrompt, 'bad');
    assert.equal(parsed.params.Sampler, 'DPM++ 2M Karras');
    assert.equal(parsed.params.Note, 'a, b');
  });
});

describe('output files', () => {
  it('numbers files after the highest existing one', () => {
    const root = mkdtempSync(join(tmpdir(), 'sd-out-'));
    try {
      const folder = outputFolder(root, 'txt2img', new Date(2026, 10, 26));
      assert.ok(folder.endsWith(join('txt2img-images', '2026-11-26')));
      assert.equal(nextImageNumber(folder), 0);
      writeFileSync(join(folder, imageFileName(7, 42)), '');
      writeFileSync(join(folder, 'notes.txt'), '');
      assert.equal(nextImageNumber(folder), 8);
      assert.equal(imageFileName(8, 123456789), '00008-123456789.png');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
