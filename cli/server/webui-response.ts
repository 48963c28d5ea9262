import { randomInt } from 'node:crypto';
import type { GenerationResult } from '../generate/types.js';
import { encodePng } from '../image/png-encode.js';
import type { WebuiJob } from './webui-request.js';

export interface ModelIdentity {
  /** "tiny-sd1" */
  name: string;
  /** Short hash (10 hex digits). */
  hash: string;
  /** The webui's title: "tiny-sd1.safetensors [0123456789]". */
  title: string;
}

export interface WebuiResponse {
  images: string[];
  parameters: Record<string, unknown>;
  /** JSON text, as the webui sends it (Processed.js()). */
  info: string;
}

/** The webui's job_timestamp: local time as YYYYMMDDHHMMSS. */
export function jobTimestamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}

/** PNG with the infotext in its "parameters" chunk, base64 without a data: prefix (what the webui returns). */
export function encodeImageBase64(image: { width: number; height: number; data: Uint8Array }, infotext?: string): string {
  return encodePng(image, infotext ? { parameters: infotext } : {}).toString('base64');
}

/**
 * The txt2img/img2img response: the pictures (PNG, base64, with their
 * parameters inside), the request as understood (`parameters`), and `info`,
 * the JSON text of the webui's Processed.js() with the same keys.
 */
export function webuiResponse(job: WebuiJob, result: GenerationResult, model: ModelIdentity, startedAt: Date): WebuiResponse {
  const { params } = job;
  const planned = params.batchSize * params.nIter;
  const allSeeds = Array.from({ length: planned }, (_, i) => result.seed + i);
  const subseed = job.subseed >= 0 ? job.subseed : randomInt(0, 4294967294);
  const info = {
    prompt: params.prompt,
    all_prompts: Array<string>(planned).fill(params.prompt),
    negative_prompt: params.negativePrompt,
    all_negative_prompts: Array<string>(planned).fill(params.negativePrompt),
    seed: result.seed,
    all_seeds: allSeeds,
    subseed,
    all_subseeds: allSeeds.map((_, i) => subseed + i),
    subseed_strength: 0,
    width: params.width,
    height: params.height,
    sampler_name: job.sampler,
    cfg_scale: params.cfgScale,
    steps: params.steps,
    batch_size: params.batchSize,
    restore_faces: false,
    face_restoration_model: null,
    sd_model_name: model.name,
    sd_model_hash: model.hash,
    sd_vae_name: null,
    sd_vae_hash: null,
    seed_resize_from_w: -1,
    seed_resize_from_h: -1,
    denoising_strength: job.kind === 'img2img' ? (params.denoisingStrength ?? 0.75) : job.parameters.denoising_strength,
    extra_generation_params: params.scheduler !== 'Automatic' ? { 'Schedule type': params.scheduler } : {},
    index_of_first_image: 0,
    infotexts: result.images.map((image) => image.infotext),
    styles: [],
    job_timestamp: jobTimestamp(startedAt),
    clip_skip: params.clipSkip,
    is_using_inpainting_conditioning: false,
    // Not in the webui: true when /sdapi/v1/interrupt stopped sampling early.
    interrupted: result.interrupted,
  };
  return {
    images: job.sendImages ? result.images.map((image) => encodeImageBase64(image, image.infotext)) : [],
    parameters: job.parameters,
    info: JSON.stringify(info),
  };
}
