import { inflateSync } from 'node:zlib';
import { crc32 } from './crc32.js';
import type { RgbImage } from './png-encode.js';

export interface DecodedPng extends RgbImage {
  /** tEXt / iTXt / zTXt chunks by keyword. */
  text: Record<string, string>;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Refuse pictures that would need more memory than any SD input sensibly does. */
const MAX_PIXELS = 8192 * 8192;

export class ImageDecodeError extends Error {}

/**
 * Decodes any non-interlaced-or-interlaced PNG of bit depth 1-16 (grey, RGB,
 * palette, with alpha) to 8-bit RGB; alpha is composited over white, as the
 * webui flattens uploads. Malformed files throw ImageDecodeError, never crash.
 */
export function decodePng(file: Uint8Array): DecodedPng {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.length < 8 || !buf.subarray(0, 8).equals(SIGNATURE)) throw new ImageDecodeError('not a PNG file');
  let pos = 8;
  let width = 0, height = 0, depth = 0, colour = 0, interlace = 0;
  let palette: Buffer | undefined;
  let transparency: Buffer | undefined;
  const idat: Buffer[] = [];
  const text: Record<string, string> = {};
  let ended = false;
  while (pos + 12 <= buf.length && !ended) {
    const length = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    if (pos + 12 + length > buf.length) throw new ImageDecodeError(`PNG chunk ${type} runs past the end of the file`);
    const body = buf.subarray(pos + 8, pos + 8 + length);
    if (crc32(buf.subarray(pos + 4, pos + 8 + length)) !== buf.readUInt32BE(pos + 8 + length))
      throw new ImageDecodeError(`PNG chunk ${type} is corrupt (CRC mismatch)`);
    switch (type) {
      case 'IHDR':
        if (length !== 13) throw new ImageDecodeError('bad PNG header');
        width = body.readUInt32BE(0);
        height = body.readUInt32BE(4);
        depth = body[8]!;
        colour = body[9]!;
        interlace = body[12]!;
        break;
      case 'PLTE': palette = body; break;
      case 'tRNS': transparency = body; break;
      case 'IDAT': idat.push(body); break;
      case 'tEXt': {
        const zero = body.indexOf(0);
        if (zero > 0) text[body.toString('latin1', 0, zero)] = body.toString('latin1', zero + 1);
        break;
      }
      case 'iTXt': {
        const zero = body.indexOf(0);
        if (zero > 0 && body[zero + 1] === 0) {
          const lang = body.indexOf(0, zero + 3);
          const translated = lang >= 0 ? body.indexOf(0, lang + 1) : -1;
          if (translated >= 0) text[body.toString('latin1', 0, zero)] = body.toString('utf8', translated + 1);
        }
        break;
      }
      case 'IEND': ended = true; break;
      default: break;
    }
    pos += 12 + length;
  }
  if (!width || !height) throw new ImageDecodeError('PNG has no header');
  if (width * height > MAX_PIXELS) throw new ImageDecodeError(`PNG is ${width}x${height}, larger than this tool accepts`);
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colour];
  if (!channels || ![1, 2, 4, 8, 16].includes(depth)) throw new ImageDecodeError(`unsupported PNG colour type ${colour} / depth ${depth}`);
  if (colour === 3 && !palette) throw new ImageDecodeError('palette PNG without a palette');
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: 4 * 2 * MAX_PIXELS + height * 8 + 64 });
  } catch (e) {
    throw new ImageDecodeError(`PNG image data is corrupt: ${(e as Error).message}`);
  }
  const bitsPerPixel = channels * depth;
  const samples = new Uint16Array(width * height * channels);
  const passes = interlace
    ? [
        [0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2],
      ]
    : [[0, 0, 1, 1]];
  let offset = 0;
  for (const [x0, y0, dx, dy] of passes as [number, number, number, number][]) {
    const pw = Math.ceil((width - x0) / dx), ph = Math.ceil((height - y0) / dy);
    if (pw <= 0 || ph <= 0) continue;
    const stride = Math.ceil((pw * bitsPerPixel) / 8);
    const bpp = Math.max(1, bitsPerPixel >> 3);
    let prev = Buffer.alloc(stride);
    for (let y = 0; y < ph; y++) {
      if (offset + 1 + stride > raw.length) throw new ImageDecodeError('PNG image data is truncated');
      const filter = raw[offset]!;
      const line = Buffer.from(raw.subarray(offset + 1, offset + 1 + stride));
      offset += 1 + stride;
      unfilter(filter, line, prev, bpp);
      prev = line;
      for (let x = 0; x < pw; x++) {
        for (let c = 0; c < channels; c++) {
          const bit = (x * channels + c) * depth;
          let v: number;
          if (depth === 16) v = line.readUInt16BE(bit >> 3);
          else if (depth === 8) v = line[bit >> 3]!;
          else v = (line[bit >> 3]! >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
          samples[((y0 + y * dy) * width + x0 + x * dx) * channels + c] = v;
        }
      }
    }
  }
  const data = new Uint8Array(width * height * 3);
  const max = (1 << depth) - 1;
  const to8 = (v: number) => (depth === 16 ? v >> 8 : depth === 8 ? v : Math.round((v * 255) / max));
  for (let i = 0; i < width * height; i++) {
    let r: number, g: number, b: number, a = 255;
    const s = i * channels;
    if (colour === 3) {
      const index = samples[s]!;
      if (index * 3 + 2 >= palette!.length) throw new ImageDecodeError('palette index out of range');
      r = palette![index * 3]!;
      g = palette![index * 3 + 1]!;
      b = palette![index * 3 + 2]!;
      if (transparency && index < transparency.length) a = transparency[index]!;
    } else if (channels <= 2) {
      r = g = b = to8(samples[s]!);
      if (channels === 2) a = to8(samples[s + 1]!);
    } else {
      r = to8(samples[s]!);
      g = to8(samples[s + 1]!);
      b = to8(samples[s + 2]!);
      if (channels === 4) a = to8(samples[s + 3]!);
    }
    // Composite over white.
    data[i * 3] = Math.round((r * a + 255 * (255 - a)) / 255);
    data[i * 3 + 1] = Math.round((g * a + 255 * (255 - a)) / 255);
    data[i * 3 + 2] = Math.round((b * a + 255 * (255 - a)) / 255);
  }
  return { width, height, data, text };
}

function unfilter(filter: number, line: Buffer, prev: Buffer, bpp: number): void {
  for (let i = 0; i < line.length; i++) {
    const a = i >= bpp ? line[i - bpp]! : 0;
    const b = prev[i] ?? 0;
    const c = i >= bpp ? (prev[i - bpp] ?? 0) : 0;
    switch (filter) {
      case 0: break;
      case 1: line[i] = (line[i]! + a) & 0xff; break;
      case 2: line[i] = (line[i]! + b) & 0xff; break;
      case 3: line[i] = (line[i]! + ((a + b) >> 1)) & 0xff; break;
      case 4: {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        line[i] = (line[i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
        break;
      }
      default: throw new ImageDecodeError(`PNG uses unknown filter ${filter}`);
    }
  }
}
