import type { Engine, MemoryMode } from '../hardware/report.js';

/**
 * sd-setup.json in the install folder: what the guided install chose and
 * built, read by `sd-setup launch`. Paths inside are relative to the install
 * folder where they lie inside it, so a moved folder keeps working.
 * Versioned: fields are only ever added; a change of meaning bumps the schema.
 */
export const CONFIG_SCHEMA = 1;
export const CONFIG_FILE_NAME = 'sd-setup.json';
export const MEMORY_MODES: readonly MemoryMode[] = ['normal', 'medvram', 'lowvram', 'cpu'];
export const ENGINES: readonly Engine[] = ['cuda', 'cpu'];

export interface EngineRecord {
  backend: Engine;
  /** The verified, installed addon (not the one in the build tree, which a failed build may leave half-linked). */
  addon: string;
  /** SHA-256 of the addon file when it was verified: a changed file is verified again. */
  sha256: string;
  /** The engine sources it was built from (native/ + CMakeLists.txt): a newer sd-setup rebuilds. */
  sourceHash: string;
  /** The GPU it was built for (CUDA engine), as the diagnosis saw it. */
  gpu?: { name: string; memoryTotalMiB: number | null };
  /** CMAKE_CUDA_ARCHITECTURES it was built for; null for the CPU engine. */
  cudaArchitectures: string | null;
  builtAt: string;
  /** The full build log. */
  log: string | null;
}

export interface SmokeTestRecord {
  /** The addon (by SHA-256) and backend the tiny model ran on. */
  addonSha256: string;
  backend: Engine;
  passedAt: string;
  seconds: number;
}

export interface ModelRecord {
  /** Catalogue id, or null for a checkpoint from elsewhere. */
  id: string | null;
  path: string;
  sha256: string;
  bytes: number;
  /** For a file used in place: its mtime when hashed (changed size or mtime = hash again). */
  mtimeMs?: number;
}

export interface LaunchSettings {
  port: number;
  /** Listen on every network interface (0.0.0.0), as the webui's --listen; default 127.0.0.1 only. */
  listen: boolean;
  openBrowser: boolean;
}

export interface InstallConfig {
  schema: typeof CONFIG_SCHEMA;
  /** The sd-setup version that last wrote it. */
  writtenBy: string;
  updatedAt: string;
  /** The answers so far (a resumed install asks only what is missing). */
  choices: {
    model?: { kind: 'catalogue'; id: string } | { kind: 'url'; url: string; sha256: string } | { kind: 'file'; path: string };
    engine?: Engine;
    memoryMode?: MemoryMode;
  };
  engine?: EngineRecord;
  smokeTest?: SmokeTestRecord;
  model?: ModelRecord;
  launch?: LaunchSettings;
  /** Set when every step has passed. */
  completedAt?: string;
}

export const DEFAULT_PORT = 7860;

export function emptyConfig(version: string, now = new Date()): InstallConfig {
  return { schema: CONFIG_SCHEMA, writtenBy: version, updatedAt: now.toISOString(), choices: {} };
}
