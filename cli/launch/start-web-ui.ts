import { join } from 'node:path';
import { startServer, type RunningServer } from '../server/index.js';
import type { LaunchPlan } from './launch-plan.js';

/**
 * Starts the web UI for a launch plan. The engine it loads is the install's:
 * SD_SETUP_ADDON (which loadAddon reads) is set before the server loads the model.
 */
export async function startWebUi(plan: LaunchPlan, log: (line: string) => void): Promise<RunningServer> {
  process.env.SD_SETUP_ADDON = plan.addonPath;
  return startServer({
    model: { model: plan.modelPath, backend: plan.backend, memoryMode: plan.memoryMode },
    host: plan.host,
    port: plan.port,
    outputDir: join(plan.installDir, 'outputs'),
    // The GPU's memory as the install saw it bounds image size x batch; on the CPU the server measures RAM itself.
    ...(plan.backend === 'cuda' && plan.vramMiB ? { memory: { totalBytes: plan.vramMiB * 1024 * 1024, source: `${plan.vramMiB} MiB of GPU memory` } } : {}),
    log,
  });
}
