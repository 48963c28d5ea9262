import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { loadAddon } from '../binding/load-addon.js';
import type { LoadModelOptions, NativeModel } from '../binding/types.js';
import { UserError } from '../errors.js';
import { fitImage } from '../image/resize.js';
import { clipVocabPath, packageRoot } from '../paths.js';
import { checkSampler } from './check-sampler.js';
import { createInfotext } from './infotext.js';
import { modelShortHash } from './model-hash.js';
import { cheapPreview } from './preview.js';
import type { GeneratedImage, GenerateOptions, GenerateParams, GenerationResult, SamplerDescription } from './types.js';
import { validateGenerateParams } from './validate.js';

export interface GeneratorOptions {
  /** "tiny" (the model in the package) or a checkpoint path (.safetensors / .ckpt). */
  model: string;
  backend?: 'cpu' | 'cuda';
  memoryMode?: 'normal' | 'medvram' | 'lowvram';
  /** Weight storage: f16 (default), f32, bf16. */
  precision?: string;
  threads?: number;
  /** CUDA: cap on device memory in MiB (the allocator refuses past it, naming the operation). */
  vramBudgetMB?: number;
  onLoadProgress?: (done: number, total: number) => void;
}

/** The package's tiny random-weight model: pictures are noise, but every part of the engine runs. */
export function tinyModelPath(): string {
  return join(packageRoot(), 'assets', 'models', 'tiny-sd1.safetensors');
}

export function resolveModelPath(model: string): string {
  if (model === 'tiny') return tinyModelPath();
  const path = resolve(model);
  if (!existsSync(path)) {
    throw new UserError(`no model file at ${path}`, {
      hint: 'give a .safetensors or .ckpt path, "tiny" for the built-in test model, or download one with "sd-setup download sd-v1-5"',
    });
  }
  return path;
}

/**
 * A loaded model ready to make pictures, the webui way: validated requests,
 * seeds (-1 = random), batches, img2img fitting, infotexts, previews, and
 * Interrupt (finish early) vs abort (AbortSignal: nothing produced).
 */
export class Generator {
  private interruptRequested = false;
  private busy = false;

  private constructor(
    private readonly native: NativeModel,
    readonly modelPath: string,
    readonly modelName: string,
    readonly modelHash: string,
  ) {}

  static async open(options: GeneratorOptions): Promise<Generator> {
    const path = resolveModelPath(options.model);
    const load: LoadModelOptions = {
      backend: options.backend ?? 'cpu',
      precision: options.precision ?? 'f16',
      memoryMode: options.memoryMode ?? 'normal',
      ...(options.threads ? { threads: options.threads } : {}),
      ...(options.vramBudgetMB ? { vramBudgetMB: options.vramBudgetMB } : {}),
    };
    const addon = loadAddon();
    const [native, hash] = await Promise.all([
      addon.loadModel(path, load, (_phase, done, total) => options.onLoadProgress?.(done, total)).catch((error: Error) => {
        throw new UserError(`could not load ${path}: ${error.message}`, { hint: 'is it a Stable Diffusion 1.x checkpoint? "sd-setup doctor" checks the engine' });
      }),
      modelShortHash(path),
    ]);
    return new Generator(native, path, basename(path, extname(path)), hash);
  }

  get info() {
    return this.native.info();
  }

  samplers(): SamplerDescription[] {
    return loadAddon()
      .samplers()
      .samplers.map((s) => ({
        name: s.name,
        aliases: s.aliases,
        options: {
          ...(s.defaultScheduler ? { scheduler: s.defaultScheduler.toLowerCase() } : {}),
          ...(s.secondOrder ? { second_order: 'True' } : {}),
          ...(s.brownianNoise ? { brownian_noise: 'True' } : {}),
        },
      }));
  }

  /** Stops the running generation after its current step; the result holds what was reached. */
  interrupt(): void {
    if (!this.busy) return;
    this.interruptRequested = true;
    this.native.interrupt();
  }

  async generate(input: GenerateParams, options: GenerateOptions = {}): Promise<GenerationResult> {
    const params = validateGenerateParams(input);
    checkSampler(params.samplerName, params.scheduler);
    if (this.busy) throw new UserError('a generation is already running; wait for it or interrupt it');
    this.busy = true;
    this.interruptRequested = false;
    const seed = params.seed === -1 ? randomInt(0, 4294967294) : params.seed;
    const onAbort = () => this.native.cancel();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      options.signal?.throwIfAborted();
      const init = params.initImages?.map((img) => fitImage(img, params.width, params.height, params.resizeMode ?? 'resize'));
      const images: GeneratedImage[] = [];
      let interrupted = false;
      for (let batch = 0; batch < params.nIter && !interrupted; batch++) {
        const seeds = Array.from({ length: params.batchSize }, (_, k) => seed + batch * params.batchSize + k);
        const initImages = init ? this.initTensor(init, params) : undefined;
        const previewEvery = options.previewEvery ?? 0;
        const out = await this.native.generate(
          {
            prompt: params.prompt,
            negativePrompt: params.negativePrompt,
            width: params.width,
            height: params.height,
            sampler: params.samplerName,
            scheduler: params.scheduler === 'Automatic' ? '' : params.scheduler,
            steps: params.steps,
            cfgScale: params.cfgScale,
            seeds,
            clipSkip: params.clipSkip,
            rng: params.rng,
            ...(params.eta !== undefined ? { eta: params.eta } : {}),
            ...(initImages ? { initImages, denoisingStrength: params.denoisingStrength ?? 0.75 } : {}),
            ...(params.initialNoise && batch === 0 ? { initialNoise: params.initialNoise } : {}),
            vocab: clipVocabPath(),
            previews: previewEvery > 0,
          },
          (_phase, step, steps, latent) => {
            const preview = latent && previewEvery > 0 && (step % previewEvery === 0 || step === steps) ? cheapPreview(latent.data, latent.shape) : undefined;
            options.onProgress?.({ batch, batches: params.nIter, step, steps, ...(preview ? { preview } : {}) });
          },
        );
        interrupted = out.interrupted || this.interruptRequested;
        const pixels = params.width * params.height * 3;
        for (let k = 0; k < out.batch; k++) {
          images.push({
            width: out.width,
            height: out.height,
            data: out.pixels.subarray(k * pixels, (k + 1) * pixels),
            seed: seeds[k]!,
            infotext: this.infotext(params, seeds[k]!, out.plan),
          });
        }
      }
      return { images, seed, info: images[0]?.infotext ?? '', interrupted };
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      this.busy = false;
    }
  }

  close(): void {
    this.native.dispose();
  }

  private initTensor(images: { width: number; height: number; data: Uint8Array }[], params: GenerateParams) {
    // One init image serves the whole batch (as in the webui); else one per image.
    const count = images.length === 1 ? 1 : params.batchSize;
    if (images.length !== 1 && images.length < params.batchSize) {
      throw new UserError(`img2img: ${images.length} init images for a batch of ${params.batchSize}; give one, or one per image`);
    }
    const size = params.width * params.height * 3;
    const data = new Uint8Array(count * size);
    for (let i = 0; i < count; i++) data.set(images[i]!.data, i * size);
    return { data, shape: [count, params.height, params.width, 3] };
  }

  /**
   * What the webui writes as "Schedule type": the one asked for, or the one a
   * name like "DPM++ 2M Karras" carries, else "Automatic".
   */
  private scheduleTypeLabel(params: GenerateParams, resolved: string): string {
    if (params.scheduler !== 'Automatic') return resolved;
    const wanted = params.samplerName.toLowerCase();
    const known = this.samplers().some((s) => s.name.toLowerCase() === wanted || s.aliases.some((a) => a.toLowerCase() === wanted));
    return known ? 'Automatic' : resolved;
  }

  private infotext(params: GenerateParams, seed: number, plan: { sampler: string; scheduler: string; eta: number }): string {
    const img2img = params.initImages !== undefined;
    return createInfotext({
      prompt: params.prompt,
      negativePrompt: params.negativePrompt,
      steps: params.steps,
      sampler: plan.sampler,
      scheduleType: this.scheduleTypeLabel(params, plan.scheduler),
      cfgScale: params.cfgScale,
      seed,
      width: params.width,
      height: params.height,
      modelHash: this.modelHash,
      modelName: this.modelName,
      denoisingStrength: img2img ? params.denoisingStrength : undefined,
      clipSkip: params.clipSkip,
      rng: params.rng === 'cpu' ? 'CPU' : undefined,
      eta: params.eta,
    });
  }
}
