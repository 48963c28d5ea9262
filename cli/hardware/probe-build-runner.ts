import type { ToolProbeInput } from './probe-cmake.js';
import { findOnPath } from './find-on-path.js';
import type { BuildToolFacts } from './report.js';

/**
 * make or ninja, which run the build CMake generates on Linux and macOS (cmake-js takes Ninja
 * when present, else Unix Makefiles). On Windows cmake-js drives Visual Studio's own MSBuild.
 */
export async function probeBuildRunner(input: ToolProbeInput): Promise<BuildToolFacts['buildRunner']> {
  if (input.platform === 'win32') return { found: true, name: 'msbuild', path: null, version: null };
  for (const name of ['ninja', 'make']) {
    const path = findOnPath(name, { env: input.env, platform: input.platform, ...(input.isFile ? { isFile: input.isFile } : {}) });
    if (!path) continue;
    const result = await input.exec(path, ['--version'], { env: input.env, timeoutMs: input.timeoutMs });
    const version = result.exitCode === 0 ? (/(\d+\.\d+(?:\.\d+)?)/.exec(result.stdout)?.[1] ?? null) : null;
    return { found: true, name, path, version };
  }
  return { found: false, name: null, path: null, version: null };
}
