import type { RgbImage } from '../image/png-encode.js';
import type { ResizeMode } from '../image/resize.js';

/**
 * One generation job, in the webui's terms (its API field names in camelCase:
 * prompt, negative_prompt -> negativePrompt, sampler_name -> samplerName, ...).
 * Validated by validateGenerateParams before it reaches the engine.
 */
export interface GenerateParams {
  prompt: string;
  negativePrompt: string;
  /** Webui sampler name or alias ("Euler a", "DPM++ 2M", "k_euler_a", "DPM++ 2M Karras"). */
  samplerName: string;
  /** Webui "Schedule type" ("Automatic", "Karras", "Exponential", ...). */
  scheduler: string;
  steps: number;
  cfgScale: number;
  /** -1 = random (the chosen seed is reported back). */
  seed: number;
  width: number;
  height: number;
  /** Images per batch (one UNet call per step for all of them). */
  batchSize: number;
  /** Number of batches ("Batch count", the API's n_iter). */
  nIter: number;
  clipSkip: number;
  /** "gpu" = the webui's default Philox source (same on every device), "cpu" = torch's CPU generator. */
  rng: 'gpu' | 'cpu';
  /** Ancestral/SDE eta; undefined = the sampler's webui default. */
  eta?: number | undefined;
  /** img2img: the init image(s), any size (fitted with resizeMode). */
  initImages?: RgbImage[] | undefined;
  denoisingStrength?: number | undefined;
  resizeMode?: ResizeMode | undefined;
  /**
   * txt2img: the initial noise [batchSize, 4, height/8, width/8] instead of the seeds' first draw
   * (for reproducing reference runs; not a webui field).
   */
  initialNoise?: { data: Float32Array; shape: number[] } | undefined;
}

export interface GenerationProgress {
  /** Image batch being made (0-based) of batches. */
  batch: number;
  batches: number;
  /** Sampler step done (1-based) of steps in this batch. */
  step: number;
  steps: number;
  /** Cheap RGB preview of the current prediction (latent-size x 8 / 8 = latent resolution), when asked for. */
  preview?: RgbImage | undefined;
}

export interface GeneratedImage extends RgbImage {
  seed: number;
  /** The webui infotext, also stored in the PNG "parameters" chunk. */
  infotext: string;
}

export interface GenerationResult {
  images: GeneratedImage[];
  /** First seed used (the webui API's info.seed). */
  seed: number;
  /** Infotext of the first image. */
  info: string;
  /** True when interrupt() stopped sampling early: the images are what was reached. */
  interrupted: boolean;
}

export interface GenerateOptions {
  onProgress?: (p: GenerationProgress) => void;
  /** Aborting rejects with an AbortError and produces nothing. */
  signal?: AbortSignal;
  /** Compute previews every N steps (0 = never). */
  previewEvery?: number;
}

export interface SamplerDescription {
  name: string;
  aliases: string[];
  /** Options as the webui's /sdapi/v1/samplers reports them. */
  options: Record<string, string>;
}
