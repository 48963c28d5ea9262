import { notAvailableCommand } from './not-available.js';

export const doctorCommand = notAvailableCommand({
  name: 'doctor',
  summary: 'diagnose GPU, driver, CUDA toolkit, compiler, RAM and disk; recommend a memory mode',
  issue: 'hardware diagnosis',
  options: {
    json: { type: 'boolean', description: 'print the report as JSON (stable schema, see README)' },
  },
  examples: ['sd-setup doctor', 'sd-setup doctor --json'],
});
