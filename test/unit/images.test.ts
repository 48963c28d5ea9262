import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeImage, ImageDecodeError } from '../../cli/image/decode-image.js';
import { decodePng } from '../../cli/image/png-decode.js';
import { encodePng } from '../../cli/image/png-encode.js';
import { fitImage, resizeLanczos } from '../../cli/image/resize.js';
import { readPpm } from '../helpers/ppm.js';

const dir = join('test', 'fixtures', 'images');
const file = (name: string) => readFileSync(join(dir, name));

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('image decoding (against ImageMagick-written files)', () => {
  const base = readPpm(join(dir, 'base.ppm'));
  for (const name of ['rgb8.png', 'rgb16.png', 'rgba8.png', 'interlaced.png']) {
    it(`decodes ${name} exactly`, () => {
      const img = decodeImage(file(name));
      assert.equal(img.width, 37);
      assert.equal(img.height, 23);
      assert.equal(maxDiff(img.data, base.data), 0);
    });
  }
  it('decodes palette and 4-bit grey PNGs exactly', () => {
    assert.equal(maxDiff(decodeImage(file('palette.png')).data, readPpm(join(dir, 'palette.ppm')).data), 0);
    assert.equal(maxDiff(decodeImage(file('gray4.png')).data, readPpm(join(dir, 'gray4.ppm')).data), 0);
  });
  it('decodes a JPEG within IDCT rounding of libjpeg', () => {
    assert.ok(maxDiff(decodeImage(file('photo.jpg')).data, readPpm(join(dir, 'photo.ppm')).data) <= 3);
  });
  it('composites transparency over white', () => {
    const img = decodeImage(file('half-red.png'));
    assert.deepEqual([...img.data.subarray(0, 3)], [255, 128, 128]);
  });
  it('refuses what it cannot read with a clear error', () => {
    assert.throws(() => decodeImage(Buffer.from('GIF89a....')), /use a PNG or JPEG/);
    const broken = Buffer.from(file('rgb8.png'));
    broken[40] = broken[40]! ^ 0xff;
    assert.throws(() => decodeImage(broken), ImageDecodeError);
    assert.throws(() => decodeImage(file('rgb8.png').subarray(0, 200)), ImageDecodeError);
    assert.throws(() => decodeImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])), ImageDecodeError);
  });
});

describe('PNG encoding', () => {
  it('round-trips pixels and stores text as tEXt or iTXt', () => {
    const data = new Uint8Array(5 * 3 * 3).map((_, i) => (i * 37) % 256);
    const png = encodePng({ width: 5, height: 3, data }, { parameters: 'a cat\nSteps: 20', comment: 'naïve — ✓' });
    const back = decodePng(png);
    assert.deepEqual(back.data, data);
    assert.equal(back.text.parameters, 'a cat\nSteps: 20');
    assert.equal(back.text.comment, 'naïve — ✓');
    assert.ok(png.includes(Buffer.from('tEXtparameters')));
    assert.ok(png.includes(Buffer.from('iTXtcomment')));
  });
});

describe('resizing', () => {
  it('keeps a flat colour flat and hits the requested size', () => {
    const flat = { width: 40, height: 30, data: new Uint8Array(40 * 30 * 3).fill(77) };
    for (const [w, h] of [[64, 64], [16, 8], [41, 29]] as const) {
      const r = resizeLanczos(flat, w, h);
      assert.equal(r.data.length, w * h * 3);
      assert.ok(r.data.every((v) => v === 77));
    }
  });
  it('crops to cover and fills to fit', () => {
    const src = { width: 20, height: 10, data: new Uint8Array(20 * 10 * 3) };
    for (let x = 0; x < 20; x++) for (let y = 0; y < 10; y++) src.data[(y * 20 + x) * 3] = x < 10 ? 0 : 255;
    const cropped = fitImage(src, 10, 10, 'crop');
    assert.equal(cropped.width, 10);
    assert.ok(cropped.data[0]! < 40 && cropped.data[(10 - 1) * 3]! > 215, 'centre crop keeps both halves');
    const filled = fitImage(src, 20, 20, 'fill');
    assert.equal(filled.data[0], 0, 'top-left border repeats the left edge');
    assert.equal(filled.data[(20 * 20 - 1) * 3], 255, 'bottom-right border repeats the right edge');
  });
});
