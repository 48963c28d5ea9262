import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import type { Exec } from './exec.js';
import { defaultIsFile, envValue, findOnPath, pathFor } from './find-on-path.js';
import type { CudaToolkit, CudaToolkitFacts } from './report.js';
import { compareVersions, majorMinor } from './versions.js';

export interface ToolkitProbeInput {
  exec: Exec;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  timeoutMs: number;
  /** Folders scanned for toolkits; default cudaSearchDirs(platform, env). */
  searchDirs?: readonly string[];
  isFile?: (file: string) => boolean;
  listDir?: (dir: string) => string[];
  readText?: (file: string) => string | null;
  realpath?: (file: string) => string;
}

/** Overrides the well-known install folders (path-list syntax); empty disables the search. */
export const SEARCH_PATH_ENV = 'SD_SETUP_CUDA_SEARCH_PATH';

/** Variables that name a toolkit folder. The Windows installer sets CUDA_PATH and CUDA_PATH_V12_4 style ones. */
const ROOT_VARIABLES = ['CUDA_PATH', 'CUDA_HOME', 'CUDA_ROOT', 'CUDAToolkit_ROOT'];

/** A toolkit folder's name: cuda, cuda-12.4 (Linux), v12.4 (Windows), nvidia-cuda-toolkit (Debian). */
const TOOLKIT_DIR_NAME = /^(?:cuda(?:[-_]?\d+(?:\.\d+)*)?|v\d+\.\d+|nvidia-cuda-toolkit)$/i;

/**
 * Where toolkits are usually installed; each folder is a toolkit itself or holds toolkit
 * folders. Linux: /usr/local/cuda-X.Y (NVIDIA's packages), /opt/cuda (Arch),
 * /usr/lib/nvidia-cuda-toolkit (Debian/Ubuntu's package). Windows: the installer's
 * "NVIDIA GPU Computing Toolkit\CUDA\vX.Y".
 */
export function cudaSearchDirs(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string[] {
  const override = envValue(env, SEARCH_PATH_ENV, platform);
  if (override !== undefined) return override.split(platform === 'win32' ? ';' : ':').filter(Boolean);
  if (platform === 'win32') {
    const programFiles = envValue(env, 'ProgramW6432', platform) ?? envValue(env, 'ProgramFiles', platform) ?? 'C:\\Program Files';
    return [pathFor(platform).join(programFiles, 'NVIDIA GPU Computing Toolkit', 'CUDA')];
  }
  return ['/usr/local', '/opt', '/usr/lib/nvidia-cuda-toolkit'];
}

/** Names of the variables that point at toolkit folders, in the order CMake and users consult them. */
export function toolkitRootVariables(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] {
  const versioned = Object.keys(env)
    .filter((k) => /^CUDA_PATH_V\d+_\d+$/i.test(k))
    .sort((a, b) => compareVersions(b.replace(/_/g, '.'), a.replace(/_/g, '.')));
  return [...ROOT_VARIABLES.filter((v) => envValue(env, v, platform)), ...versioned];
}

/** "12.4" and "12.4.131" from `nvcc --version`. */
export function parseNvccVersion(text: string): { version: string; release: string } | null {
  const match = /release (\d+\.\d+), V(\d+(?:\.\d+)+)/.exec(text);
  return match?.[1] && match[2] ? { version: match[1], release: match[2] } : null;
}

/** The toolkit's own version file: version.json (CUDA 11.1+) or version.txt (older). */
export function parseToolkitVersionFile(text: string): string | null {
  try {
    const json = JSON.parse(text) as { cuda?: { version?: unknown } };
    if (typeof json.cuda?.version === 'string') return json.cuda.version;
  } catch {
    // not JSON: version.txt
  }
  return /CUDA Version (\d+(?:\.\d+)+)/.exec(text)?.[1] ?? null;
}

interface Candidate {
  nvcc: string;
  foundBy: string;
  /** The toolkit folder, when the candidate came from a folder rather than an executable. */
  root: string | null;
}

function rootOf(nvcc: string, platform: NodeJS.Platform): string | null {
  const p = pathFor(platform);
  const bin = p.dirname(nvcc);
  return p.basename(bin).toLowerCase() === 'bin' ? p.dirname(bin) : null;
}

/**
 * Every CUDA toolkit on this machine: the nvcc on PATH, the ones CUDACXX/CUDA_PATH/CUDA_HOME
 * name, and those in the usual folders. Copies reached by several routes (symlinks, wrapper
 * scripts) are merged. Also says which one the engine build would use, following CMake's
 * order: CUDACXX, then the first nvcc on PATH, then $CUDA_PATH/bin.
 */
export async function probeCudaToolkits(input: ToolkitProbeInput): Promise<CudaToolkitFacts> {
  const { env, platform } = input;
  const p = pathFor(platform);
  const isFile = input.isFile ?? defaultIsFile;
  const listDir = input.listDir ?? ((dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  });
  const readText = input.readText ?? ((file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return null;
    }
  });
  const realpath = input.realpath ?? ((file: string) => {
    try {
      return realpathSync(file);
    } catch {
      return file;
    }
  });
  const nvccIn = (root: string) => p.join(root, 'bin', platform === 'win32' ? 'nvcc.exe' : 'nvcc');
  const problems: string[] = [];
  const candidates: Candidate[] = [];

  const cudacxx = envValue(env, 'CUDACXX', platform);
  if (cudacxx) {
    if (isFile(cudacxx)) candidates.push({ nvcc: cudacxx, foundBy: 'CUDACXX', root: null });
    else problems.push(`CUDACXX is set to ${cudacxx}, which does not exist: CMake will stop there`);
  }
  const onPath = findOnPath('nvcc', { env, platform, isFile });
  if (onPath) candidates.push({ nvcc: onPath, foundBy: 'PATH', root: null });
  for (const variable of toolkitRootVariables(env, platform)) {
    const root = envValue(env, variable, platform)!;
    if (isFile(nvccIn(root))) candidates.push({ nvcc: nvccIn(root), foundBy: variable, root });
    else problems.push(`${variable} is set to ${root}, which has no ${p.join('bin', 'nvcc')}`);
  }
  for (const dir of input.searchDirs ?? cudaSearchDirs(platform, env)) {
    // The folder is a toolkit itself (/opt/cuda) or holds some (/usr/local/cuda-12.4); /usr/local/bin/nvcc
    // is not a toolkit folder, so /usr/local itself only counts through its cuda* children.
    const self = TOOLKIT_DIR_NAME.test(p.basename(dir)) ? [dir] : [];
    const roots = [...self, ...listDir(dir).filter((n) => TOOLKIT_DIR_NAME.test(n)).map((n) => p.join(dir, n))];
    for (const root of roots) {
      if (isFile(nvccIn(root))) candidates.push({ nvcc: nvccIn(root), foundBy: 'search', root });
    }
  }

  // One run of nvcc per distinct executable; the same output from two paths is one toolkit.
  const byRealPath = new Map<string, Candidate[]>();
  for (const c of candidates) {
    const key = realpath(c.nvcc);
    byRealPath.set(key, [...(byRealPath.get(key) ?? []), c]);
  }
  const runs = await Promise.all(
    [...byRealPath.values()].map(async (group) => {
      const first = group[0]!;
      const result = await input.exec(first.nvcc, ['--version'], { env, timeoutMs: input.timeoutMs });
      const parsed = result.exitCode === 0 ? parseNvccVersion(result.stdout) : null;
      if (parsed) return { group, version: parsed.version, release: parsed.release, identity: result.stdout.trim() };
      // nvcc did not answer: the folder's version file still tells which toolkit it is.
      const root = group.find((c) => c.root)?.root ?? rootOf(first.nvcc, platform);
      const fileVersion = root
        ? parseToolkitVersionFile(readText(p.join(root, 'version.json')) ?? readText(p.join(root, 'version.txt')) ?? '')
        : null;
      const what = result.timedOut ? `did not answer within ${input.timeoutMs / 1000} s` : `failed (${result.stderr.trim().split('\n')[0] || `exit code ${result.exitCode}`})`;
      problems.push(`${first.nvcc} --version ${what}`);
      const version = majorMinor(fileVersion);
      return version ? { group, version, release: fileVersion, identity: `${version} ${root}` } : null;
    }),
  );

  const toolkits: CudaToolkit[] = [];
  const identities: string[] = [];
  for (const run of runs) {
    if (!run) continue;
    const paths = run.group.map((c) => c.nvcc);
    const foundBy = run.group.map((c) => c.foundBy);
    const root = run.group.find((c) => c.root)?.root ?? null;
    const existing = identities.indexOf(run.identity);
    if (existing >= 0) {
      const t = toolkits[existing]!;
      t.aliases.push(...paths.filter((x) => x !== t.nvcc && !t.aliases.includes(x)));
      t.foundBy = [...new Set([...t.foundBy, ...foundBy])];
      t.root ??= root;
      continue;
    }
    identities.push(run.identity);
    toolkits.push({
      version: run.version,
      release: run.release,
      nvcc: paths[0]!,
      aliases: paths.slice(1).filter((x) => x !== paths[0]),
      root,
      foundBy: [...new Set(foundBy)],
    });
  }
  // Reached only through PATH or CUDACXX: assume the usual <root>/bin/nvcc layout.
  for (const t of toolkits) t.root ??= rootOf(t.nvcc, platform);

  const order = toolkits
    .map((t, i) => ({ t, i }))
    .sort((a, b) => compareVersions(b.t.version, a.t.version) || a.i - b.i)
    .map(({ t }) => t);
  const owner = (route: string) => order.findIndex((t) => t.foundBy.includes(route));
  let buildUses: number | null = null;
  let buildUsesReason: string | null = null;
  for (const [route, reason] of [
    ['CUDACXX', 'CUDACXX'],
    ['PATH', 'first nvcc on PATH'],
    ['CUDA_PATH', 'CUDA_PATH'],
  ] as const) {
    const index = owner(route);
    if (index >= 0) {
      buildUses = index;
      buildUsesReason = reason;
      break;
    }
  }
  return { toolkits: order, buildUses, buildUsesReason, problems };
}
