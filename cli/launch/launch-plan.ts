import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolveStoredPath } from '../config/config-file.js';
import { DEFAULT_PORT, type InstallConfig } from '../config/install-config.js';
import { fileSha256 } from '../build/file-sha256.js';
import { isStillVerified } from '../download/verified-record.js';
import { UsageError, UserError } from '../errors.js';
import type { Engine, MemoryMode } from '../hardware/report.js';

/** What `sd-setup launch` flags change for one run (the saved config stays as it is). */
export interface LaunchOverrides {
  memoryMode?: MemoryMode | undefined;
  port?: number | undefined;
  listen?: boolean | undefined;
  openBrowser?: boolean | undefined;
}

export interface LaunchPlan {
  installDir: string;
  addonPath: string;
  /** The GPU's memory as the install found it, for the server's size limits; null when unknown or on the CPU. */
  vramMiB: number | null;
  backend: Engine;
  /** The engine's memory mode ("normal" on the CPU backend, where modes do not apply). */
  memoryMode: 'normal' | 'medvram' | 'lowvram';
  /** What the user sees: normal, medvram, lowvram or cpu. */
  mode: MemoryMode;
  modelPath: string;
  host: string;
  port: number;
  openBrowser: boolean;
}

/**
 * The generator to start from the saved config plus this run's flags. Checks
 * (without trusting the config) that the engine is the file that was built and
 * the model the file that was verified; anything missing names the command that
 * puts it right.
 */
export async function planLaunch(installDir: string, config: InstallConfig, overrides: LaunchOverrides = {}): Promise<LaunchPlan> {
  const rerun = `run "npx sd-setup${installDir ? ` --dir ${quote(installDir)}` : ''}" to finish it (finished steps are kept)`;
  if (!config.engine || !config.model || !config.choices.memoryMode) {
    throw new UserError(`the install in ${installDir} is not finished`, { hint: rerun });
  }
  const addonPath = resolveStoredPath(installDir, config.engine.addon);
  if (!existsSync(addonPath)) throw new UserError(`the engine is missing (${addonPath})`, { hint: 'run "sd-setup build" to build it again' });
  if ((await fileSha256(addonPath)) !== config.engine.sha256) {
    throw new UserError(`the engine at ${addonPath} is not the one sd-setup built and tested`, { hint: 'run "sd-setup build" to build it again' });
  }
  const modelPath = resolveStoredPath(installDir, config.model.path);
  if (!(await modelStillVerified(modelPath, config.model))) {
    throw new UserError(`the model ${modelPath} is missing or changed since it was verified`, { hint: rerun });
  }
  const mode = overrides.memoryMode ?? config.choices.memoryMode;
  const backend: Engine = mode === 'cpu' ? 'cpu' : config.engine.backend;
  if (mode !== 'cpu' && config.engine.backend === 'cpu') {
    if (overrides.memoryMode === undefined) throw new UserError(`the saved memory mode (${mode}) needs the CUDA engine, but the CPU engine is installed`, { hint: rerun });
    throw new UsageError(`--${mode} needs the CUDA engine; this install built the CPU engine`, 'run "sd-setup build --engine cuda" first (if "sd-setup doctor" says the GPU can), or launch without it');
  }
  const listen = overrides.listen ?? config.launch?.listen ?? false;
  return {
    installDir,
    addonPath,
    vramMiB: backend === 'cuda' ? (config.engine.gpu?.memoryTotalMiB ?? null) : null,
    backend,
    mode,
    memoryMode: mode === 'cpu' ? 'normal' : mode,
    modelPath,
    host: listen ? '0.0.0.0' : '127.0.0.1',
    port: overrides.port ?? config.launch?.port ?? DEFAULT_PORT,
    openBrowser: overrides.openBrowser ?? config.launch?.openBrowser ?? false,
  };
}

async function modelStillVerified(path: string, record: NonNullable<InstallConfig['model']>): Promise<boolean> {
  if (record.mtimeMs !== undefined) {
    const s = await stat(path).catch(() => undefined);
    return Boolean(s?.isFile() && s.size === record.bytes && s.mtimeMs === record.mtimeMs);
  }
  return isStillVerified(path, record.sha256);
}

function quote(path: string): string {
  return /[\s"'$`\\]/.test(path) ? `"${path.replace(/(["\\$`])/g, '\\$1')}"` : path;
}
