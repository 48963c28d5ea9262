import { notAvailableCommand } from './not-available.js';

export const generateCommand = notAvailableCommand({
  name: 'generate',
  summary: 'txt2img and img2img from the command line',
  issue: 'samplers and generate',
  options: {
    prompt: { type: 'string', short: 'p', valueName: 'TEXT', description: 'what to draw' },
  },
  examples: ['sd-setup generate --prompt "a lighthouse at dusk"'],
});
