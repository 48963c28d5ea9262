import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The webui's default output layout: DIR/<txt2img|img2img>-images/YYYY-MM-DD/
 * and files named "NNNNN-SEED.png", NNNNN one more than the highest number
 * already in the folder (so files sort in creation order and never clash).
 */
export function outputFolder(root: string, kind: 'txt2img' | 'img2img', date = new Date()): string {
  const day = `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
  return join(root, `${kind}-images`, day);
}

export function nextImageNumber(folder: string): number {
  mkdirSync(folder, { recursive: true });
  let highest = -1;
  for (const name of readdirSync(folder)) {
    const m = /^(\d{5,})-/.exec(name);
    if (m) highest = Math.max(highest, Number(m[1]));
  }
  return highest + 1;
}

export function imageFileName(number: number, seed: number): string {
  return `${String(number).padStart(5, '0')}-${seed}.png`;
}
