import { notAvailableCommand } from './not-available.js';

export const launchCommand = notAvailableCommand({
  name: 'launch',
  summary: 'start the generator with the settings saved by the guided install',
  issue: 'the guided install',
  options: {
    port: { type: 'string', valueName: 'N', description: 'port (default 7860)' },
  },
  examples: ['sd-setup launch', 'sd-setup launch --lowvram'],
});
