// npm run bench:model -- --out DIR [--config sd15|PATH.json] [--format safetensors|ckpt]
//                        [--dtype f16|f32|bf16] [--seed N]
// Writes a full-size random-weight SD 1.x checkpoint for benchmarks (no
// download needed) through `sd-driver make-model`, and prints its path.
// sd15 in fp16 is 2.1 GB as .safetensors; in fp32 as .ckpt, 4.3 GB.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../cli/paths.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    config: { type: 'string', default: 'sd15' },
    format: { type: 'string', default: 'safetensors' },
    dtype: { type: 'string', default: 'f16' },
    seed: { type: 'string', default: '0' },
  },
  strict: true,
});

if (!values.out) {
  console.error('usage: npm run bench:model -- --out DIR [--config sd15|PATH.json] [--format safetensors|ckpt] [--dtype f16|f32|bf16] [--seed N]');
  process.exit(2);
}
const driver = join(packageRoot(), 'build', 'native', process.platform === 'win32' ? 'sd-driver.exe' : 'sd-driver');
if (!existsSync(driver)) {
  console.error(`${driver} is not built; run "npm run build:native" first`);
  process.exit(1);
}
mkdirSync(values.out, { recursive: true });
const stem = values.config === 'sd15' ? 'sd15' : 'model';
const file = join(values.out, `${stem}-random-${values.dtype}.${values.format === 'ckpt' ? 'ckpt' : 'safetensors'}`);
const args = ['make-model', '--config', values.config!, '--out', file, '--format', values.format!, '--dtype', values.dtype!, '--seed', values.seed!];
const result = spawnSync(driver, args, { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
console.log(file);
