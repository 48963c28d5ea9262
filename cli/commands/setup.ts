import { notAvailableCommand } from './not-available.js';

export const setupCommand = notAvailableCommand({
  name: 'setup',
  summary: 'guided install: diagnose, download a model, build the engine, launch (default)',
  issue: 'the guided install',
  options: {
    yes: { type: 'boolean', short: 'y', description: 'accept every recommended answer; never prompt' },
    dir: { type: 'string', valueName: 'DIR', description: 'install folder (default: ~/sd-setup)' },
  },
  examples: ['npx sd-setup', 'npx sd-setup --yes --dir ~/sd'],
});
