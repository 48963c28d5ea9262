import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Generator } from '../generate/generator.js';
import { imageFileName, nextImageNumber, outputFolder } from '../generate/output-files.js';
import { encodePng } from '../image/png-encode.js';
import type { Job } from './job-queue.js';
import type { WebuiJob } from './webui-request.js';
import { webuiResponse, type ModelIdentity, type WebuiResponse } from './webui-response.js';

/** What the server needs of a loaded model (cli/generate/generator.ts). */
export type ServerGenerator = Pick<Generator, 'modelName' | 'modelHash' | 'modelPath' | 'samplers' | 'generate' | 'interrupt' | 'info'>;

/** Live previews every N steps from the webui's settings (0 = none; -1 = only each picture's last step). */
export function previewInterval(job: WebuiJob): number {
  if (!job.options.live_previews_enable) return 0;
  const n = job.options.show_progress_every_n_steps;
  return n === -1 ? job.params.steps : Math.max(0, n);
}

/**
 * Runs one queued request on the generator, keeping the queue's view of it
 * (progress, preview) current, and builds the webui response. save_images
 * writes into the server's output folder only, under names it makes itself.
 */
export async function runGeneration(
  generator: ServerGenerator,
  model: ModelIdentity,
  request: WebuiJob,
  job: Job,
  signal: AbortSignal,
  outputDir: string | undefined,
  log: (line: string) => void,
): Promise<WebuiResponse> {
  const startedAt = new Date();
  job.progress = { batch: 0, batches: request.params.nIter, step: 0, steps: request.params.steps };
  const result = await generator.generate(request.params, {
    signal,
    previewEvery: previewInterval(request),
    onProgress: (p) => {
      job.progress = { batch: p.batch, batches: p.batches, step: p.step, steps: p.steps };
      if (p.preview) {
        job.preview = p.preview;
        job.previewId += 1;
      }
    },
  });
  job.interrupted ||= result.interrupted;
  const { width, height, batchSize, nIter, steps } = request.params;
  log(`${request.kind} ${width}x${height} x${batchSize * nIter}, ${steps} steps, ${request.sampler}: ${((Date.now() - startedAt.getTime()) / 1000).toFixed(1)} s${result.interrupted ? ' (interrupted)' : ''}`);
  if (request.saveImages && outputDir) {
    try {
      const folder = outputFolder(outputDir, request.kind, startedAt);
      let number = nextImageNumber(folder);
      for (const image of result.images) writeFileSync(join(folder, imageFileName(number++, image.seed)), encodePng(image, { parameters: image.infotext }));
    } catch (error) {
      log(`could not save the pictures in ${outputDir}: ${(error as Error).message}`);
    }
  }
  return webuiResponse(request, result, model, startedAt);
}
