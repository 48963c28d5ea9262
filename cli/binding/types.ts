/**
 * The typed contract of the native addon (native/addon/addon.cpp). Every
 * export is listed here with what it does and what it throws; nothing else in
 * the CLI touches the addon untyped.
 */

export interface ConformanceOptions {
  /** "ckpt" or "safetensors" (the fixture set's files) or a checkpoint path. Default "safetensors". */
  checkpoint?: string;
  /** "cpu" (default) or "cuda". */
  backend?: string;
  /** Weight storage precision: "f32" (default), "f16" or "bf16". */
  precision?: string;
  /** Only cases whose name or kind contains this. */
  filter?: string;
  /** Also compare debug trajectories. */
  debug?: boolean;
}

export interface ConformanceOutput {
  output: string;
  maxAbs: number;
  relL2: number;
  passed: boolean;
  note: string;
}

export interface ConformanceCase {
  name: string;
  kind: string;
  passed: boolean;
  notImplemented: boolean;
  message: string;
  seconds: number;
  /** The line the native driver prints for this case. */
  line: string;
  outputs: ConformanceOutput[];
}

/** AUTOMATIC1111's "Emphasis mode" setting (default "Original"). */
export type EmphasisMode = 'Original' | 'No norm' | 'Ignore' | 'None';

export interface TokenizeOptions {
  /** Path of the CLIP vocabulary, bpe_simple_vocab_16e6.txt.gz (clipVocabPath() in cli/paths.ts: the package's copy). */
  vocab: string;
  /** "None" treats "(word:1.2)" and "BREAK" as plain text; the others parse them. Default "Original". */
  emphasis?: EmphasisMode;
  /** The webui's "Prompt word wrap length limit": 20 by default, 0 = off. */
  commaPaddingBacktrack?: number;
}

export interface PromptPiece {
  text: string;
  /** The emphasis weight, as the webui computes it; -1 with text "BREAK" marks a chunk break. */
  weight: number;
}

export interface PromptChunk {
  /** 77 token ids: BOS, 75 tokens (EOS padding), EOS. */
  ids: number[];
  /** 77 weights, 1 for BOS, EOS and padding. */
  weights: number[];
}

export interface TokenizedPrompt {
  /** The emphasis parser's pieces (parse_prompt_attention). */
  pieces: PromptPiece[];
  /** At least one chunk; the encoder runs each and concatenates the outputs. */
  chunks: PromptChunk[];
  /** The webui's token count (what its "n/75" counter shows). */
  tokenCount: number;
}

/** Options of `randn`: the webui's two random sources, reproduced exactly. */
export interface RandnOptions {
  /**
   * "gpu": torch.randn on CUDA (Philox4x32-10), the webui's default, also its "NV"
   * source; each draw uses the next Philox offset. "cpu": torch.randn on a CPU
   * generator (MT19937); draws continue one stream. Default "gpu".
   * @example { source: 'cpu', seed: 42, shape: [1, 4, 64, 64] }
   */
  source?: 'gpu' | 'cpu';
  /** Integer seed; a BigInt for seeds of 2^53 and above (up to 2^64 - 1). */
  seed: number | bigint;
  /** Tensor shape, e.g. [4, 64, 64] for one 512x512 latent. */
  shape: number[];
  /** Successive draws from one generator, concatenated (default 1). */
  draws?: number;
  /**
   * CPU source only: torch's AVX2 float32 math (default, what x86-64 PCs
   * compute) or the C library's logf/cosf/sinf (torch without AVX2).
   */
  cpuVariant?: 'avx2' | 'scalar';
}

/** One sampler of the webui's list (webui 1.10 names and options). */
export interface SamplerInfo {
  name: string;
  aliases: string[];
  family: 'k-diffusion' | 'timesteps';
  /** Schedule used when the schedule type is "Automatic" (a scheduler label). */
  defaultScheduler: string;
  /** Two UNet evaluations per step. */
  secondOrder: boolean;
  /** Whether eta applies, and its default (1 for ancestral/SDE samplers, 0 for DDIM). */
  takesEta: boolean;
  etaDefault: number;
  /** s_churn, s_tmin, s_tmax, s_noise apply (Euler, Heun, DPM2). */
  takesChurn: boolean;
  /** The webui writes its ENSD setting to the infotext for this sampler (when eta != 0). */
  usesEnsd: boolean;
  /** SDE sampler driven by Brownian-tree noise. */
  brownianNoise: boolean;
  discardPenultimateSigma: boolean;
  /** Same seed gives the same picture as the webui (false for the SDE samplers). */
  seedMatchesWebui: boolean;
}

export interface SchedulerInfo {
  name: string;
  label: string;
  aliases: string[];
}

export interface InspectCheckpointOptions {
  /** Read and convert every tensor (exercises the whole load path; slow for big files). Default false. */
  verify?: boolean;
  /** Float precision tensors are converted to when verifying: "f32" (default), "f16" or "bf16". */
  dtype?: 'f32' | 'f16' | 'bf16';
}

export interface CheckpointTensorInfo {
  name: string;
  /** Stored element type: "F32", "F16", "BF16", "I64", ... */
  dtype: string;
  shape: number[];
  /** With verify: the type the tensor was converted to (integer tensors keep theirs). */
  readAs?: string;
  /** With verify: CRC-32 of the converted tensor's bytes (row-major, little-endian). */
  crc32?: number;
}

export interface CheckpointInfo {
  /** "safetensors" or "ckpt" (a PyTorch zip), from the file's first bytes. */
  format: 'safetensors' | 'ckpt';
  /** The detected SD 1.x configuration (config.json layout: unet, vae.ddconfig, clip, diffusion). */
  config?: Record<string, unknown>;
  /** Where `config` came from: "metadata", the sidecar file's path, or "inferred" (from shapes). */
  configSource?: string;
  /** Why no configuration could be detected (e.g. "... is an SDXL checkpoint; ..."). */
  configError?: string;
  /** Every tensor in file order (safetensors: header order; ckpt: state-dict order). */
  tensors: CheckpointTensorInfo[];
  /** safetensors __metadata__, or the scalars a .ckpt keeps beside its state dict ("global_step"). */
  metadata: Record<string, string>;
}

export interface NativeBuildInfo {
  cuda: boolean;
}

export interface TensorData<T extends Float32Array | Int32Array | Uint8Array = Float32Array> {
  data: T;
  shape: number[];
}

export interface LoadModelOptions {
  /** "cpu" (default) or "cuda". */
  backend?: string;
  /** Weight storage precision: "f16" (default), "f32" or "bf16". */
  precision?: string;
  /** "normal" (default), "medvram" or "lowvram". */
  memoryMode?: string;
  /** CUDA: cap on all device memory the engine allocates, in MiB (--vram-budget); 0 = none. */
  vramBudgetMB?: number;
  /** Cap on resident weight bytes in MiB (the device budget of the memory modes); 0 = none. */
  weightBudgetMB?: number;
  /** Compute threads; 0 = one per core. */
  threads?: number;
  /** Model configuration as JSON text (config.json format); detected from the checkpoint when absent. */
  config?: string;
}

export interface NativeGenerateRequest {
  prompt: string;
  negativePrompt: string;
  width: number;
  height: number;
  /** Webui sampler name or alias. */
  sampler: string;
  /** Webui schedule type; "" = the sampler's default (Automatic). */
  scheduler: string;
  steps: number;
  cfgScale: number;
  /** One per image of the batch. */
  seeds: number[];
  clipSkip: number;
  rng: 'gpu' | 'cpu';
  eta?: number;
  emphasis?: string;
  /** U8 [1 or batch, height, width, 3], already fitted. */
  initImages?: { data: Uint8Array; shape: number[] };
  denoisingStrength?: number;
  /** > 0: VAE decode in tiles of this many pixels. */
  vaeTilePixels?: number;
  /** txt2img: start from this noise [batch, 4, h, w] instead of the seeds' first draw. */
  initialNoise?: TensorData;
  /** Path of the CLIP vocabulary (assets/bpe_simple_vocab_16e6.txt.gz). */
  vocab: string;
  /** Send the current prediction (latent) with each step. */
  previews?: boolean;
}

export interface NativeGenerateResult {
  /** batch x height x width x 3 bytes. */
  pixels: Uint8Array;
  batch: number;
  width: number;
  height: number;
  interrupted: boolean;
  /** What ran: sampler and schedule type names as the webui writes them, steps, eta. */
  plan: { sampler: string; scheduler: string; steps: number; eta: number };
}

export type ProgressCallback = (phase: string, done: number, total: number) => void;

export interface ModelInfo {
  /** The model configuration as JSON text. */
  config: string;
  backend: string;
  weightDtype: string;
  memoryMode: string;
  residentBytes: number;
  /** Most weight bytes resident at once since load. */
  peakResidentBytes: number;
  gemmKernel: string;
  /** CUDA device memory (all zero on the CPU): now, the peak since load, with the allocator's cache, the budget. */
  deviceMemory: { inUse: number; peakInUse: number; peakReserved: number; budget: number };
  cpuFeatures: string;
}

/**
 * A loaded model. Async methods run on a worker thread, one at a time (a second
 * call while one runs rejects with "busy"); cancel() makes the running one reject
 * with an AbortError at the next layer boundary.
 */
export interface NativeModel {
  /** [sync] */
  info(): ModelInfo;
  /** [async] ids [B, T] -> [B, T, hidden]. */
  encodeText(ids: Int32Array, shape: number[], options?: { clipSkip?: number }): Promise<TensorData>;
  /** [async] x [B, 4, h, w], timesteps (B values), context [B, T, C] -> eps [B, 4, h, w]. */
  unet(
    x: Float32Array,
    xShape: number[],
    timesteps: number[],
    context: Float32Array,
    contextShape: number[],
    onProgress?: ProgressCallback,
  ): Promise<TensorData>;
  /**
   * [async] z (VAE latent space) [B, 4, h, w] -> image [B, 3, 8h, 8w], unclamped. tilePixels > 0 runs the
   * full-resolution layers in tiles of that size (same result, bounded device memory).
   */
  vaeDecode(z: Float32Array, shape: number[], onProgress?: ProgressCallback, options?: { tilePixels?: number }): Promise<TensorData>;
  /** [async] image [B, 3, H, W] in [-1, 1] -> posterior moments. */
  vaeEncode(image: Float32Array, shape: number[], onProgress?: ProgressCallback): Promise<{ mean: TensorData; logvar: TensorData }>;
  /**
   * [async] One batch of txt2img (or img2img with initImages). Rejects with an AbortError after cancel();
   * after interrupt() it resolves early with `interrupted` and the pictures of the last prediction.
   */
  generate(request: NativeGenerateRequest, onStep?: (phase: string, step: number, steps: number, latent?: TensorData) => void): Promise<NativeGenerateResult>;
  /** [sync] Cancels the operation in flight, if any. */
  cancel(): void;
  /** [sync] generate() only: finish after the current step with what was reached. */
  interrupt(): void;
  /** [sync] Frees the weights; throws while an operation runs. */
  dispose(): void;
}

export interface NativeAddon {
  /** [sync] Whether the CUDA backend can start on this machine, and why not. */
  cudaStatus(): { available: boolean; reason: string };
  /** [async] Loads a checkpoint (.safetensors or .ckpt). Rejects with a message naming the problem. */
  loadModel(path: string, options?: LoadModelOptions, onProgress?: ProgressCallback): Promise<NativeModel>;
  /**
   * [async] Runs every case of a fixture directory (manifest.json format of
   * test/fixtures/README.md). Rejects when the directory or manifest is unreadable.
   */
  runConformance(
    dir: string,
    options?: ConformanceOptions,
    onCase?: (result: ConformanceCase) => void,
  ): Promise<{ passed: number; failed: number }>;
  /**
   * [sync] A prompt as AUTOMATIC1111 feeds it to the text encoder: emphasis
   * syntax parsed, tokens in chunks of 75 with per-token weights (about 1 ms).
   * Throws on an unreadable vocabulary and on a bracketed weight that is not a
   * number, such as "(a:1.2.3)" (the webui fails on it too).
   *
   * @example
   * const t = addon.tokenize('a (cat:1.3) BREAK [dog]', { vocab: clipVocabPath() });
   * // t.chunks.length === 2; t.chunks[0].weights[2] === 1.3
   * const ids = Int32Array.from(t.chunks.flatMap((c) => c.ids)); // for Model.encodeText, shape [chunks, 77]
   */
  tokenize(prompt: string, options: TokenizeOptions): TokenizedPrompt;
  /**
   * [sync] Plain CLIP tokenization (transformers' CLIPTokenizer): `tokens`
   * without BOS/EOS or truncation, and `ids`, CompVis' 77-id framing of them.
   */
  clipTokenize(text: string, options: { vocab: string }): { tokens: number[]; ids: number[] };
  /**
   * [sync] Gaussian noise exactly as the webui draws it. Returns
   * draws * prod(shape) float32 values. Throws TypeError/RangeError on bad options.
   */
  randn(options: RandnOptions): Float32Array;
  /** [sync] The samplers and schedule types the engine provides. */
  samplers(): { samplers: SamplerInfo[]; schedulers: SchedulerInfo[] };
  /**
   * [sync] A sampler name (webui name or alias, case-insensitive, optionally with
   * a schedule suffix such as "DPM++ 2M Karras") and schedule type ("" or
   * "Automatic" = the sampler's default) to their canonical names.
   * Throws an Error listing the valid names when one is unknown.
   */
  resolveSampler(name: string, scheduler?: string): { sampler: string; scheduler: string };
  /**
   * [async] Opens a .safetensors or PyTorch .ckpt checkpoint (chosen by content, not name), validating
   * its structure, and detects its model configuration. Rejects with an Error whose message names the
   * problem for anything unreadable or malformed (truncated, corrupt, a pickle referencing code, ...).
   */
  inspectCheckpoint(path: string, options?: InspectCheckpointOptions): Promise<CheckpointInfo>;
  buildInfo: NativeBuildInfo;
}
