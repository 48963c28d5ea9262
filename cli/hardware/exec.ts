import { execa } from 'execa';

/** What one external command did. A probe turns this into facts; it never throws. */
export interface ExecResult {
  /** null when the command did not run to an exit (not found, timed out, killed). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** The executable does not exist (ENOENT) or is not runnable (EACCES). */
  notFound: boolean;
  /** It ran past the timeout and was killed (or abandoned, see createExec). */
  timedOut: boolean;
}

export interface ExecOptions {
  timeoutMs: number;
  /** The whole environment of the child; its PATH is also where `file` is looked up. */
  env: NodeJS.ProcessEnv;
}

/** Runs `file args` and reports what happened; injected so probes run in tests without hardware. */
export type Exec = (file: string, args: readonly string[], options: ExecOptions) => Promise<ExecResult>;

/** Extra time after the timeout for a killed command to let go of its pipes. */
const ABANDON_AFTER_MS = 1_500;
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/**
 * The real Exec. A command that hangs is killed at its timeout; one that cannot be killed (a
 * process stuck in the kernel, as nvidia-smi can be with a wedged driver) or whose children
 * keep its pipes open is abandoned shortly after: we stop reading and unref it, so the probe
 * reports a timeout and this process can still exit.
 */
export function createExec(): Exec {
  return (file, args, options) =>
    new Promise<ExecResult>((resolve) => {
      const child = execa(file, args, {
        env: options.env,
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
        timeout: options.timeoutMs,
        forceKillAfterDelay: 500,
        windowsHide: true,
        maxBuffer: MAX_OUTPUT_BYTES,
        encoding: 'utf8',
        stripFinalNewline: false,
      });
      const abandon = setTimeout(() => {
        child.kill('SIGKILL');
        child.stdout?.destroy();
        child.stderr?.destroy();
        child.unref();
        resolve({ exitCode: null, stdout: '', stderr: '', notFound: false, timedOut: true });
      }, options.timeoutMs + ABANDON_AFTER_MS);
      abandon.unref();
      child.then(
        (result) => {
          clearTimeout(abandon);
          const code = (result as { code?: string }).code;
          resolve({
            exitCode: result.timedOut ? null : (result.exitCode ?? null),
            stdout: typeof result.stdout === 'string' ? result.stdout : '',
            stderr: typeof result.stderr === 'string' ? result.stderr : '',
            notFound: code === 'ENOENT' || code === 'EACCES',
            timedOut: result.timedOut,
          });
        },
        (error: unknown) => {
          clearTimeout(abandon);
          resolve({ exitCode: null, stdout: '', stderr: String(error), notFound: false, timedOut: false });
        },
      );
    });
}

/** Stdout and stderr together, for tools that print errors on either (nvidia-smi uses stdout). */
export function combinedOutput(result: ExecResult): string {
  return `${result.stdout}\n${result.stderr}`.trim();
}
