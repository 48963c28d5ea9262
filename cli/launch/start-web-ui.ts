import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { LaunchPlan } from './launch-plan.js';

export interface RunningWebUi {
  url: string;
  close(): Promise<void>;
}

/** What launch uses of the web UI server (cli/server: startServer). */
interface ServerModule {
  startServer(options: {
    model: { model: string; backend: 'cpu' | 'cuda'; memoryMode: 'normal' | 'medvram' | 'lowvram' };
    host: string;
    port: number;
    outputDir: string;
    memory?: { totalBytes: number; source: string };
    log: (line: string) => void;
  }): Promise<RunningWebUi>;
}

/**
 * Starts the web UI for a launch plan. The engine it loads is the install's
 * (SD_SETUP_ADDON, which loadAddon reads), set before the server loads it.
 */
export async function startWebUi(plan: LaunchPlan, log: (line: string) => void): Promise<RunningWebUi> {
  process.env.SD_SETUP_ADDON = plan.addonPath;
  const server = await loadServerModule();
  return server.startServer({
    model: { model: plan.modelPath, backend: plan.backend, memoryMode: plan.memoryMode },
    host: plan.host,
    port: plan.port,
    outputDir: join(plan.installDir, 'outputs'),
    ...(plan.backend === 'cuda' && plan.vramMiB ? { memory: { totalBytes: plan.vramMiB * 1024 * 1024, source: `${(plan.vramMiB / 1024).toFixed(1)} GiB of GPU memory` } } : {}),
    log,
  });
}

async function loadServerModule(): Promise<ServerModule> {
  // Resolved at run time: the web UI (cli/server) ships separately from the installer.
  const specifier = '../server/index.js';
  try {
    return (await import(specifier)) as ServerModule;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new UserError('the web UI is not part of this sd-setup version', { hint: 'use "sd-setup generate" meanwhile; the install itself is complete' });
    }
    throw error;
  }
}
