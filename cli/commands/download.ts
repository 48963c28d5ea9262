import { notAvailableCommand } from './not-available.js';

export const downloadCommand = notAvailableCommand({
  name: 'download',
  summary: 'download a checkpoint, resumable and verified by SHA-256',
  issue: 'verified downloads',
  positionals: { name: 'MODEL', description: 'catalogue name, e.g. sd-v1-5', max: 1 },
  options: {
    dir: { type: 'string', valueName: 'DIR', description: 'folder for models' },
  },
  examples: ['sd-setup download sd-v1-5'],
});
