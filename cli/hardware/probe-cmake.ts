import type { Exec } from './exec.js';
import { findOnPath } from './find-on-path.js';
import type { ToolFacts } from './report.js';

export interface ToolProbeInput {
  exec: Exec;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  timeoutMs: number;
  isFile?: (file: string) => boolean;
}

/** "3.25.1" from "cmake version 3.25.1". */
export function parseCmakeVersion(text: string): string | null {
  return /cmake version (\d+\.\d+(?:\.\d+)?)/i.exec(text)?.[1] ?? null;
}

/** The cmake on PATH (the one cmake-js runs) and its version. */
export async function probeCmake(input: ToolProbeInput): Promise<ToolFacts> {
  const path = findOnPath('cmake', { env: input.env, platform: input.platform, ...(input.isFile ? { isFile: input.isFile } : {}) });
  if (!path) return { found: false, path: null, version: null };
  const result = await input.exec(path, ['--version'], { env: input.env, timeoutMs: input.timeoutMs });
  return { found: true, path, version: result.exitCode === 0 ? parseCmakeVersion(result.stdout) : null };
}
