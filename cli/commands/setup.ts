import { booleanOption, integerOption, stringOption } from '../args.js';
import { defineCommand } from '../command.js';
import { ENGINES, MEMORY_MODES } from '../config/install-config.js';
import { askerMode, createAsker } from '../setup/asker.js';
import type { SetupFlags } from '../setup/context.js';
import { runLaunch } from '../launch/run-launch.js';
import { runSetup, type SetupOutcome } from '../setup/run-setup.js';
import { interruptible } from './interruptible.js';
import { choiceOption } from './option-parsers.js';

export const setupCommand = defineCommand({
  name: 'setup',
  summary: 'guided install: diagnose, build the engine, test it, download a model, launch (default)',
  details: `
From nothing to a running generator: checks this computer (as "sd-setup doctor"), asks for
the install folder, the model and the engine (CUDA when the GPU, driver and toolkit fit, else
CPU), builds the engine here with cmake-js (a few minutes; full log in <dir>/logs), tests it
with the tiny model that ships in the package, downloads the model (resumable, verified),
asks for the memory mode (the recommended one preselected), saves everything to
<dir>/sd-setup.json and starts the web UI.

Running it again resumes: finished steps are checked (hashes, the engine loads, the model
verifies) and skipped; saved answers are kept unless a flag changes them.

Every question has a flag. --yes takes the recommended answer wherever there is one. Without
a terminal, or with CI=true, nothing is asked: a question without its flag (and without --yes)
stops the run with the flag's name.`,
  options: {
    yes: { type: 'boolean', short: 'y', description: 'accept every recommended answer; never prompt' },
    dir: { type: 'string', valueName: 'DIR', description: 'install folder (default: $SD_SETUP_HOME, the last install, else ~/sd-setup)' },
    model: { type: 'string', valueName: 'ID', description: 'catalogue model to download: sd-v1-5 (recommended) or sd-v1-4' },
    checkpoint: { type: 'string', valueName: 'FILE', description: 'use a .safetensors/.ckpt file you already have, where it is' },
    'model-url': { type: 'string', valueName: 'URL', description: 'download the model from this address (needs --model-sha256)' },
    'model-sha256': { type: 'string', valueName: 'HEX', description: 'expected SHA-256 of the --model-url file' },
    'hf-token': { type: 'string', valueName: 'TOKEN', description: 'Hugging Face token for gated models (default: HF_TOKEN, then the Hugging Face CLI login)' },
    engine: { type: 'string', valueName: 'cuda|cpu', description: 'engine to build (default: cuda when usable, else cpu)' },
    jobs: { type: 'string', valueName: 'N', description: 'parallel compile jobs (default: one per core, fewer with little RAM)' },
    'memory-mode': { type: 'string', valueName: 'MODE', description: 'normal, medvram, lowvram or cpu (default: the recommended one for the GPU)' },
    port: { type: 'string', valueName: 'N', description: 'web UI port (default 7860)' },
    listen: { type: 'boolean', description: 'let other computers on the network use the web UI (default: this computer only)' },
    open: { type: 'boolean', description: 'open the web UI in the browser when it is ready' },
    'no-launch': { type: 'boolean', description: 'stop after the install instead of starting the web UI' },
  },
  examples: [
    'npx sd-setup',
    'npx sd-setup --yes --dir ~/sd',
    'npx sd-setup --yes --engine cpu --no-launch',
    'CI=true npx sd-setup --dir /opt/sd --model sd-v1-5 --engine cpu --memory-mode cpu --no-launch',
    'npx sd-setup --checkpoint ~/Downloads/v1-5-pruned-emaonly.safetensors',
  ],
  async run({ values, io }) {
    const flags: SetupFlags = {
      yes: booleanOption(values, 'yes'),
      dir: stringOption(values, 'dir'),
      model: stringOption(values, 'model'),
      checkpoint: stringOption(values, 'checkpoint'),
      modelUrl: stringOption(values, 'model-url'),
      modelSha256: stringOption(values, 'model-sha256'),
      hfToken: stringOption(values, 'hf-token'),
      engine: choiceOption(values, 'engine', ENGINES),
      jobs: integerOption(values, 'jobs', 1, 256),
      memoryMode: choiceOption(values, 'memory-mode', MEMORY_MODES),
      port: integerOption(values, 'port', 1, 65535),
      listen: booleanOption(values, 'listen'),
      open: booleanOption(values, 'open'),
      noLaunch: booleanOption(values, 'no-launch'),
    };
    const how = askerMode({ yes: flags.yes, stdinIsTTY: Boolean(process.stdin.isTTY), stdoutIsTTY: io.isTTY, env: io.env });
    let outcome: SetupOutcome | undefined;
    const code = await interruptible(
      io,
      async (signal) => {
        outcome = await runSetup({ io, flags, signal, asker: createAsker(how.mode, { input: process.stdin, output: process.stdout, signal }, how.why) });
        return 0;
      },
      'npx sd-setup',
    );
    // The web UI runs outside the install's Ctrl-C handling: there Ctrl-C means "stop the server".
    return code === 0 && outcome?.launch ? runLaunch(io, outcome.installDir, outcome.config, {}) : code;
  },
});
