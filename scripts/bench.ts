// npm run bench -- --model PATH [--json FILE] [--precision f16|f32|bf16] [--sizes 512,256] [--reps N] [--threads N]
// CPU speed of the engine on a full-size checkpoint (usually the random SD 1.5
// from `npm run bench:model -- --out DIR`): text encoder, UNet CFG step (batch 2)
// per size, VAE decode, load time, peak RSS, the machine's measured fp32 (or
// bf16) ceiling and the efficiency against it, the ceiling measured again next
// to every timed step because shared machines change speed from minute to
// minute. A benchmark script, never a test.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../cli/paths.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    json: { type: 'string' },
    precision: { type: 'string', default: 'f16' },
    sizes: { type: 'string', default: '512,256' },
    reps: { type: 'string', default: '3' },
    threads: { type: 'string' },
  },
  strict: true,
});
if (!values.model || !existsSync(values.model)) {
  console.error('usage: npm run bench -- --model PATH [--json FILE] [--precision f16|f32|bf16] [--sizes 512,256] [--reps N]');
  console.error('make a full-size random model first: npm run bench:model -- --out /tmp/sd-bench');
  process.exit(2);
}
const driver = join(packageRoot(), 'build', 'native', process.platform === 'win32' ? 'sd-driver.exe' : 'sd-driver');
if (!existsSync(driver)) {
  console.error(`${driver} is not built; run "npm run build:native" first`);
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), 'sd-bench-'));
const jsonFile = join(work, 'bench.json');
const env = { ...process.env, ...(values.threads ? { SD_THREADS: values.threads } : {}) };
const run = spawnSync(
  driver,
  ['bench', values.model, '--backend', 'cpu', '--precision', values.precision!, '--sizes', values.sizes!, '--reps', values.reps!, '--json', jsonFile],
  { stdio: ['ignore', 'inherit', 'inherit'], env },
);
if (run.status !== 0) process.exit(run.status ?? 1);
const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as Record<string, number | string>;
rmSync(work, { recursive: true, force: true });
const rows: [string, string][] = [
  ['precision (weights)', String(report.precision)],
  ['threads', String(report.threads)],
  ['GEMM kernel', String(report.gemm_kernel)],
  ['3x3 convolutions', String(report.convolution_3x3)],
  ['load', `${Number(report.load_s).toFixed(2)} s`],
  ['text encoder', `${Number(report.text_encoder_s).toFixed(3)} s`],
  ...values.sizes!.split(',').map((s): [string, string] => {
    const executed = report[`unet_cfg_step_${s}_executed_gflop`];
    const flops = `${Number(report[`unet_cfg_step_${s}_gflop`]).toFixed(0)} GFLOP${executed === undefined ? '' : `, ${Number(executed).toFixed(0)} executed`}`;
    return [`UNet CFG step ${s}x${s}`, `${Number(report[`unet_cfg_step_${s}_s`]).toFixed(2)} s (${flops})`];
  }),
  [`VAE decode ${values.sizes!.split(',')[0]}`, `${Number(report[`vae_decode_${values.sizes!.split(',')[0]}_s`]).toFixed(2)} s`],
  ['peak RSS', `${(Number(report.peak_rss_bytes) / 2 ** 30).toFixed(2)} GiB`],
  ['machine fp32 peak', `${Number(report.machine_peak_gflops).toFixed(0)} GFLOP/s`],
  ...(report.machine_peak_bf16_gflops !== undefined
    ? [['machine bf16 peak', `${Number(report.machine_peak_bf16_gflops).toFixed(0)} GFLOP/s`] as [string, string]]
    : []),
  // Counted in the direct convolution's FLOPs: above 100% is possible with Winograd.
  ['UNet efficiency', `${(Number(report.efficiency) * 100).toFixed(1)} % of the ceiling measured beside each step`],
  ...(report[`vae_decode_${values.sizes!.split(',')[0]}_efficiency`] !== undefined
    ? [['VAE efficiency', `${(Number(report[`vae_decode_${values.sizes!.split(',')[0]}_efficiency`]) * 100).toFixed(1)} % of the ceiling measured just before`] as [string, string]]
    : []),
];
console.log('');
for (const [k, v] of rows) console.log(`${k.padEnd(24)} ${v}`);
if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
