import type { Io } from '../io.js';
import { planLaunch, type LaunchOverrides } from './launch-plan.js';
import type { InstallConfig } from '../config/install-config.js';
import { openBrowser } from './open-browser.js';
import { startWebUi } from './start-web-ui.js';
import { stopSignal } from '../stop-signal.js';

/**
 * Starts the generator's web UI from an install and keeps it running until
 * Ctrl-C (or SIGTERM), then closes it cleanly. Returns the exit code.
 */
export async function runLaunch(io: Io, installDir: string, config: InstallConfig, overrides: LaunchOverrides): Promise<number> {
  const plan = await planLaunch(installDir, config, overrides);
  const modeNote = plan.mode === 'cpu' ? 'CPU' : `CUDA, ${plan.mode}`;
  io.err(`starting the web UI: ${plan.modelPath} (${modeNote})\n`);
  const ui = await startWebUi(plan, (line) => io.err(`${line}\n`));
  io.out(`Running on ${ui.url}\n`);
  if (plan.host === '0.0.0.0') io.err('listening on every network interface (--listen): other computers on this network can use it\n');
  if (plan.openBrowser && !(await openBrowser(ui.url))) io.err(`could not open a browser: open ${ui.url} yourself\n`);
  io.err('press Ctrl-C to stop\n');
  await stopSignal();
  io.err('stopping…\n');
  await ui.close();
  return 0;
}
