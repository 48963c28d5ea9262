import { combinedOutput } from './exec.js';
import { envValue, findOnPath, pathFor } from './find-on-path.js';
import type { ToolProbeInput } from './probe-cmake.js';
import type { CompilerFacts } from './report.js';
import { versionAtLeast } from './versions.js';

/** Oldest versions that compile the engine (README "Requirements"). */
export const MIN_COMPILER = { 'g++': '9', 'clang++': '10', msvc: '19.20' } as const;

/** Kind and version from `<c++> --version` (GCC or Clang, under any of their names). */
export function parseCompilerVersion(text: string): Pick<CompilerFacts, 'kind' | 'version'> {
  const clang = /clang version (\d+\.\d+(?:\.\d+)?)/i.exec(text);
  if (clang?.[1]) return { kind: 'clang++', version: clang[1] };
  const firstLine = text.split(/\r?\n/)[0] ?? '';
  const gcc = /\)\s+(\d+\.\d+(?:\.\d+)?)/.exec(firstLine) ?? /^(?:g\+\+|c\+\+|gcc)\S*\s+(\d+\.\d+(?:\.\d+)?)/.exec(firstLine);
  if (gcc?.[1] && (/Free Software Foundation/i.test(text) || /^(?:g\+\+|c\+\+|gcc)/.test(firstLine))) return { kind: 'g++', version: gcc[1] };
  return { kind: 'unknown', version: null };
}

/** "19.38.33133" from cl's banner ("Microsoft (R) C/C++ Optimizing Compiler Version 19.38.33133 for x64"). */
export function parseMsvcVersion(text: string): string | null {
  return /C\/C\+\+ Optimizing Compiler Version (\d+\.\d+(?:\.\d+)*)/i.exec(text)?.[1] ?? null;
}

/** The newest Visual Studio with the C++ tools, from `vswhere -format json`: its path and cl version family. */
export function parseVswhere(json: string): { path: string; version: string } | null {
  try {
    const list = JSON.parse(json) as Array<{ installationPath?: string; installationVersion?: string }>;
    const vs = list.find((i) => i.installationPath && i.installationVersion);
    if (!vs) return null;
    // VS 16 (2019) ships cl 19.2x, VS 17 (2022) cl 19.3x/19.4x: the cl family is what matters.
    const major = Number(vs.installationVersion!.split('.')[0]);
    return { path: vs.installationPath!, version: major >= 17 ? '19.30' : major === 16 ? '19.20' : '19.10' };
  } catch {
    return null;
  }
}

export function supportsCpp17(kind: CompilerFacts['kind'], version: string | null): boolean {
  if (!version || !kind || kind === 'unknown') return false;
  return versionAtLeast(version, MIN_COMPILER[kind]);
}

/** vswhere's usual place (it ships with the Visual Studio installer). */
export function vswherePath(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string {
  const programFilesX86 = envValue(env, 'ProgramFiles(x86)', platform) ?? 'C:\\Program Files (x86)';
  return pathFor(platform).join(programFilesX86, 'Microsoft Visual Studio', 'Installer', 'vswhere.exe');
}

/**
 * The C++ compiler CMake would pick: $CXX, else c++/g++/clang++ on PATH; on Windows cl.exe on
 * PATH (a Developer prompt) or the Visual Studio that vswhere reports (what cmake-js uses).
 */
export async function probeCxxCompiler(input: ToolProbeInput): Promise<CompilerFacts> {
  const { env, platform } = input;
  const lookup = { env, platform, ...(input.isFile ? { isFile: input.isFile } : {}) };
  const none: CompilerFacts = { found: false, path: null, version: null, kind: null, cpp17: false };
  const run = (file: string, args: string[]) => input.exec(file, args, { env, timeoutMs: input.timeoutMs });

  if (platform === 'win32') {
    const cl = findOnPath('cl', lookup);
    if (cl) {
      const version = parseMsvcVersion(combinedOutput(await run(cl, [])));
      return { found: true, path: cl, version, kind: 'msvc', cpp17: supportsCpp17('msvc', version) };
    }
    const vswhere = vswherePath(env, platform);
    const result = await run(vswhere, ['-latest', '-products', '*', '-requires', 'Microsoft.VisualStudio.Component.VC.Tools.x86.x64', '-format', 'json']);
    const vs = result.exitCode === 0 ? parseVswhere(result.stdout) : null;
    return vs ? { found: true, path: vs.path, version: vs.version, kind: 'msvc', cpp17: supportsCpp17('msvc', vs.version) } : none;
  }

  // CXX may carry a launcher or flags ("ccache g++"): CMake runs its first word.
  const fromEnv = envValue(env, 'CXX', platform)?.trim().split(/\s+/)[0];
  const names = fromEnv ? [fromEnv] : ['c++', 'g++', 'clang++'];
  for (const name of names) {
    const path = pathFor(platform).isAbsolute(name) ? name : findOnPath(name, lookup);
    if (!path) continue;
    const parsed = parseCompilerVersion((await run(path, ['--version'])).stdout);
    return { found: true, path, ...parsed, cpp17: supportsCpp17(parsed.kind, parsed.version) };
  }
  return none;
}
