import { writeInstallConfig } from '../config/config-file.js';
import type { InstallConfig } from '../config/install-config.js';
import type { DoctorReport, Engine, MemoryMode } from '../hardware/report.js';
import type { Io } from '../io.js';
import { packageVersion } from '../version.js';
import type { Asker } from './asker.js';

/** Every question's flag: `sd-setup setup --help` documents them. Undefined = not given. */
export interface SetupFlags {
  yes: boolean;
  dir: string | undefined;
  model: string | undefined;
  checkpoint: string | undefined;
  modelUrl: string | undefined;
  modelSha256: string | undefined;
  hfToken: string | undefined;
  engine: Engine | undefined;
  jobs: number | undefined;
  memoryMode: MemoryMode | undefined;
  port: number | undefined;
  listen: boolean;
  open: boolean;
  noLaunch: boolean;
}

/** What the steps share while the install runs. The config is the only state that outlives the run. */
export interface SetupContext {
  io: Io;
  asker: Asker;
  flags: SetupFlags;
  signal: AbortSignal;
  /** Set by the folder step; every later step works inside it. */
  installDir: string;
  config: InstallConfig;
  /** Set by the diagnosis step. */
  report: DoctorReport | undefined;
  /** The Hugging Face token for this run only: never written to the config. */
  hfToken: string | undefined;
  platform: NodeJS.Platform;
  /** Where the steps write the status lines (stderr), separate from prompts and results. */
  say(line: string): void;
}

/** Records the config as it is now, atomically; called after every step so an interruption loses at most the step running. */
export async function saveConfig(ctx: SetupContext): Promise<void> {
  ctx.config = { ...ctx.config, writtenBy: packageVersion(), updatedAt: new Date().toISOString() };
  await writeInstallConfig(ctx.installDir, ctx.config);
}

export interface StepCheck {
  done: boolean;
  /** What was found: "engine/sd_engine.node, CPU, verified" or why it must run again. */
  detail: string;
}

/**
 * One step of the guided install. isDone VERIFIES (hashes, a child process that
 * loads the addon, the model's checksum record) rather than trusting the config:
 * a step whose work is gone or damaged runs again.
 */
export interface SetupStep {
  id: string;
  title: string;
  isDone(ctx: SetupContext): Promise<StepCheck>;
  run(ctx: SetupContext): Promise<void>;
}
