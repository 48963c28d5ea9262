import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findModel } from '../download/catalogue.js';
import { UserError } from '../errors.js';

const CHECKPOINT = /\.(safetensors|ckpt)$/i;

function checkpointsIn(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => CHECKPOINT.test(name) && statSync(join(dir, name)).isFile()).sort();
  } catch {
    return [];
  }
}

/**
 * What --model names: "tiny" (the package's test model), a checkpoint path,
 * a catalogue id ("sd-v1-5": the file `sd-setup download sd-v1-5` writes),
 * or a file name in the models folder, with or without its extension.
 * Without --model, the only checkpoint in the models folder; with none or
 * several there, a UserError that lists them and says what to do.
 */
export function resolveServeModel(model: string | undefined, modelsDir: string, cwd: string): string {
  if (model === 'tiny') return 'tiny';
  if (model !== undefined) {
    const asPath = resolve(cwd, model);
    if (existsSync(asPath) && statSync(asPath).isFile()) return asPath;
    const catalogued = findModel(model)?.file;
    for (const name of [...(catalogued ? [catalogued] : []), model, `${model}.safetensors`, `${model}.ckpt`]) {
      const inDir = join(modelsDir, name);
      if (!/[\\/]/.test(model) && existsSync(inDir) && statSync(inDir).isFile()) return inDir;
    }
    const have = checkpointsIn(modelsDir);
    throw new UserError(`no model "${model}": not a file, and not in ${modelsDir}`, {
      hint: catalogued
        ? `download it first: sd-setup download ${model}`
        : have.length
          ? `models there: ${have.join(', ')}`
          : 'download one with "sd-setup download sd-v1-5", or try the web UI with --model tiny',
    });
  }
  const found = checkpointsIn(modelsDir);
  if (found.length === 1) return join(modelsDir, found[0]!);
  if (found.length === 0) {
    throw new UserError(`no checkpoint in ${modelsDir}`, {
      hint: 'download one with "sd-setup download sd-v1-5", pass --model PATH, or try the web UI with --model tiny (a tiny test model: its pictures are noise)',
    });
  }
  throw new UserError(`${found.length} checkpoints in ${modelsDir}; say which one to serve`, { hint: `--model ${found.map((f) => f.replace(CHECKPOINT, '')).join(' | --model ')}` });
}
