import { notAvailableCommand } from './not-available.js';

export const serveCommand = notAvailableCommand({
  name: 'serve',
  summary: 'web UI and AUTOMATIC1111-compatible API at http://127.0.0.1:7860',
  issue: 'the web UI',
  options: {
    port: { type: 'string', valueName: 'N', description: 'port (default 7860)' },
  },
  examples: ['sd-setup serve', 'sd-setup serve --model tiny --port 7861'],
});
