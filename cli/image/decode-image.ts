import jpeg from 'jpeg-js';
import { decodePng, ImageDecodeError } from './png-decode.js';
import type { RgbImage } from './png-encode.js';

export { ImageDecodeError };

/**
 * Decodes an uploaded or on-disk picture (PNG or JPEG, recognised by content,
 * not name) to 8-bit RGB. Anything else is an ImageDecodeError saying what to use.
 */
export function decodeImage(file: Uint8Array): RgbImage {
  if (file.length >= 8 && file[0] === 0x89 && file[1] === 0x50 && file[2] === 0x4e && file[3] === 0x47) {
    const { width, height, data } = decodePng(file);
    return { width, height, data };
  }
  if (file.length >= 3 && file[0] === 0xff && file[1] === 0xd8 && file[2] === 0xff) {
    let decoded;
    try {
      decoded = jpeg.decode(file, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: 64, maxMemoryUsageInMB: 1024 });
    } catch (e) {
      throw new ImageDecodeError(`the JPEG file is corrupt or unsupported: ${(e as Error).message}`);
    }
    return { width: decoded.width, height: decoded.height, data: decoded.data };
  }
  throw new ImageDecodeError('unsupported image format: use a PNG or JPEG file');
}
