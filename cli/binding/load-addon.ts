import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { packageRoot } from '../paths.js';
import type { NativeAddon } from './types.js';

/** Where `sd-setup build` and `npm run build:native` put the addon. */
export function defaultAddonPath(root = packageRoot()): string {
  return join(root, 'build', 'native', 'Release', 'sd_engine.node');
}

let cached: NativeAddon | undefined;

/**
 * Loads the native engine. SD_SETUP_ADDON overrides the path (tests, custom builds).
 * A missing or unloadable addon is a UserError that says how to build it.
 */
export function loadAddon(path = process.env.SD_SETUP_ADDON ?? defaultAddonPath()): NativeAddon {
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
