/**
 * The smoke test's child process: opens the package's tiny model with the
 * engine named by SD_SETUP_ADDON on the given backend, makes one 64×64 image
 * and checks it is a picture (pixels vary, not one flat colour; NaN in the
 * engine comes out as a flat image). Prints one JSON line. A broken engine can
 * crash the process that runs it: this child, not the installer.
 */
import { Generator } from '../generate/generator.js';
import { defaultGenerateParams } from '../generate/validate.js';
import { imageStats } from './image-stats.js';

const backend = process.argv[2] === 'cuda' ? 'cuda' : 'cpu';
const started = performance.now();
try {
  const generator = await Generator.open({ model: 'tiny', backend, precision: 'f32' });
  try {
    const result = await generator.generate({
      ...defaultGenerateParams(),
      prompt: 'a photograph of an astronaut riding a horse',
      width: 64,
      height: 64,
      steps: 4,
      seed: 1,
    });
    const image = result.images[0];
    if (!image) throw new Error('the engine returned no image');
    const stats = imageStats(image.data);
    process.stdout.write(`${JSON.stringify({ ok: true, width: image.width, height: image.height, ...stats, seconds: (performance.now() - started) / 1000 })}\n`);
  } finally {
    generator.close();
  }
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: error instanceof Error ? error.message : String(error) })}\n`);
  process.exitCode = 1;
}
