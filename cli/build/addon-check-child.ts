/**
 * Loads a freshly built addon in its own process and makes it answer: if it
 * crashes on load (a wrong architecture, a missing runtime library) only this
 * child dies. Prints one JSON line: {"ok":true,"cuda":bool,"tokens":n} or
 * {"ok":false,"error":"..."}. Run by checkAddon().
 */
import { createRequire } from 'node:module';
import { clipVocabPath } from '../paths.js';
import type { NativeAddon } from '../binding/types.js';

const path = process.argv[2];
try {
  if (!path) throw new Error('usage: addon-check-child ADDON');
  const addon = createRequire(import.meta.url)(path) as NativeAddon;
  const tokens = addon.clipTokenize('a photograph of an astronaut riding a horse', { vocab: clipVocabPath() }).tokens.length;
  process.stdout.write(`${JSON.stringify({ ok: true, cuda: Boolean(addon.buildInfo?.cuda), tokens })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: error instanceof Error ? error.message : String(error) })}\n`);
  process.exitCode = 1;
}
