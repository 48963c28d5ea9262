import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's root folder (where package.json lives), whether we run from
 * dist/cli in a checkout or from an npx cache: compiled files sit at dist/cli/*.js.
 */
export function packageRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** The CLIP BPE vocabulary that ships with the package (every SD1 model uses it). */
export function clipVocabPath(root = packageRoot()): string {
  return join(root, 'assets', 'bpe_simple_vocab_16e6.txt.gz');
}

/** Where the guided install puts everything unless told otherwise (sd-setup setup --dir). */
export function defaultInstallDir(home = homedir()): string {
  return join(home, 'sd-setup');
}

/** Where checkpoints go by default. */
export function defaultModelsDir(home = homedir()): string {
  return join(defaultInstallDir(home), 'models');
}
