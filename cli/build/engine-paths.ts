import path from 'node:path';
import type { Engine } from '../hardware/report.js';

/**
 * The engine's files inside an install folder:
 *   engine/build-cpu/, engine/build-cuda/   cmake-js build trees (kept, so a rebuild or a resumed build is incremental)
 *   engine/sd_engine.node                   the verified addon that launch loads
 *   logs/build-<time>.log                   one full log per build
 * One build tree per backend: switching CPU <-> CUDA does not throw away the other's objects.
 */
export interface EnginePaths {
  dir: string;
  buildDir: string;
  /** Where cmake-js links the addon (cmake-js puts it in <out>/Release on every platform). */
  builtAddon: string;
  installedAddon: string;
  logsDir: string;
}

export function enginePaths(installDir: string, backend: Engine, paths: path.PlatformPath = path): EnginePaths {
  const dir = paths.join(installDir, 'engine');
  const buildDir = paths.join(dir, `build-${backend}`);
  return {
    dir,
    buildDir,
    builtAddon: paths.join(buildDir, 'Release', 'sd_engine.node'),
    installedAddon: paths.join(dir, 'sd_engine.node'),
    logsDir: paths.join(installDir, 'logs'),
  };
}

/** "build-2025-03-01T10-22-05.log": sortable, and valid on Windows (no colons). */
export function buildLogName(now: Date): string {
  return `build-${now.toISOString().replace(/\.\d+Z$/, '').replace(/:/g, '-')}.log`;
}
