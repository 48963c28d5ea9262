import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { integerOption, numberOption, stringOption, booleanOption } from '../args.js';
import { loadAddon } from '../binding/load-addon.js';
import { defineCommand } from '../command.js';
import { ExitCode, UsageError, UserError } from '../errors.js';
import { checkSampler } from '../generate/check-sampler.js';
import { Generator } from '../generate/generator.js';
import { outputFolder } from '../generate/output-files.js';
import { StepProgress } from '../generate/progress-bar.js';
import { saveImages } from '../generate/save-images.js';
import type { GenerateParams } from '../generate/types.js';
import { defaultGenerateParams, ValidationError, validateGenerateParams } from '../generate/validate.js';
import { decodeImage, ImageDecodeError } from '../image/decode-image.js';
import { onStopSignal } from '../stop-signal.js';

export const generateCommand = defineCommand({
  name: 'generate',
  summary: 'txt2img and img2img from the command line',
  details: `Writes PNGs named like the webui's (NNNNN-SEED.png, under OUT/txt2img-images/DATE/ or img2img-images/)
with the webui's "parameters" text, so its PNG Info tab and other tools read them.
Ctrl-C stops at once and writes nothing unfinished; pictures of finished batches stay.`,
  options: {
    prompt: { type: 'string', short: 'p', valueName: 'TEXT', description: 'what to draw; webui syntax: (word:1.3), [word], BREAK' },
    negative: { type: 'string', short: 'n', valueName: 'TEXT', description: 'what to avoid (negative prompt)' },
    steps: { type: 'string', valueName: 'N', description: 'sampling steps (default 20)' },
    sampler: { type: 'string', valueName: 'NAME', description: 'webui sampler name (default "Euler a"; e.g. "DPM++ 2M", "DDIM")' },
    scheduler: { type: 'string', valueName: 'NAME', description: 'schedule type (default Automatic; Karras, Exponential, ...)' },
    cfg: { type: 'string', valueName: 'SCALE', description: 'classifier-free guidance scale (default 7)' },
    seed: { type: 'string', valueName: 'N', description: 'seed; -1 = random (default), reported' },
    width: { type: 'string', short: 'W', valueName: 'PX', description: 'width, multiple of 8 (default 512)' },
    height: { type: 'string', short: 'H', valueName: 'PX', description: 'height, multiple of 8 (default 512)' },
    'batch-size': { type: 'string', valueName: 'N', description: 'pictures per batch (default 1)' },
    'batch-count': { type: 'string', valueName: 'N', description: 'number of batches (default 1)' },
    'clip-skip': { type: 'string', valueName: 'N', description: 'stop the text encoder N-1 layers early (default 1)' },
    rng: { type: 'string', valueName: 'gpu|cpu', description: 'random source: gpu = webui default (same on every device), cpu' },
    eta: { type: 'string', valueName: 'X', description: 'eta for ancestral/SDE/DDIM samplers' },
    'init-image': { type: 'string', short: 'i', valueName: 'FILE', description: 'img2img: start from this PNG or JPEG' },
    noise: {
      type: 'string',
      valueName: 'FILE',
      description: 'txt2img: initial noise from a raw little-endian float32 file (batch x 4 x H/8 x W/8), to reproduce a reference run',
    },
    strength: { type: 'string', valueName: 'X', description: 'img2img denoising strength, 0..1 (default 0.75)' },
    'resize-mode': { type: 'string', valueName: 'MODE', description: 'img2img fit: resize (default), crop, fill' },
    model: { type: 'string', short: 'm', valueName: 'PATH', description: 'checkpoint (.safetensors/.ckpt), or "tiny" (built in)' },
    out: { type: 'string', short: 'o', valueName: 'DIR', description: 'output folder (default ./outputs)' },
    lowvram: { type: 'boolean', description: 'stream the UNet block by block (2 GB GPUs)' },
    medvram: { type: 'boolean', description: 'keep one model at a time on the GPU' },
    cpu: { type: 'boolean', description: 'run on the CPU even when CUDA is available' },
    precision: { type: 'string', valueName: 'f16|f32|bf16', description: 'weight storage precision (default f16)' },
    threads: { type: 'string', valueName: 'N', description: 'CPU threads (default: one per core)' },
    'vram-budget': { type: 'string', valueName: 'MB', description: 'CUDA: most GPU memory the engine may use; the peak is reported' },
  },
  examples: [
    'sd-setup generate --prompt "a lighthouse at dusk, oil painting" --model ~/sd-setup/models/v1-5-pruned-emaonly.safetensors',
    'sd-setup generate -p "a cat" --sampler "DPM++ 2M" --steps 25 --seed 1234 --batch-size 2',
    'sd-setup generate -p "watercolor" --init-image photo.jpg --strength 0.6 --model tiny',
  ],
  async run({ values, io }) {
    const prompt = stringOption(values, 'prompt');
    if (prompt === undefined) throw new UsageError('--prompt is required', 'e.g. sd-setup generate --prompt "a lighthouse at dusk"');
    if (booleanOption(values, 'lowvram') && booleanOption(values, 'medvram')) throw new UsageError('--lowvram and --medvram exclude each other');
    const d = defaultGenerateParams();
    const initPath = stringOption(values, 'init-image');
    let params: GenerateParams;
    try {
      params = validateGenerateParams({
        prompt,
        negativePrompt: stringOption(values, 'negative') ?? '',
        steps: integerOption(values, 'steps', 1, 1000) ?? d.steps,
        samplerName: stringOption(values, 'sampler') ?? d.samplerName,
        scheduler: stringOption(values, 'scheduler') ?? d.scheduler,
        cfgScale: numberOption(values, 'cfg', 0, 100) ?? d.cfgScale,
        seed: integerOption(values, 'seed', -1, Number.MAX_SAFE_INTEGER) ?? -1,
        width: integerOption(values, 'width', 1, 100000) ?? d.width,
        height: integerOption(values, 'height', 1, 100000) ?? d.height,
        batchSize: integerOption(values, 'batch-size', 1, 1000) ?? 1,
        nIter: integerOption(values, 'batch-count', 1, 100000) ?? 1,
        clipSkip: integerOption(values, 'clip-skip', 1, 100) ?? 1,
        rng: stringOption(values, 'rng') ?? 'gpu',
        eta: numberOption(values, 'eta', -100, 100),
        ...(initPath
          ? {
              initImages: [readInitImage(initPath)],
              denoisingStrength: numberOption(values, 'strength', -100, 100) ?? 0.75,
              resizeMode: stringOption(values, 'resize-mode') ?? 'resize',
            }
          : {}),
        ...(stringOption(values, 'noise') ? { initialNoise: readNoise(stringOption(values, 'noise')!, values) } : {}),
      });
      checkSampler(params.samplerName, params.scheduler);
    } catch (error) {
      if (error instanceof ValidationError) throw new UsageError(`--${flagFor(error.field)}: ${error.message.slice(error.field.length + 2)}`);
      throw error;
    }

    const backend = chooseBackend(booleanOption(values, 'cpu'));
    io.err(`loading ${stringOption(values, 'model') ?? 'tiny'} on the ${backend.toUpperCase()}...\n`);
    const generator = await Generator.open({
      model: stringOption(values, 'model') ?? 'tiny',
      backend,
      memoryMode: booleanOption(values, 'lowvram') ? 'lowvram' : booleanOption(values, 'medvram') ? 'medvram' : 'normal',
      precision: stringOption(values, 'precision') ?? 'f16',
      ...(integerOption(values, 'threads', 1, 1024) ? { threads: integerOption(values, 'threads', 1, 1024)! } : {}),
      ...(integerOption(values, 'vram-budget', 64, 1024 * 1024) ? { vramBudgetMB: integerOption(values, 'vram-budget', 64, 1024 * 1024)! } : {}),
    });
    const abort = new AbortController();
    const unlisten = onStopSignal(() => {
      io.err('\nstopping: nothing unfinished will be written\n');
      abort.abort();
    });
    const total = params.steps * params.nIter;
    const progress = new StepProgress(io, total);
    const folder = outputFolder(resolve(stringOption(values, 'out') ?? 'outputs'), initPath ? 'img2img' : 'txt2img');
    const written: string[] = [];
    let peakDevice = { inUse: 0, peakInUse: 0, peakReserved: 0, budget: 0 };
    try {
      // One call per batch so finished batches are saved even if a later one is stopped.
      if (params.seed === -1) params.seed = randomInt(0, 4294967294);
      for (let b = 0; b < params.nIter; b++) {
        const result = await generator.generate(
          { ...params, nIter: 1, seed: params.seed + b * params.batchSize },
          {
            signal: abort.signal,
            onProgress: (p) => progress.update(b * params.steps + Math.round((p.step / p.steps) * params.steps), `batch ${b + 1}/${params.nIter}`),
          },
        );
        written.push(...saveImages(folder, result.images));
      }
    } catch (error) {
      if ((error as Error).name === 'AbortError') {
        progress.finish();
        for (const path of written) io.out(`${path}\n`);
        return ExitCode.interrupted;
      }
      throw error;
    } finally {
      unlisten();
      peakDevice = generator.info.deviceMemory;
      generator.close();
    }
    progress.finish();
    for (const path of written) io.out(`${path}\n`);
    io.err(`seed ${params.seed}${written.length > 1 ? ` (+1 per picture)` : ''}\n`);
    if (backend === 'cuda') {
      const mem = peakDevice;
      io.err(`peak GPU memory ${Math.round(mem.peakInUse / 2 ** 20)} MiB${mem.budget ? ` of a ${Math.round(mem.budget / 2 ** 20)} MiB budget` : ''}\n`);
    }
    return ExitCode.ok;
  },
});

function readInitImage(path: string) {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new UserError(`cannot read the init image ${path}: ${(error as Error).message}`);
  }
  try {
    return decodeImage(bytes);
  } catch (error) {
    if (error instanceof ImageDecodeError) throw new UserError(`${path}: ${error.message}`);
    throw error;
  }
}

function readNoise(path: string, values: Record<string, unknown>) {
  const batch = Number(values['batch-size'] ?? 1), width = Number(values.width ?? 512), height = Number(values.height ?? 512);
  const shape = [batch, 4, Math.floor(height / 8), Math.floor(width / 8)];
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new UserError(`cannot read the noise file ${path}: ${(error as Error).message}`);
  }
  const expected = shape.reduce((a, b) => a * b, 1) * 4;
  if (bytes.length !== expected)
    throw new UserError(`${path} has ${bytes.length} bytes; ${shape.join('x')} float32 values need ${expected}`);
  const data = new Float32Array(expected / 4);
  for (let i = 0; i < data.length; i++) data[i] = bytes.readFloatLE(i * 4);
  return { data, shape };
}

/** CUDA when this build has it and a GPU answers; --cpu forces the CPU. */
function chooseBackend(forceCpu: boolean): 'cpu' | 'cuda' {
  if (forceCpu) return 'cpu';
  const addon = loadAddon();
  return addon.buildInfo.cuda && addon.cudaStatus().available ? 'cuda' : 'cpu';
}

function flagFor(field: string): string {
  const map: Record<string, string> = {
    negativePrompt: 'negative',
    samplerName: 'sampler',
    cfgScale: 'cfg',
    batchSize: 'batch-size',
    nIter: 'batch-count',
    clipSkip: 'clip-skip',
    denoisingStrength: 'strength',
    resizeMode: 'resize-mode',
    initImages: 'init-image',
  };
  return map[field] ?? field;
}
