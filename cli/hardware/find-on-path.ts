import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

export interface PathLookup {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /** Injected so Windows lookups can be tested on Linux. */
  isFile?: (file: string) => boolean;
}

/** The platform's path module: Windows paths are joined with `\` even when tested on Linux. */
export function pathFor(platform: NodeJS.Platform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

/** Environment variables are case-insensitive on Windows (Path vs PATH). */
export function envValue(env: NodeJS.ProcessEnv, name: string, platform: NodeJS.Platform): string | undefined {
  if (platform !== 'win32') return env[name];
  const key = Object.keys(env).find((k) => k.toUpperCase() === name.toUpperCase());
  return key === undefined ? undefined : env[key];
}

/** A regular file we may run (on POSIX: with an execute bit for us). */
export function defaultIsFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    if (process.platform !== 'win32') accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where `name` resolves on PATH, the way a shell would: the first directory that has it, with
 * PATHEXT extensions on Windows ("nvcc" → "C:\...\bin\nvcc.exe"). Null when it is not there.
 */
export function findOnPath(name: string, lookup: PathLookup): string | null {
  const { env, platform } = lookup;
  const isFile = lookup.isFile ?? defaultIsFile;
  const p = pathFor(platform);
  const dirs = (envValue(env, 'PATH', platform) ?? '').split(platform === 'win32' ? ';' : ':').filter(Boolean);
  const extensions =
    platform === 'win32' && !/\.[a-z0-9]+$/i.test(name)
      ? (envValue(env, 'PATHEXT', platform) ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean).map((e) => e.toLowerCase())
      : [''];
  for (const dir of dirs) {
    for (const ext of extensions) {
      const candidate = p.join(dir.replace(/^"(.*)"$/, '$1'), name + ext);
      if (isFile(candidate)) return candidate;
    }
  }
  return null;
}
