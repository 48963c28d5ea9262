import { deflateSync } from 'node:zlib';
import { crc32 } from './crc32.js';

export interface RgbImage {
  width: number;
  height: number;
  /** width * height * 3 bytes, row-major RGB. */
  data: Uint8Array;
}

/**
 * Encodes 8-bit RGB as PNG, with text chunks the way PIL writes them for the
 * webui: tEXt when the value is Latin-1, otherwise iTXt (UTF-8). Other tools
 * (the webui's "PNG Info" tab, image viewers) read the "parameters" key.
 */
export function encodePng(image: RgbImage, text: Record<string, string> = {}): Buffer {
  const { width, height, data } = image;
  if (data.length !== width * height * 3) throw new Error(`encodePng: ${data.length} bytes for ${width}x${height} RGB`);
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none — deflate does well enough on generated pictures
    raw.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  const chunks = [chunk('IHDR', ihdr)];
  for (const [key, value] of Object.entries(text)) chunks.push(textChunk(key, value));
  chunks.push(chunk('IDAT', deflateSync(raw, { level: 6 })), chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks]);
}

function textChunk(key: string, value: string): Buffer {
  const latin1 = /^[\u0000-\u00ff]*$/.test(value);
  if (latin1) return chunk('tEXt', Buffer.concat([Buffer.from(key, 'latin1'), Buffer.from([0]), Buffer.from(value, 'latin1')]));
  // iTXt: keyword, 0, compression flag 0, method 0, empty language tag, 0, empty translated keyword, 0, UTF-8 text.
  return chunk('iTXt', Buffer.concat([Buffer.from(key, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(value, 'utf8')]));
}

function chunk(type: string, body: Buffer): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'latin1');
  body.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}
