import { notAvailableCommand } from './not-available.js';

export const buildCommand = notAvailableCommand({
  name: 'build',
  summary: 'build the native engine on this machine (CUDA when usable, else CPU)',
  issue: 'the native engine build',
  options: {
    cpu: { type: 'boolean', description: 'build without CUDA' },
  },
  examples: ['sd-setup build', 'sd-setup build --cpu'],
});
