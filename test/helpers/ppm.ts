import { readFileSync } from 'node:fs';
import type { RgbImage } from '../../cli/image/png-encode.js';

/** Reads a binary PPM (P6, maxval 255) — the expected pixels of test/fixtures/images. */
export function readPpm(path: string): RgbImage {
  const buf = readFileSync(path);
  const header = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(buf.toString('latin1', 0, 64));
  if (!header) throw new Error(`${path} is not an 8-bit P6 PPM`);
  const width = Number(header[1]), height = Number(header[2]);
  return { width, height, data: new Uint8Array(buf.subarray(header[0].length, header[0].length + width * height * 3)) };
}
