import { existsSync } from 'node:fs';
import { resolveAddonPath } from '../binding/load-addon.js';
import { defaultModelsDir } from '../paths.js';
import { packageVersion } from '../version.js';
import { diagnose } from './diagnose.js';
import { REQUIRED_DISK_BYTES } from './diagnose-host.js';
import { createExec, type Exec } from './exec.js';
import { probeBuildRunner } from './probe-build-runner.js';
import { probeCmake } from './probe-cmake.js';
import { probeCpu, type RawCpu } from './probe-cpu.js';
import { probeCudaToolkits } from './probe-cuda-toolkits.js';
import { probeCxxCompiler } from './probe-cxx-compiler.js';
import { probeDisk } from './probe-disk.js';
import { probeGraphicsAdapters } from './probe-graphics-adapters.js';
import { probeMemory } from './probe-memory.js';
import { probeNvidiaSmi } from './probe-nvidia-smi.js';
import { versionAtLeast } from './versions.js';
import { MIN_NODE } from './diagnose-build-tools.js';
import type { DoctorFacts, DoctorReport } from './report.js';

/** Overrides the per-command timeout (milliseconds), e.g. for a slow nvidia-smi on a big server. */
export const TIMEOUT_ENV = 'SD_SETUP_PROBE_TIMEOUT_MS';
export const DEFAULT_TIMEOUT_MS = 15_000;

export interface DiagnosisOptions {
  /** The environment probed (PATH, CUDA_PATH, CXX...). Default process.env. */
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  arch?: string;
  /** Where models go, for the disk check. Default ~/sd-setup/models. */
  modelsDir?: string;
  /** Timeout of each external command. Default SD_SETUP_PROBE_TIMEOUT_MS or 15 s. */
  timeoutMs?: number;
  /** Folders searched for CUDA toolkits. Default: the usual install folders (or SD_SETUP_CUDA_SEARCH_PATH). */
  cudaSearchDirs?: readonly string[];
  /** Replaceable for tests; the defaults touch the real machine. */
  exec?: Exec;
  readCpu?: () => Promise<RawCpu>;
  readMemory?: () => Promise<{ total: number; available: number }>;
  freeBytesAt?: (dir: string) => Promise<number>;
  nodeVersion?: string;
  /** The native engine to look for. Default: SD_SETUP_ADDON, else the installed engine, else build/native/Release/sd_engine.node. */
  engineAddonPath?: string;
  now?: () => Date;
}

function timeoutFrom(env: NodeJS.ProcessEnv): number {
  const raw = Number(env[TIMEOUT_ENV]);
  return Number.isFinite(raw) && raw > 0 ? raw : DEFAULT_TIMEOUT_MS;
}

/** Runs every probe (in parallel, each with a timeout) and returns the diagnosis. Never throws for a broken machine. */
export async function runDiagnosis(options: DiagnosisOptions = {}): Promise<DoctorReport> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const exec = options.exec ?? createExec();
  const timeoutMs = options.timeoutMs ?? timeoutFrom(env);
  const common = { exec, env, platform, timeoutMs };
  const nodeVersion = options.nodeVersion ?? process.versions.node;
  // The same file loadAddon() would load (SD_SETUP_ADDON, the installed engine, a checkout's build).
  const enginePath = options.engineAddonPath ?? resolveAddonPath(env);

  const [nvidia, adapters, cudaToolkit, cmake, compiler, buildRunner, cpu, memory, disk] = await Promise.all([
    probeNvidiaSmi(common),
    // systeminformation may itself call nvidia-smi; give it room for that plus its own work.
    probeGraphicsAdapters({ exec, env, timeoutMs: timeoutMs + 5_000, node: process.execPath }),
    probeCudaToolkits({ ...common, ...(options.cudaSearchDirs ? { searchDirs: options.cudaSearchDirs } : {}) }),
    probeCmake(common),
    probeCxxCompiler(common),
    probeBuildRunner(common),
    probeCpu({ arch, platform, timeoutMs, ...(options.readCpu ? { readCpu: options.readCpu } : {}) }),
    probeMemory({ timeoutMs, ...(options.readMemory ? { readMemory: options.readMemory } : {}) }),
    probeDisk({
      modelsDir: options.modelsDir ?? defaultModelsDir(),
      requiredBytes: REQUIRED_DISK_BYTES,
      ...(options.freeBytesAt ? { freeBytesAt: options.freeBytesAt } : {}),
    }),
  ]);
  const facts: DoctorFacts = {
    platform: { os: platform, arch },
    nvidia,
    adapters,
    cudaToolkit,
    buildTools: { cmake, compiler, buildRunner, node: { version: nodeVersion, ok: versionAtLeast(nodeVersion, MIN_NODE) } },
    cpu,
    memory,
    disk,
    engine: { built: existsSync(enginePath), path: enginePath },
  };
  return diagnose(facts, { toolVersion: packageVersion(), createdAt: (options.now?.() ?? new Date()).toISOString(), timeoutMs });
}
