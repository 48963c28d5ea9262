import { spawn, type ChildProcess } from 'node:child_process';

/** Keys as a terminal sends them. */
export const KEY = { enter: '\r', down: '\x1b[B', up: '\x1b[A', ctrlC: '\x03' } as const;

/** Terminal output without colours and cursor movement, for matching. */
export function plain(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\x1b[()][A-Z0-9]/g, '').replace(/\r/g, '\n');
}

export interface PtyRun {
  child: ChildProcess;
  /** Everything the terminal showed so far, as plain text. */
  screen(): string;
  /** Types into the terminal. */
  type(keys: string): void;
  /** Resolves when the screen (after `from`, an earlier screen length) matches; rejects after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs?: number, from?: number): Promise<RegExpExecArray>;
  /** The exit code of the program in the terminal. */
  exit: Promise<number | null>;
}

/**
 * Runs a command in a real pseudo-terminal (util-linux `script`), so the CLI
 * sees a TTY on stdin and stdout and inquirer draws and reads real prompts;
 * keys typed go through the terminal's line discipline (Ctrl-C becomes SIGINT
 * for the foreground process group, as for a user).
 */
export function runInPty(argv: readonly string[], options: { env: NodeJS.ProcessEnv; cwd?: string; columns?: number }): PtyRun {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const command = `stty cols ${options.columns ?? 120} rows 40; exec ${quoted}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { TERM: 'xterm-256color', ...options.env },
    cwd: options.cwd ?? process.cwd(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let raw = '';
  child.stdout!.on('data', (d: Buffer) => (raw += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (raw += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const screen = () => plain(raw);
  return {
    child,
    screen,
    type: (keys) => child.stdin!.write(keys),
    exit,
    async waitFor(pattern, timeoutMs = 30_000, from = 0) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(screen().slice(from));
        if (match) return match;
        if (child.exitCode !== null || Date.now() > deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          const last = pattern.exec(screen().slice(from));
          if (last) return last;
          throw new Error(`terminal never showed ${pattern} (${child.exitCode !== null ? `exited ${child.exitCode}` : 'timed out'}); screen:\n${screen().slice(-3000)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}
