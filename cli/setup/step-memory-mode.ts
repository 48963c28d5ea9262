import { DEFAULT_PORT } from '../config/install-config.js';
import { recommendMemoryMode, type MemoryModeChoice } from '../hardware/recommend-memory-mode.js';
import type { DoctorReport, MemoryMode } from '../hardware/report.js';
import { UsageError } from '../errors.js';
import type { Choice } from './asker.js';
import { saveConfig, type SetupStep } from './context.js';

const GPU_MODES: readonly { mode: MemoryMode; name: string; description: string }[] = [
  { mode: 'normal', name: 'normal', description: 'the whole model on the GPU: fastest, needs about 6 GB of VRAM' },
  { mode: 'medvram', name: 'medvram', description: 'one model part on the GPU at a time (the webui\'s --medvram): about 4 GB' },
  { mode: 'lowvram', name: 'lowvram', description: 'weights in RAM, moved to the GPU block by block (--lowvram): 2 GB GPUs, slower' },
];

/** The mode the doctor recommends for the GPU the engine runs on, with the reason in words. */
export function recommendedMode(report: DoctorReport): MemoryModeChoice {
  const gpu = report.verdict.engine === 'cuda' ? report.nvidia.gpus.find((g) => g.index === report.verdict.gpuIndex) : undefined;
  return recommendMemoryMode({
    gpu: gpu ? { vramTotalMiB: gpu.memoryTotalMiB } : null,
    ramTotalBytes: report.memory.totalBytes,
    ramAvailableBytes: report.memory.availableBytes,
  });
}

/**
 * Step 6: the memory mode (the recommended one preselected, with why), then
 * everything is saved: launch settings, and the install marked complete.
 */
export const memoryModeStep: SetupStep = {
  id: 'memory-mode',
  title: 'Memory mode',
  async isDone() {
    return { done: false, detail: 'always chosen' };
  },
  async run(ctx) {
    const engine = ctx.config.engine!.backend;
    let mode: MemoryMode;
    if (engine === 'cpu') {
      if (ctx.flags.memoryMode !== undefined && ctx.flags.memoryMode !== 'cpu') {
        throw new UsageError(`--memory-mode ${ctx.flags.memoryMode} needs the CUDA engine; the CPU engine was built`);
      }
      mode = 'cpu';
      ctx.say('  memory mode: cpu (the CPU engine uses system RAM)');
    } else {
      const recommended = recommendedMode(ctx.report!);
      const preselect = recommended.mode === 'cpu' ? 'lowvram' : recommended.mode;
      const saved = ctx.config.choices.memoryMode;
      if (ctx.flags.memoryMode !== undefined) mode = ctx.flags.memoryMode;
      else if (saved !== undefined && saved !== 'cpu') mode = saved;
      else {
        const choices: Choice<MemoryMode>[] = [
          ...GPU_MODES.map((m) => ({ value: m.mode, name: m.mode === preselect ? `${m.name} (recommended)` : m.name, description: m.description })),
          { value: 'cpu', name: 'cpu', description: 'do not use the GPU at all' },
        ];
        ctx.say(`  recommended: ${preselect}: ${recommended.reason}`);
        mode = await ctx.asker.select({ flag: '--memory-mode', message: 'Memory mode?', choices, default: preselect });
      }
      ctx.say(`  memory mode: ${mode}${mode === preselect ? ` (${recommended.reason})` : ''}`);
    }
    ctx.config.choices.memoryMode = mode;
    const previous = ctx.config.launch;
    ctx.config.launch = {
      port: ctx.flags.port ?? previous?.port ?? DEFAULT_PORT,
      listen: ctx.flags.listen || (previous?.listen ?? false),
      openBrowser: ctx.flags.open || (previous?.openBrowser ?? false),
    };
    ctx.config.completedAt = new Date().toISOString();
    await saveConfig(ctx);
  },
};
