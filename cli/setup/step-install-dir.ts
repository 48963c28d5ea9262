import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { readInstallConfig } from '../config/config-file.js';
import { emptyConfig } from '../config/install-config.js';
import { findInstallDir, rememberInstallDir } from '../config/install-location.js';
import { homeOf, resolveUserPath } from '../download/models-dir.js';
import { UsageError } from '../errors.js';
import { packageVersion } from '../version.js';
import { saveConfig, type SetupStep } from './context.js';

/**
 * Step 2a: the install folder (--dir). A folder with an earlier install's
 * sd-setup.json resumes it: its choices are kept and its finished steps checked.
 */
export const installDirStep: SetupStep = {
  id: 'install-dir',
  title: 'Install folder',
  async isDone() {
    return { done: false, detail: 'always chosen' };
  },
  async run(ctx) {
    const found = findInstallDir({ flag: ctx.flags.dir, env: ctx.io.env, cwd: ctx.io.cwd });
    let dir = found.dir;
    if (found.source === '--dir') {
      const problem = folderProblem(dir);
      if (problem) throw new UsageError(`--dir ${ctx.flags.dir}: ${problem}`);
    } else if (found.source === 'default' || !existsSync(dir)) {
      const home = homeOf(ctx.io.env);
      const answer = await ctx.asker.input({
        flag: '--dir',
        message: 'Install folder (the engine, the model and the settings go here; about 6 GB):',
        default: dir,
        validate: (value) => folderProblem(resolveUserPath(value.trim(), ctx.io.cwd, home)) ?? true,
      });
      dir = resolveUserPath(answer.trim(), ctx.io.cwd, home);
    }
    ctx.installDir = dir;
    const existing = await readInstallConfig(dir);
    ctx.config = existing ?? emptyConfig(packageVersion());
    ctx.say(existing ? `  resuming the install in ${dir}` : `  installing into ${dir}`);
    await saveConfig(ctx);
    await rememberInstallDir(dir, ctx.io.env).catch(() => undefined);
  },
};

/** Why a folder cannot hold the install, or undefined when it can (it may not exist yet). */
export function folderProblem(dir: string): string | undefined {
  if (dir.trim() === '') return 'give a folder';
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) return `${dir} is a file, not a folder`;
    return writable(dir) ? undefined : `${dir} is not writable`;
  }
  let parent = dirname(dir);
  while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
  if (!statSync(parent).isDirectory()) return `${parent} is a file, not a folder`;
  return writable(parent) ? undefined : `cannot create ${dir}: ${parent} is not writable`;
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
