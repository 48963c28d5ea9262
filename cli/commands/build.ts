import { join } from 'node:path';
import { booleanOption, integerOption, stringOption } from '../args.js';
import { defaultJobs } from '../build/cmake-js-commands.js';
import { defineCommand } from '../command.js';
import { readInstallConfig, writeInstallConfig } from '../config/config-file.js';
import { emptyConfig, ENGINES, type InstallConfig } from '../config/install-config.js';
import { findInstallDir } from '../config/install-location.js';
import { ExitCode, UsageError } from '../errors.js';
import { runDiagnosis } from '../hardware/run-diagnosis.js';
import type { Engine, MemoryMode } from '../hardware/report.js';
import { engineStatus } from '../setup/engine-status.js';
import { cudaUnavailable } from '../setup/step-engine-choice.js';
import { runBuild, wantedEngine, withGpu } from '../setup/step-build.js';
import { packageVersion } from '../version.js';
import { interruptible } from './interruptible.js';
import { choiceOption } from './option-parsers.js';

export const buildCommand = defineCommand({
  name: 'build',
  summary: 'build the native engine on this machine (CUDA when usable, else CPU)',
  details: `
Compiles the engine (native/ and CMakeLists.txt of this package) with cmake-js into the
install folder: <dir>/engine/build-<cpu|cuda> holds the build tree (kept, so a rebuild or an
interrupted build continues), <dir>/engine/sd_engine.node the finished engine, installed only
after it loads and answers in a separate process, and <dir>/logs/build-<time>.log the full
output. A CUDA build compiles for the GPU architectures and with the nvcc that
"sd-setup doctor" reports. On failure it shows the end of the log and, when it recognises the
cause (no compiler, no CMake, nvcc and GPU architecture, host compiler, out of memory or
disk), what to do. Nothing is rebuilt when the installed engine is current (--force does).`,
  options: {
    dir: { type: 'string', valueName: 'DIR', description: 'install folder (default: $SD_SETUP_HOME, the last install, else ~/sd-setup)' },
    engine: { type: 'string', valueName: 'cuda|cpu', description: 'which engine (default: the one chosen at install, else cuda when usable)' },
    cpu: { type: 'boolean', description: 'same as --engine cpu' },
    jobs: { type: 'string', valueName: 'N', description: 'parallel compile jobs (default: one per core, fewer with little RAM)' },
    force: { type: 'boolean', description: 'rebuild even when the installed engine is current' },
  },
  examples: ['sd-setup build', 'sd-setup build --cpu', 'sd-setup build --jobs 1 --force'],
  async run({ values, io }) {
    const flagEngine = choiceOption(values, 'engine', ENGINES);
    if (flagEngine && booleanOption(values, 'cpu') && flagEngine !== 'cpu') throw new UsageError('give --cpu or --engine cuda, not both');
    const { dir } = findInstallDir({ flag: stringOption(values, 'dir'), env: io.env, cwd: io.cwd });
    const jobs = integerOption(values, 'jobs', 1, 256);
    const config: InstallConfig = (await readInstallConfig(dir)) ?? emptyConfig(packageVersion());
    const report = await runDiagnosis({ env: io.env, modelsDir: join(dir, 'models') });
    const canCuda = report.verdict.engine === 'cuda';
    const engine: Engine = booleanOption(values, 'cpu') ? 'cpu' : (flagEngine ?? (config.choices.engine === 'cuda' && !canCuda ? undefined : config.choices.engine) ?? report.verdict.engine);
    if (engine === 'cuda' && !canCuda) throw new UsageError(`cannot build the CUDA engine: ${cudaUnavailable(report)}`, 'fix that ("sd-setup doctor" explains) or build the CPU engine: sd-setup build --cpu');
    const wanted = wantedEngine(report, engine);
    if (!booleanOption(values, 'force')) {
      const status = await engineStatus(dir, config.engine, wanted, { env: io.env });
      if (status.usable) {
        io.out(`the ${engine.toUpperCase()} engine is already built and current: ${status.path} (--force rebuilds it)\n`);
        return ExitCode.ok;
      }
      io.err(`building: ${status.why}\n`);
    }
    return interruptible(
      io,
      async (signal) => {
        const record = await runBuild(io, { installDir: dir, ...wanted, jobs: jobs ?? defaultJobs(report.cpu.cores, report.memory.totalBytes, engine), env: io.env, signal });
        const latest = (await readInstallConfig(dir)) ?? config;
        const changed = latest.engine?.sha256 !== record.sha256;
        await writeInstallConfig(dir, {
          ...latest,
          writtenBy: packageVersion(),
          updatedAt: new Date().toISOString(),
          choices: { ...latest.choices, engine, ...memoryModeFor(engine, latest.choices.memoryMode) },
          engine: withGpu(record, report),
          // A different engine has not passed the smoke test yet; the memory mode must fit it.
          ...(changed ? { smokeTest: undefined, completedAt: undefined } : {}),
        });
        io.out(`${join(dir, record.addon)}\n`);
        return ExitCode.ok;
      },
      'sd-setup build',
    );
  },
});

/** A memory mode that fits the new engine: the CPU engine runs in "cpu"; a GPU mode is kept for CUDA, "cpu" is asked again by the install. */
function memoryModeFor(engine: Engine, saved: MemoryMode | undefined): { memoryMode?: MemoryMode } {
  if (engine === 'cpu') return saved === undefined ? {} : { memoryMode: 'cpu' };
  return saved === 'cpu' ? { memoryMode: undefined } : {};
}
