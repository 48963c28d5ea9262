import { join } from 'node:path';

export const fixtureRoot = join('test', 'fixtures');
export const tinyDir = join(fixtureRoot, 'tiny-sd1');
export const tinySafetensors = join(tinyDir, 'model.safetensors');
export const tinyCkpt = join(tinyDir, 'model.ckpt');
export const tinyCases = join(tinyDir, 'cases.safetensors');
