import { UsageError } from '../errors.js';
import type { DoctorReport, Engine } from '../hardware/report.js';
import type { Choice } from './asker.js';
import { saveConfig, type SetupContext, type SetupStep } from './context.js';

/**
 * Step 2c: which engine to build. CUDA is offered (and recommended) when the
 * doctor found a GPU, a driver and a toolkit that fit; otherwise it is shown
 * greyed out with the reason, and the CPU engine is the answer.
 */
export const engineChoiceStep: SetupStep = {
  id: 'engine-choice',
  title: 'Engine',
  async isDone() {
    return { done: false, detail: 'always chosen' };
  },
  async run(ctx) {
    const report = ctx.report!;
    const options = engineOptions(report);
    const cudaOk = options.find((o) => o.value === 'cuda' && !o.disabled) !== undefined;
    let engine: Engine;
    if (ctx.flags.engine !== undefined) {
      if (ctx.flags.engine === 'cuda' && !cudaOk) {
        throw new UsageError(`--engine cuda: ${cudaUnavailable(report)}`, 'fix that (see the report above) or use --engine cpu');
      }
      engine = ctx.flags.engine;
    } else if (ctx.config.choices.engine === 'cpu' || (ctx.config.choices.engine === 'cuda' && cudaOk)) {
      engine = ctx.config.choices.engine;
    } else if (!cudaOk) {
      engine = 'cpu';
    } else {
      engine = await ctx.asker.select({ flag: '--engine', message: 'Which engine should be built?', choices: options, default: report.verdict.engine });
    }
    ctx.config.choices.engine = engine;
    ctx.say(`  engine: ${engine === 'cuda' ? `CUDA (${gpuLine(report)})` : `CPU${cudaOk ? '' : ` (${cudaUnavailable(report)})`}`}`);
    await saveConfig(ctx);
  },
};

export function engineOptions(report: DoctorReport): Choice<Engine>[] {
  const v = report.verdict;
  const hasNvidia = nvidiaPresent(report);
  const cpu: Choice<Engine> = {
    value: 'cpu',
    name: v.engine === 'cpu' ? 'CPU (recommended)' : 'CPU',
    description: 'works on any computer; a 512×512 image takes minutes instead of seconds',
  };
  if (!hasNvidia) return [cpu];
  if (v.engine === 'cuda') {
    return [{ value: 'cuda', name: 'CUDA (recommended)', description: `${gpuLine(report)}, built with ${v.nvcc} for sm_${v.cudaArchitectures}` }, cpu];
  }
  return [{ value: 'cuda', name: 'CUDA', disabled: cudaUnavailable(report) }, cpu];
}

function gpuLine(report: DoctorReport): string {
  const gpu = report.nvidia.gpus.find((g) => g.index === report.verdict.gpuIndex) ?? report.nvidia.gpus[0];
  if (!gpu) return 'NVIDIA GPU';
  return `${gpu.name}${gpu.memoryTotalMiB ? `, ${(gpu.memoryTotalMiB / 1024).toFixed(1)} GB` : ''}`;
}

/** Why the CUDA engine is not possible: the first finding that blocks the GPU, with its fix. */
export function cudaUnavailable(report: DoctorReport): string {
  if (!nvidiaPresent(report)) return 'no NVIDIA GPU found';
  const blocker = report.findings.find((f) => f.blocks === 'gpu' && f.severity !== 'ok');
  if (!blocker) return 'the GPU cannot run the CUDA engine';
  return blocker.fix ? `${blocker.message} (${blocker.fix})` : blocker.message;
}

/** An NVIDIA GPU the driver reports, or one the system lists while the driver is missing or broken. */
function nvidiaPresent(report: DoctorReport): boolean {
  return report.nvidia.gpus.length > 0 || report.adapters.adapters.some((a) => a.vendor === 'nvidia');
}
