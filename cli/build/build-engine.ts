import { createWriteStream, type WriteStream } from 'node:fs';
import { copyFile, mkdir, rename, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { storedPath } from '../config/config-file.js';
import type { EngineRecord } from '../config/install-config.js';
import { UserError } from '../errors.js';
import type { Engine } from '../hardware/report.js';
import { packageRoot } from '../paths.js';
import { parseBuildLine, type BuildProgress } from './build-progress.js';
import { checkAddon } from './check-addon.js';
import { cmakeJsCommands } from './cmake-js-commands.js';
import { buildLogName, enginePaths } from './engine-paths.js';
import { matchFailureHint, type FailureHint } from './failure-hints.js';
import { fileSha256 } from './file-sha256.js';
import { runLogged } from './run-logged.js';
import { engineSourceHash } from './source-hash.js';

export interface BuildEngineOptions {
  installDir: string;
  backend: Engine;
  cudaArchitectures: string | null;
  nvcc: string | null;
  jobs: number;
  /** The build's environment (PATH finds cmake, the compiler, ninja). */
  env: NodeJS.ProcessEnv;
  /** Where CMakeLists.txt and native/ are (default: this package). */
  sourceDir?: string;
  now?: () => Date;
}

export interface BuildEngineHooks {
  onProgress?: (progress: BuildProgress) => void;
  signal?: AbortSignal | undefined;
}

/** How many log lines a failure shows. */
export const FAILURE_TAIL_LINES = 25;

/** A failed build: the cause when it is recognised, the end of the log, and where the whole log is. */
export class EngineBuildError extends UserError {
  constructor(
    readonly failure: FailureHint | undefined,
    readonly tail: string[],
    readonly logPath: string,
    summary: string,
  ) {
    super(
      `${summary}${failure ? `: ${failure.message}` : ''}${tail.length ? `\n\nlast lines of the build log:\n${tail.map((l) => `  | ${l}`).join('\n')}\n` : ''}`,
      { hint: `${failure ? `${failure.hint}\n  ` : ''}full log: ${logPath}` },
    );
    this.name = 'EngineBuildError';
  }
}

export function cmakeJsBin(): string {
  return join(dirname(createRequire(import.meta.url).resolve('cmake-js/package.json')), 'bin', 'cmake-js');
}

/**
 * Builds the native engine into `<installDir>/engine` with cmake-js, verifies the
 * result in a child process and only then installs it as engine/sd_engine.node
 * (copy + rename: a failed or interrupted build never replaces a working engine,
 * and the build tree is kept so running again continues where it stopped).
 * The whole output goes to logs/build-<time>.log.
 */
export async function buildEngine(options: BuildEngineOptions, hooks: BuildEngineHooks = {}): Promise<EngineRecord> {
  const sourceDir = options.sourceDir ?? packageRoot();
  const paths = enginePaths(options.installDir, options.backend);
  const now = options.now ?? (() => new Date());
  await mkdir(paths.buildDir, { recursive: true });
  await mkdir(paths.logsDir, { recursive: true });
  const logPath = join(paths.logsDir, buildLogName(now()));
  const log = createWriteStream(logPath);
  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > 2000) tail.splice(0, tail.length - 2000);
  };
  const commands = cmakeJsCommands({
    backend: options.backend,
    sourceDir,
    buildDir: paths.buildDir,
    cudaArchitectures: options.cudaArchitectures,
    nvcc: options.nvcc,
    jobs: options.jobs,
    platform: process.platform,
  });
  const bin = cmakeJsBin();
  try {
    const sourceHash = await engineSourceHash(sourceDir);
    log.write(`sd-setup engine build, ${now().toISOString()}\nbackend: ${options.backend}, CUDA architectures: ${options.cudaArchitectures ?? '-'}, nvcc: ${options.nvcc ?? '-'}, jobs: ${options.jobs}\n`);
    for (const [what, args] of [['configure', commands.configure], ['build', commands.build]] as const) {
      log.write(`\n$ ${process.execPath} ${bin} ${args.join(' ')}\n`);
      hooks.onProgress?.({ phase: what === 'configure' ? 'configure' : 'compile', percent: undefined, activity: what === 'configure' ? 'running cmake' : 'starting the compiler' });
      const run = await runLogged(process.execPath, [bin, ...args], {
        env: options.env,
        cwd: paths.dir,
        signal: hooks.signal,
        onLine: (line) => {
          log.write(`${line}\n`);
          keep(line);
          const progress = parseBuildLine(line);
          if (progress) hooks.onProgress?.(progress);
        },
      });
      if (run.stopped === 'aborted' || hooks.signal?.aborted) throw abortError();
      if (run.spawnError) throw failed(`could not start cmake-js (${run.spawnError})`);
      if (run.exitCode !== 0) {
        throw failed(`the engine build failed while it was ${what === 'configure' ? 'configuring (cmake)' : 'compiling'}${run.stopped ? ` (killed by ${run.stopped})` : ''}`);
      }
    }
    hooks.onProgress?.({ phase: 'compile', percent: 100, activity: 'checking that the new engine loads' });
    const check = await checkAddon(paths.builtAddon, { env: options.env });
    if (!check.ok) {
      log.write(`\nthe built addon does not load: ${check.reason}\n`);
      keep(`the built addon does not load: ${check.reason}`);
      throw failed('the engine was built but does not load');
    }
    if (options.backend === 'cuda' && !check.cuda) throw failed('the engine was built without CUDA although a CUDA build was asked for');
    await installAtomically(paths.builtAddon, paths.installedAddon);
    log.write(`\ninstalled ${paths.installedAddon}\n`);
    return {
      backend: options.backend,
      addon: storedPath(options.installDir, paths.installedAddon),
      sha256: await fileSha256(paths.installedAddon),
      sourceHash,
      cudaArchitectures: options.backend === 'cuda' ? options.cudaArchitectures : null,
      builtAt: now().toISOString(),
      log: storedPath(options.installDir, logPath),
    };
  } finally {
    await closeStream(log);
  }

  function failed(summary: string): EngineBuildError {
    const text = tail.join('\n');
    return new EngineBuildError(matchFailureHint(text, process.platform), tail.slice(-FAILURE_TAIL_LINES), logPath, summary);
  }
}

/** Copy beside the target, then rename over it: launch never sees half an addon. */
async function installAtomically(from: string, to: string): Promise<void> {
  const draft = `${to}.${process.pid}.tmp`;
  try {
    await copyFile(from, draft);
    await rename(draft, to);
  } catch (error) {
    await unlink(draft).catch(() => undefined);
    throw error;
  }
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => stream.end(() => resolve()));
}

export function abortError(): Error {
  return new DOMException('The operation was aborted', 'AbortError');
}
