import { booleanOption, integerOption, stringOption } from '../args.js';
import { defineCommand } from '../command.js';
import { readInstallConfig } from '../config/config-file.js';
import { findInstallDir } from '../config/install-location.js';
import { UsageError, UserError } from '../errors.js';
import type { MemoryMode } from '../hardware/report.js';
import { runLaunch } from '../launch/run-launch.js';

export const launchCommand = defineCommand({
  name: 'launch',
  summary: 'start the generator with the settings saved by the guided install',
  details: `
Starts the web UI with the engine, model, memory mode and port saved in <dir>/sd-setup.json
by the guided install. A flag changes its setting for this run only. Before starting, the
engine and the model are checked against what the install built and verified.`,
  options: {
    dir: { type: 'string', valueName: 'DIR', description: 'install folder (default: $SD_SETUP_HOME, the last install, else ~/sd-setup)' },
    lowvram: { type: 'boolean', description: 'weights in RAM, moved to the GPU block by block (2 GB GPUs)' },
    medvram: { type: 'boolean', description: 'one model part on the GPU at a time (4 GB GPUs)' },
    cpu: { type: 'boolean', description: 'run on the CPU even with the CUDA engine' },
    port: { type: 'string', valueName: 'N', description: 'port (default: the saved one, 7860)' },
    listen: { type: 'boolean', description: 'listen on every network interface (0.0.0.0), not only this computer' },
    browser: { type: 'boolean', description: 'open the web UI in the browser' },
    'no-browser': { type: 'boolean', description: 'do not open the browser (even if the install said so)' },
  },
  examples: ['sd-setup launch', 'sd-setup launch --lowvram', 'sd-setup launch --port 7861 --listen'],
  async run({ values, io }) {
    const modes = (['lowvram', 'medvram', 'cpu'] as const).filter((m) => booleanOption(values, m));
    if (modes.length > 1) throw new UsageError(`give one of --lowvram, --medvram and --cpu, not ${modes.map((m) => `--${m}`).join(' and ')}`);
    if (booleanOption(values, 'browser') && booleanOption(values, 'no-browser')) throw new UsageError('give --browser or --no-browser, not both');
    const port = integerOption(values, 'port', 1, 65535);
    const { dir, source } = findInstallDir({ flag: stringOption(values, 'dir'), env: io.env, cwd: io.cwd });
    const config = await readInstallConfig(dir);
    if (!config) {
      throw new UserError(`no install in ${dir} (no sd-setup.json)${source === 'default' ? '' : ` — found through ${source}`}`, {
        hint: source === '--dir' ? 'check the folder, or run "npx sd-setup" to install there' : 'run "npx sd-setup" first, or pass --dir with the install folder',
      });
    }
    const openBrowser = booleanOption(values, 'browser') ? true : booleanOption(values, 'no-browser') ? false : undefined;
    return runLaunch(io, dir, config, {
      memoryMode: modes[0] as MemoryMode | undefined,
      port,
      ...(booleanOption(values, 'listen') ? { listen: true } : {}),
      openBrowser,
    });
  },
});
