import { existsSync, readFileSync } from 'node:fs';
import { configPath, resolveStoredPath } from '../config/config-file.js';
import { findInstallDir } from '../config/install-location.js';

/**
 * The engine `sd-setup build` installed (recorded in the install's sd-setup.json),
 * when there is one and the file is there; else undefined. Read synchronously:
 * loadAddon is synchronous.
 */
export function installedAddonPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    const { dir } = findInstallDir({ env, cwd: process.cwd() });
    const config = JSON.parse(readFileSync(configPath(dir), 'utf8')) as { engine?: { addon?: unknown } };
    const stored = config.engine?.addon;
    if (typeof stored !== 'string') return undefined;
    const path = resolveStoredPath(dir, stored);
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}
