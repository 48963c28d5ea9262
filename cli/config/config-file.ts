import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path, { join } from 'node:path';
import { UserError } from '../errors.js';
import { CONFIG_FILE_NAME, type InstallConfig } from './install-config.js';
import { ConfigShapeError, parseInstallConfig } from './parse-install-config.js';

export function configPath(installDir: string): string {
  return join(installDir, CONFIG_FILE_NAME);
}

/** The install folder's config, or undefined when there is none yet. A damaged one is a UserError naming the file. */
export async function readInstallConfig(installDir: string): Promise<InstallConfig | undefined> {
  const path = configPath(installDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return parseInstallConfig(JSON.parse(text) as unknown);
  } catch (error) {
    if (error instanceof ConfigShapeError && error.newerSchema) {
      throw new UserError(`${path} was written by a newer sd-setup${error.newerSchema.writtenBy ? ` (${error.newerSchema.writtenBy})` : ''}: ${error.message}`, {
        hint: 'update sd-setup (npx sd-setup@latest) to use this install',
      });
    }
    throw new UserError(`${path} is damaged: ${(error as Error).message}`, {
      hint: `delete it and run "sd-setup" again: finished steps are checked and kept (the engine and the model are not rebuilt or downloaded again)`,
      cause: error,
    });
  }
}

/**
 * Writes the config so that a reader (or a crash) only ever sees the old or the
 * new file: a uniquely named draft, flushed to disk, then renamed over.
 */
export async function writeInstallConfig(installDir: string, config: InstallConfig): Promise<void> {
  await mkdir(installDir, { recursive: true });
  await writeFileAtomically(configPath(installDir), `${JSON.stringify(config, null, 2)}\n`);
}

export async function writeFileAtomically(path: string, content: string): Promise<void> {
  const draft = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    const file = await open(draft, 'w');
    try {
      await file.writeFile(content);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(draft, path);
  } catch (error) {
    await unlink(draft).catch(() => undefined);
    throw error;
  }
}

/** A path as stored in the config: relative when inside the install folder (so the folder can move). */
export function storedPath(installDir: string, file: string, paths: path.PlatformPath = path): string {
  const rel = paths.relative(installDir, file);
  return rel !== '' && !rel.startsWith('..') && !paths.isAbsolute(rel) ? rel.split(paths.sep).join('/') : file;
}

/** The absolute path of a stored one. */
export function resolveStoredPath(installDir: string, stored: string, paths: path.PlatformPath = path): string {
  return paths.isAbsolute(stored) ? stored : paths.resolve(installDir, ...stored.split('/'));
}
