import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePng } from '../image/png-encode.js';
import { imageFileName, nextImageNumber } from './output-files.js';
import type { GeneratedImage } from './types.js';

/**
 * Writes pictures as the webui names them (NNNNN-SEED.png) with the infotext in
 * the "parameters" chunk. Each file appears whole or not at all (temp + rename).
 */
export function saveImages(folder: string, images: GeneratedImage[]): string[] {
  let number = nextImageNumber(folder);
  return images.map((image) => {
    const path = join(folder, imageFileName(number++, image.seed));
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, encodePng(image, { parameters: image.infotext }));
    renameSync(temp, path);
    return path;
  });
}
