import { buildEngine } from '../build/build-engine.js';
import type { BuildProgress } from '../build/build-progress.js';
import { defaultJobs } from '../build/cmake-js-commands.js';
import { formatDuration } from '../download/format.js';
import type { EngineRecord } from '../config/install-config.js';
import type { DoctorReport, Engine } from '../hardware/report.js';
import type { Io } from '../io.js';
import { saveConfig, type SetupContext, type SetupStep } from './context.js';
import { engineStatus } from './engine-status.js';
import { bar, ProgressLine } from './progress-line.js';

/** The CUDA architectures and nvcc of a CUDA build come from the diagnosis, never from CMakeLists.txt's defaults. */
export function wantedEngine(report: DoctorReport, backend: Engine): { backend: Engine; cudaArchitectures: string | null; nvcc: string | null } {
  return backend === 'cuda'
    ? { backend, cudaArchitectures: report.verdict.cudaArchitectures, nvcc: report.verdict.nvcc }
    : { backend, cudaArchitectures: null, nvcc: null };
}

/** Step 3: build the chosen engine with cmake-js (a few minutes), with live progress and a full log. */
export const buildStep: SetupStep = {
  id: 'build',
  title: 'Building the engine',
  async isDone(ctx) {
    const status = await engineStatus(ctx.installDir, ctx.config.engine, wantedEngine(ctx.report!, ctx.config.choices.engine!), { env: ctx.io.env });
    return status.usable ? { done: true, detail: `${status.path} loads and answers` } : { done: false, detail: status.why };
  },
  async run(ctx) {
    const wanted = wantedEngine(ctx.report!, ctx.config.choices.engine!);
    const record = await runBuild(ctx.io, {
      installDir: ctx.installDir,
      ...wanted,
      jobs: ctx.flags.jobs ?? defaultJobs(ctx.report!.cpu.cores, ctx.report!.memory.totalBytes, wanted.backend),
      env: ctx.io.env,
      signal: ctx.signal,
    });
    ctx.config.engine = withGpu(record, ctx.report!);
    await saveConfig(ctx);
  },
};

/** Notes the GPU a CUDA engine was built for (launch tells the server its memory size). */
export function withGpu(record: EngineRecord, report: DoctorReport): EngineRecord {
  const gpu = record.backend === 'cuda' ? report.nvidia.gpus.find((g) => g.index === report.verdict.gpuIndex) : undefined;
  return gpu ? { ...record, gpu: { name: gpu.name, memoryTotalMiB: gpu.memoryTotalMiB } } : record;
}

/** Runs buildEngine with the live view; shared by the guided install and `sd-setup build`. */
export async function runBuild(
  io: Io,
  options: Parameters<typeof buildEngine>[0] & { signal: AbortSignal },
): Promise<Awaited<ReturnType<typeof buildEngine>>> {
  const line = new ProgressLine(io);
  const started = Date.now();
  const what = options.backend === 'cuda' ? `CUDA engine for sm_${options.cudaArchitectures}` : 'CPU engine';
  io.err(`  building the ${what} with ${options.jobs} job${options.jobs === 1 ? '' : 's'} (a CPU build takes about 3 minutes on 2 cores)\n`);
  try {
    const record = await buildEngine(options, { signal: options.signal, onProgress: (p) => line.update(describe(p, started), progressKey(p)) });
    line.done();
    io.err(`  ✔ built in ${formatDuration((Date.now() - started) / 1000)} (log: ${record.log})\n`);
    return record;
  } finally {
    line.done();
  }
}

function describe(p: BuildProgress, started: number): string {
  const elapsed = formatDuration((Date.now() - started) / 1000);
  if (p.percent === undefined) return `  ${p.phase === 'configure' ? 'configuring' : 'building'}  ${p.activity}  (${elapsed})`;
  const counts = p.done !== undefined ? ` ${p.done}/${p.total}` : '';
  return `  building ${bar(p.percent)} ${String(p.percent).padStart(3)}%${counts}  ${p.activity}  (${elapsed})`;
}

/** Off a terminal: a line per phase and per 10%. */
function progressKey(p: BuildProgress): string {
  return p.percent === undefined ? `${p.phase}:${p.activity === 'configured' ? 'configured' : ''}` : `compile:${Math.floor(p.percent / 10)}`;
}
