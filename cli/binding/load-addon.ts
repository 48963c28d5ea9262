import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { installedAddonPath } from './installed-addon.js';
import type { NativeAddon } from './types.js';

/** Where `sd-setup build` and `npm run build:native` put the addon. */
export function defaultAddonPath(root = packageRoot()): string {
  return join(root, 'build', 'native', 'Release', 'sd_engine.node');
}

let cached: NativeAddon | undefined;

/**
 * The engine to load: SD_SETUP_ADDON (tests, custom builds), else the one the
 * guided install built (its sd-setup.json), else a checkout's build/native.
 */
export function resolveAddonPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.SD_SETUP_ADDON ?? installedAddonPath(env) ?? defaultAddonPath();
}

/**
 * Loads the native engine (resolveAddonPath decides which file).
 * A missing or unloadable addon is a UserError that says how to build it.
 */
export function loadAddon(path = resolveAddonPath()): NativeAddon {
  if (cached) return cached;
  if (!existsSync(path)) {
    throw new UserError(`the native engine is not built (no ${path})`, {
      hint: 'run "sd-setup build" (or "npm run build:native" in a checkout)',
    });
  }
  try {
    cached = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (error) {
    throw new UserError(`the native engine at ${path} failed to load: ${(error as Error).message}`, {
      hint: 'rebuild it with "sd-setup build"; if it keeps failing, run "sd-setup doctor"',
      cause: error,
    });
  }
  return cached;
}
