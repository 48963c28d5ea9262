import type { GenerateParams } from '../generate/types.js';
import { validateGenerateParams, ValidationError } from '../generate/validate.js';
import type { ResizeMode } from '../image/resize.js';
import { decodeUploadedImage } from './decode-upload.js';
import type { EngineCatalog } from './engine-catalog.js';
import { HttpError, invalidField } from './http-error.js';
import type { JobKind } from './job-queue.js';
import { squareSide } from './memory-limits.js';
import type { OptionsStore, ServerOptions } from './options-store.js';
import { IMG2IMG_DEFAULTS, TXT2IMG_DEFAULTS, UNSUPPORTED_FIELDS } from './webui-fields.js';

/** A webui txt2img/img2img request, checked and translated for the Generator. */
export interface WebuiJob {
  kind: JobKind;
  params: GenerateParams;
  /** The sampler's canonical webui name ("Euler a" for "k_euler_a"). */
  sampler: string;
  /** The request with the API's defaults filled in: the response's `parameters`. */
  parameters: Record<string, unknown>;
  options: ServerOptions;
  sendImages: boolean;
  saveImages: boolean;
  taskId: string | undefined;
  /** The variation seed the webui would report (unused: variation strength is 0). */
  subseed: number;
}

export interface RequestLimits {
  /** width x height x batch_size. */
  maxPixelsPerBatch: number;
  /** Where that limit comes from, for the message ("24 GiB of RAM"). */
  memorySource: string;
  /** Largest init image accepted, in pixels. */
  maxUploadPixels: number;
  /** Width and height must be multiples of this (8: one latent cell). */
  sizeMultiple: number;
}

const CAMEL_TO_WEBUI: Record<string, string> = {
  negativePrompt: 'negative_prompt',
  samplerName: 'sampler_name',
  cfgScale: 'cfg_scale',
  batchSize: 'batch_size',
  nIter: 'n_iter',
  clipSkip: 'CLIP_stop_at_last_layers',
  rng: 'randn_source',
  initImages: 'init_images',
  denoisingStrength: 'denoising_strength',
  resizeMode: 'resize_mode',
};

const RESIZE_MODES: Record<number, ResizeMode> = { 0: 'resize', 1: 'crop', 2: 'fill' };
const TASK_ID = /^[\w.:()-]{1,100}$/;

/**
 * Numbers the way the webui's pydantic models take them: JSON numbers, or
 * strings holding one ("20"); null = the default. Anything else is left for
 * the validator to name.
 */
function lenientNumber(value: unknown): unknown {
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return value;
}

function text(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) throw invalidField(field, 'one prompt per request: send a string, not a list (use batch_size or n_iter for several pictures)');
  if (typeof v !== 'string') throw invalidField(field, 'must be a string');
  return v;
}

/**
 * Reads a webui API request body. Refuses (422, naming the field) what this
 * server cannot do exactly as asked; fills the webui API's defaults; checks
 * the size against what memory allows; decodes init images last, so a bad
 * request costs no decoding.
 */
export function parseWebuiRequest(kind: JobKind, input: unknown, store: OptionsStore, catalog: EngineCatalog, limits: RequestLimits): WebuiJob {
  if (input === undefined) throw new HttpError(422, 'send the request as a JSON object, e.g. {"prompt": "a lighthouse", "steps": 20}', { kind: 'ValidationError' });
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new HttpError(422, 'the request body must be a JSON object', { kind: 'ValidationError' });
  const body = input as Record<string, unknown>;
  const defaults = kind === 'txt2img' ? TXT2IMG_DEFAULTS : IMG2IMG_DEFAULTS;

  for (const rule of UNSUPPORTED_FIELDS) {
    if (Object.hasOwn(body, rule.field) && !rule.neutral(body[rule.field])) throw invalidField(rule.field, `${rule.why} (got ${JSON.stringify(body[rule.field])})`);
  }
  const options = store.resolve(body.override_settings).values;

  const samplerRequested = text(body, 'sampler_name') || text(body, 'sampler_index') || (defaults.sampler_index as string);
  const schedulerRequested = text(body, 'scheduler') || 'Automatic';
  let resolved: { sampler: string; scheduler: string };
  try {
    resolved = catalog.resolveSampler(samplerRequested, schedulerRequested);
  } catch (error) {
    const field = /schedule/i.test((error as Error).message) && body.scheduler ? 'scheduler' : 'sampler_name';
    throw invalidField(field, (error as Error).message);
  }
  const samplerInfo = catalog.samplers.find((s) => s.name === resolved.sampler);

  // Eta means something only to the samplers that take it (ancestral, SDE, DDIM); the webui
  // ignores it elsewhere, and writes it to the infotext only when it differs from the default.
  // Without one in the request, the eta_ancestral / eta_ddim settings apply.
  let eta: unknown;
  if (samplerInfo?.takesEta) {
    const requested = lenientNumber(body.eta);
    eta = requested ?? (samplerInfo.etaDefault === 0 ? options.eta_ddim : options.eta_ancestral);
    if (eta === samplerInfo.etaDefault) eta = undefined;
  } else if (body.eta !== undefined && body.eta !== null && typeof lenientNumber(body.eta) !== 'number') {
    throw invalidField('eta', `must be a number, got ${JSON.stringify(body.eta)}`);
  }

  const seed = body.seed === '' || body.seed === null || body.seed === undefined ? -1 : lenientNumber(body.seed);
  const camel: Record<string, unknown> = {
    prompt: text(body, 'prompt') ?? defaults.prompt,
    negativePrompt: text(body, 'negative_prompt') ?? defaults.negative_prompt,
    samplerName: samplerRequested,
    scheduler: schedulerRequested,
    steps: lenientNumber(body.steps ?? defaults.steps),
    cfgScale: lenientNumber(body.cfg_scale ?? defaults.cfg_scale),
    seed,
    width: lenientNumber(body.width ?? defaults.width),
    height: lenientNumber(body.height ?? defaults.height),
    batchSize: lenientNumber(body.batch_size ?? defaults.batch_size),
    nIter: lenientNumber(body.n_iter ?? defaults.n_iter),
    clipSkip: options.CLIP_stop_at_last_layers,
    rng: options.randn_source === 'CPU' ? 'cpu' : 'gpu',
    eta,
  };

  let initImages: unknown[] | undefined;
  if (kind === 'img2img') {
    const images = body.init_images;
    if (!Array.isArray(images) || images.length === 0) throw invalidField('init_images', 'img2img needs at least one picture: a list of base64-encoded PNG or JPEG pictures');
    initImages = images;
    const mode = lenientNumber(body.resize_mode ?? 0);
    if (mode === 3) throw invalidField('resize_mode', '3 ("Just resize (latent upscale)") is not available; use 0 (just resize), 1 (crop and resize) or 2 (resize and fill)');
    if (typeof mode !== 'number' || !(mode in RESIZE_MODES)) throw invalidField('resize_mode', `must be 0 (just resize), 1 (crop and resize) or 2 (resize and fill), got ${JSON.stringify(body.resize_mode)}`);
    camel.resizeMode = RESIZE_MODES[mode];
    camel.denoisingStrength = lenientNumber(body.denoising_strength ?? defaults.denoising_strength);
    camel.initImages = [{ width: 8, height: 8, data: new Uint8Array(8 * 8 * 3) }]; // decoded below, once the rest is known to be valid
  }

  let params: GenerateParams;
  try {
    params = validateGenerateParams(camel, limits.sizeMultiple);
  } catch (error) {
    if (error instanceof ValidationError) {
      const field = CAMEL_TO_WEBUI[error.field] ?? error.field;
      throw invalidField(field, error.message.slice(error.field.length + 2));
    }
    throw error;
  }

  const pixels = params.width * params.height * params.batchSize;
  if (pixels > limits.maxPixelsPerBatch) {
    throw invalidField(
      'width',
      `${params.width}x${params.height} x ${params.batchSize} picture(s) per batch needs more memory than this server has for one batch (about ${squareSide(limits.maxPixelsPerBatch)} x 1, from ${limits.memorySource}); lower the size or batch_size, or raise n_iter instead`,
    );
  }

  if (initImages) {
    if (initImages.length > 1 && initImages.length !== params.batchSize) {
      throw invalidField('init_images', `${initImages.length} pictures for a batch of ${params.batchSize}: send one picture, or one per picture of the batch`);
    }
    params.initImages = initImages.map((image, i) => decodeUploadedImage(image, `init_images[${i}]`, limits.maxUploadPixels));
  }

  const taskId = body.force_task_id ?? undefined;
  if (taskId !== undefined && (typeof taskId !== 'string' || !TASK_ID.test(taskId))) {
    throw invalidField('force_task_id', 'must be 1 to 100 letters, digits or ._:()- characters, like "task(1234)"');
  }
  const subseed = lenientNumber(body.subseed);

  const parameters: Record<string, unknown> = {};
  for (const key of Object.keys(defaults)) parameters[key] = Object.hasOwn(body, key) ? body[key] : defaults[key];
  if (kind === 'img2img' && body.include_init_images !== true) parameters.init_images = null;
  delete parameters.include_init_images;

  return {
    kind,
    params,
    sampler: resolved.sampler,
    parameters,
    options,
    sendImages: body.send_images !== false,
    saveImages: body.save_images === true,
    taskId: taskId as string | undefined,
    subseed: typeof subseed === 'number' && Number.isSafeInteger(subseed) && subseed >= 0 ? subseed : -1,
  };
}
