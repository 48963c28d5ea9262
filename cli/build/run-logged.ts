import { execa } from 'execa';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export interface LoggedRun {
  exitCode: number | null;
  /** The signal that ended it, or 'aborted' when `signal` fired. */
  stopped: NodeJS.Signals | 'aborted' | null;
  /** ENOENT and friends: the program could not be started at all. */
  spawnError: string | null;
}

/**
 * Runs a command whose output is a stream of lines (a build), handing each line
 * of stdout and stderr to `onLine` as it comes. Aborting kills the whole process
 * tree: cmake-js starts cmake, which starts ninja, which starts compilers, and
 * killing only the first would leave the rest compiling (and writing) after we exit.
 * On POSIX the child leads its own process group (so the terminal's Ctrl-C reaches
 * us, not it, and we stop it in order); on Windows taskkill /T does the same.
 */
export async function runLogged(
  file: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; signal?: AbortSignal | undefined; onLine: (line: string, stream: 'stdout' | 'stderr') => void },
): Promise<LoggedRun> {
  options.signal?.throwIfAborted();
  const windows = process.platform === 'win32';
  const child = execa(file, args, {
    env: options.env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    buffer: false,
    windowsHide: true,
    detached: !windows,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  let aborted = false;
  const killTree = () => {
    aborted = true;
    const pid = child.pid;
    if (pid === undefined) return;
    if (windows) {
      execa('taskkill', ['/PID', String(pid), '/T', '/F'], { reject: false, windowsHide: true }).catch(() => undefined);
      return;
    }
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
    // Compilers die at once on SIGTERM; anything still there a few seconds later is killed.
    setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, 3_000).unref();
  };
  options.signal?.addEventListener('abort', killTree, { once: true });
  const pump = (stream: Readable | null, name: 'stdout' | 'stderr') =>
    stream
      ? new Promise<void>((resolve) => {
          const lines = createInterface({ input: stream, crlfDelay: Infinity });
          lines.on('line', (line) => options.onLine(line, name));
          lines.on('close', resolve);
        })
      : Promise.resolve();
  try {
    const [result] = await Promise.all([child, pump(child.stdout, 'stdout'), pump(child.stderr, 'stderr')]);
    const failure = result as { code?: string; originalMessage?: string; signal?: NodeJS.Signals };
    if (failure.code && /^E[A-Z]+$/.test(failure.code) && result.exitCode === undefined) {
      return { exitCode: null, stopped: null, spawnError: `${failure.code}: ${failure.originalMessage ?? ''}`.trim() };
    }
    return { exitCode: result.exitCode ?? null, stopped: aborted ? 'aborted' : (failure.signal ?? null), spawnError: null };
  } finally {
    options.signal?.removeEventListener('abort', killTree);
  }
}
