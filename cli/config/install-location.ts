import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { homeOf, resolveUserPath, sdSetupHome } from '../download/models-dir.js';
import { configPath, writeFileAtomically } from './config-file.js';

/**
 * Where the per-user "last install" note lives: the platform's settings folder
 * (%APPDATA% on Windows, ~/Library/Application Support on macOS, XDG elsewhere).
 * It lets `sd-setup launch` find an install made with --dir without being told again.
 */
export function lastInstallNotePath(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform, home = homeOf(env)): string {
  const paths = platform === 'win32' ? path.win32 : path.posix;
  if (platform === 'win32') {
    const appData = env.APPDATA?.trim() || paths.join(env.USERPROFILE?.trim() || home, 'AppData', 'Roaming');
    return paths.join(appData, 'sd-setup', 'last-install.json');
  }
  if (platform === 'darwin') return paths.join(home, 'Library', 'Application Support', 'sd-setup', 'last-install.json');
  return paths.join(env.XDG_CONFIG_HOME?.trim() || paths.join(home, '.config'), 'sd-setup', 'last-install.json');
}

export async function rememberInstallDir(installDir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const note = lastInstallNotePath(env);
  await mkdir(path.dirname(note), { recursive: true });
  await writeFileAtomically(note, `${JSON.stringify({ installDir }, null, 2)}\n`);
}

function rememberedInstallDir(env: NodeJS.ProcessEnv): string | undefined {
  try {
    const { installDir } = JSON.parse(readFileSync(lastInstallNotePath(env), 'utf8')) as { installDir?: unknown };
    return typeof installDir === 'string' && existsSync(configPath(installDir)) ? installDir : undefined;
  } catch {
    return undefined;
  }
}

export interface InstallDirChoice {
  dir: string;
  /** How it was found, for messages. */
  source: '--dir' | 'SD_SETUP_HOME' | 'last install' | 'default';
}

/**
 * The install folder a command works on: --dir, else $SD_SETUP_HOME, else the
 * folder of the last install (when it still has its settings), else ~/sd-setup.
 */
export function findInstallDir(options: { flag?: string | undefined; env: NodeJS.ProcessEnv; cwd: string }): InstallDirChoice {
  const home = homeOf(options.env);
  if (options.flag !== undefined && options.flag.trim() !== '') return { dir: resolveUserPath(options.flag.trim(), options.cwd, home), source: '--dir' };
  if (options.env.SD_SETUP_HOME?.trim()) return { dir: sdSetupHome(options.env, home), source: 'SD_SETUP_HOME' };
  const remembered = rememberedInstallDir(options.env);
  if (remembered) return { dir: remembered, source: 'last install' };
  return { dir: sdSetupHome(options.env, home), source: 'default' };
}
