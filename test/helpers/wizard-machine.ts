import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { InstallConfig } from '../../cli/config/install-config.js';
import { FakeMachine } from './fake-machine.js';
import * as out from './hardware-outputs.js';

/**
 * A made-up machine for the guided install: the doctor's fake nvidia-smi/nvcc
 * (a GTX 1050 with 2 GB, driver 535, CUDA 12.2, or no GPU), with the REAL build
 * tools (cmake, c++, ninja from /usr/bin) after the fakes on PATH, so the
 * engine really builds. No real CUDA toolkit is visible (the toolkit search
 * is the fake folder, /usr/local/bin is not on PATH).
 */
export function wizardMachine(gpu: 'gtx1050' | 'none', options: { realBuildTools?: boolean } = {}): { machine: FakeMachine; env: NodeJS.ProcessEnv } {
  const realTools = options.realBuildTools ?? true;
  const machine = new FakeMachine({ buildTools: !realTools });
  if (gpu === 'gtx1050') {
    machine.nvidiaSmi({ banner: out.BANNER_535_GTX1050, query: out.QUERY_GTX1050_535 });
    machine.toolkit('cuda-12.2', out.NVCC_12_2, { onPath: true });
  }
  const env = machine.env({
    PATH: `${machine.env().PATH}${realTools ? ':/usr/bin:/bin' : ''}`,
    HF_TOKEN_PATH: join(machine.root, 'no-hf-token'),
  });
  // The install's own engine must be found the way a user's is, not through the doctor tests' override.
  delete env.SD_SETUP_ADDON;
  return { machine, env };
}

export const cliPath = join(process.cwd(), 'dist', 'cli', 'main.js');

export interface Spawned {
  child: ChildProcess;
  output(): string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** The CLI as a child process without a terminal (stdin closed, output piped): a script or CI. */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv): Spawned {
  const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    child,
    output: () => stdout + stderr,
    done: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))),
  };
}

export async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function readConfig(installDir: string): InstallConfig {
  return JSON.parse(readFileSync(join(installDir, 'sd-setup.json'), 'utf8')) as InstallConfig;
}

/**
 * A new install folder holding only the engine (and its smoke test) of a
 * finished one: the state after steps 1-4, without building again.
 */
export function installWithEngine(from: string, to: string, options: { smokeTest?: boolean } = {}): void {
  const done = readConfig(from);
  mkdirSync(join(to, 'engine'), { recursive: true });
  copyFileSync(join(from, 'engine', 'sd_engine.node'), join(to, 'engine', 'sd_engine.node'));
  const config: InstallConfig = {
    schema: done.schema,
    writtenBy: done.writtenBy,
    updatedAt: done.updatedAt,
    choices: { engine: 'cpu' },
    engine: { ...done.engine!, log: null },
    ...(options.smokeTest === false ? {} : { smokeTest: done.smokeTest! }),
  };
  writeFileSync(join(to, 'sd-setup.json'), JSON.stringify(config, null, 2));
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Command lines of running processes that mention `text` (a build left running after a stop would). */
export function processesMentioning(text: string): string[] {
  const lines: string[] = [];
  for (const pid of readdirNumeric('/proc')) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (args.includes(text) && pid !== process.pid) lines.push(`${pid}: ${args}`);
    } catch {
      // Gone meanwhile.
    }
  }
  return lines;
}

function readdirNumeric(dir: string): number[] {
  try {
    return readdirSync(dir)
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return [];
  }
}
