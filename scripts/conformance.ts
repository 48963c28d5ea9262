// npm run conformance -- DIR [--checkpoint ckpt|safetensors|PATH] [--backend cpu|cuda] [--filter TEXT] [--debug]
// Runs a fixture directory through the native engine: one line per case, then
// "N passed, N failed". Exit code 1 when anything failed.
import { parseArgs } from 'node:util';
import { loadAddon } from '../cli/binding/load-addon.js';

const { values, positionals } = parseArgs({
  options: {
    checkpoint: { type: 'string' },
    backend: { type: 'string' },
    precision: { type: 'string' },
    filter: { type: 'string' },
    debug: { type: 'boolean' },
  },
  allowPositionals: true,
  strict: true,
});

const dir = positionals[0];
if (!dir || positionals.length > 1) {
  console.error('usage: npm run conformance -- DIR [--checkpoint ckpt|safetensors|PATH] [--backend cpu|cuda] [--filter TEXT] [--debug]');
  process.exit(2);
}

const addon = loadAddon();
const summary = await addon.runConformance(dir, values, (result) => console.log(result.line));
console.log(`${summary.passed} passed, ${summary.failed} failed`);
process.exitCode = summary.failed === 0 ? 0 : 1;
