import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { defaultInstallDir } from '../paths.js';

/**
 * sd-setup's home folder: $SD_SETUP_HOME, else ~/sd-setup. The guided install
 * keeps everything it makes there (models/, settings), so one variable moves it all.
 */
export function sdSetupHome(env: NodeJS.ProcessEnv, home = homeOf(env)): string {
  const fromEnv = env.SD_SETUP_HOME?.trim();
  return fromEnv ? resolveUserPath(fromEnv, process.cwd(), home) : defaultInstallDir(home);
}

/** Where checkpoints go: --dir when given (relative to cwd), else {sd-setup home}/models. */
export function modelsDir(options: { dir?: string | undefined; env: NodeJS.ProcessEnv; cwd: string; home?: string }): string {
  const home = options.home ?? homeOf(options.env);
  if (options.dir !== undefined && options.dir.trim() !== '') return resolveUserPath(options.dir.trim(), options.cwd, home);
  return join(sdSetupHome(options.env, home), 'models');
}

/** A path as a user types it: "~/x" is in the home folder, relative paths start at cwd. */
export function resolveUserPath(path: string, cwd: string, home: string): string {
  if (path === '~' || path.startsWith('~/') || path.startsWith('~\\')) return join(home, path.slice(1));
  return isAbsolute(path) ? path : resolve(cwd, path);
}

/** The user's home folder as the given environment says (so tests and the installer can pass their own). */
export function homeOf(env: NodeJS.ProcessEnv): string {
  return env.HOME?.trim() || env.USERPROFILE?.trim() || homedir();
}
