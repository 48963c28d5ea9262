import type { GenerateParams } from './types.js';

/** A request field that is missing, of the wrong type or out of range; `field` names it. */
export class ValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ValidationError';
  }
}

export const limits = {
  minSize: 64,
  maxSize: 2048,
  maxSteps: 150,
  maxBatchSize: 8,
  maxBatchCount: 100,
  maxClipSkip: 12,
  maxPromptLength: 20_000,
  maxCfgScale: 30,
} as const;

/** The defaults a user of the webui expects (20 steps, Euler a, CFG 7, 512x512, random seed). */
export function defaultGenerateParams(): GenerateParams {
  return {
    prompt: '',
    negativePrompt: '',
    samplerName: 'Euler a',
    scheduler: 'Automatic',
    steps: 20,
    cfgScale: 7,
    seed: -1,
    width: 512,
    height: 512,
    batchSize: 1,
    nIter: 1,
    clipSkip: 1,
    rng: 'gpu',
  };
}

function integer(input: Record<string, unknown>, field: string, fallback: number, min: number, max: number): number {
  const v = input[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ValidationError(field, `must be a whole number, got ${JSON.stringify(v)}`);
  if (v < min || v > max) throw new ValidationError(field, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

function number(input: Record<string, unknown>, field: string, fallback: number | undefined, min: number, max: number): number | undefined {
  const v = input[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValidationError(field, `must be a number, got ${JSON.stringify(v)}`);
  if (v < min || v > max) throw new ValidationError(field, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

function text(input: Record<string, unknown>, field: string, fallback: string, maxLength: number): string {
  const v = input[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') throw new ValidationError(field, 'must be a string');
  if (v.length > maxLength) throw new ValidationError(field, `is longer than ${maxLength} characters`);
  return v;
}

/**
 * Checks a request (already in GenerateParams field names) and fills the
 * defaults. Images, if any, must already be decoded (RgbImage objects).
 * `sizeMultiple` is 8 for the engine (64 for the web UI's sliders).
 */
export function validateGenerateParams(input: unknown, sizeMultiple = 8): GenerateParams {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ValidationError('request', 'must be an object');
  const o = input as Record<string, unknown>;
  const d = defaultGenerateParams();
  const size = (field: 'width' | 'height') => {
    const v = integer(o, field, d[field], limits.minSize, limits.maxSize);
    if (v % sizeMultiple !== 0) throw new ValidationError(field, `must be a multiple of ${sizeMultiple}, got ${v}`);
    return v;
  };
  const rng = o.rng ?? d.rng;
  if (rng !== 'gpu' && rng !== 'cpu') throw new ValidationError('rng', 'must be "gpu" or "cpu"');
  const seed = o.seed ?? -1;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < -1)
    throw new ValidationError('seed', `must be -1 (random) or a whole number from 0, got ${JSON.stringify(seed)}`);
  const params: GenerateParams = {
    prompt: text(o, 'prompt', d.prompt, limits.maxPromptLength),
    negativePrompt: text(o, 'negativePrompt', d.negativePrompt, limits.maxPromptLength),
    samplerName: text(o, 'samplerName', d.samplerName, 100) || d.samplerName,
    scheduler: text(o, 'scheduler', d.scheduler, 100) || d.scheduler,
    steps: integer(o, 'steps', d.steps, 1, limits.maxSteps),
    cfgScale: number(o, 'cfgScale', d.cfgScale, 0, limits.maxCfgScale)!,
    seed,
    width: size('width'),
    height: size('height'),
    batchSize: integer(o, 'batchSize', d.batchSize, 1, limits.maxBatchSize),
    nIter: integer(o, 'nIter', d.nIter, 1, limits.maxBatchCount),
    clipSkip: integer(o, 'clipSkip', d.clipSkip, 1, limits.maxClipSkip),
    rng,
    eta: number(o, 'eta', undefined, 0, 1),
  };
  if (o.initialNoise !== undefined && o.initialNoise !== null) {
    const n = o.initialNoise as { data?: unknown; shape?: unknown };
    const expected = [params.batchSize, 4, params.height / 8, params.width / 8];
    if (!(n.data instanceof Float32Array) || !Array.isArray(n.shape) || n.shape.join() !== expected.join())
      throw new ValidationError('initialNoise', `must be a Float32Array of shape [${expected.join(', ')}]`);
    params.initialNoise = { data: n.data, shape: n.shape as number[] };
  }
  if (o.initImages !== undefined && o.initImages !== null) {
    if (!Array.isArray(o.initImages) || o.initImages.length === 0) throw new ValidationError('initImages', 'must be a non-empty list of images');
    params.initImages = o.initImages as GenerateParams['initImages'];
    params.denoisingStrength = number(o, 'denoisingStrength', 0.75, 0, 1);
    const mode = o.resizeMode ?? 'resize';
    if (mode !== 'resize' && mode !== 'crop' && mode !== 'fill') throw new ValidationError('resizeMode', 'must be "resize", "crop" or "fill"');
    params.resizeMode = mode;
  }
  return params;
}
