import { decodeImage, ImageDecodeError } from '../image/decode-image.js';
import type { RgbImage } from '../image/png-encode.js';
import { invalidField } from './http-error.js';
import { imageSize } from './image-size.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * An uploaded picture as the webui API takes it: base64 PNG or JPEG, with or
 * without a "data:image/...;base64," prefix. URLs are not fetched, and a
 * picture larger than `maxPixels` is refused from its header alone.
 */
export function decodeUploadedImage(value: unknown, field: string, maxPixels: number): RgbImage {
  if (typeof value !== 'string') throw invalidField(field, 'must be a base64-encoded PNG or JPEG picture (a string)');
  let text = value.trim();
  if (/^https?:\/\//i.test(text)) throw invalidField(field, 'pictures are not fetched from URLs; send the picture itself, base64-encoded');
  const dataUrl = /^data:([^,]*),/i.exec(text);
  if (dataUrl) {
    if (!/;base64$/i.test(dataUrl[1]!)) throw invalidField(field, 'a data: URL must be base64-encoded (data:image/png;base64,...)');
    text = text.slice(dataUrl[0].length);
  }
  text = text.replace(/\s+/g, '');
  if (text.length === 0) throw invalidField(field, 'is empty; send a base64-encoded PNG or JPEG picture');
  if (!BASE64.test(text) || text.length % 4 === 1) throw invalidField(field, 'is not valid base64');
  const bytes = Buffer.from(text, 'base64');
  const size = imageSize(bytes);
  if (!size) throw invalidField(field, 'is not a PNG or JPEG picture');
  if (size.width === 0 || size.height === 0) throw invalidField(field, `has no pixels (${size.width}x${size.height})`);
  if (size.width * size.height > maxPixels) {
    throw invalidField(field, `is ${size.width}x${size.height}, more than this server takes (${Math.floor(Math.sqrt(maxPixels))}x${Math.floor(Math.sqrt(maxPixels))} pixels); scale it down first`);
  }
  try {
    return decodeImage(bytes);
  } catch (error) {
    if (error instanceof ImageDecodeError) throw invalidField(field, `could not be decoded: ${error.message}`);
    throw error;
  }
}
