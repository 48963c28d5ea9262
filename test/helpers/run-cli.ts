import { main } from '../../cli/main.js';
import type { Io } from '../../cli/io.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output (fast; for subprocess behaviour use spawnCli). */
export async function runCli(argv: string[], overrides: Partial<Io> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    isTTY: false,
    env: { ...process.env },
    cwd: process.cwd(),
    ...overrides,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}
