/**
 * How many output pixels one batch may have (width x height x batch_size),
 * from a simple estimate of what SD 1.x needs beyond its weights.
 *
 * The peak is the VAE decoder's last stages, which run at full resolution
 * with 128-256 channels: a few float32 tensors of that size alive at once is
 * about 4 KiB per output pixel. The UNet and text encoder work at 1/8 of the
 * resolution (attention is chunked) and fit in a fixed allowance. Both
 * numbers are deliberately on the safe side; the engine's own errors still
 * apply beyond them. Batch count (n_iter) does not add up: batches run one
 * after another.
 */
export const BYTES_PER_OUTPUT_PIXEL = 4096;
export const FIXED_WORKSPACE_BYTES = 512 * 1024 * 1024;
/** Never refuse one 512x512 picture: every memory mode is meant to make it. */
export const MIN_PIXELS_PER_BATCH = 512 * 512;

export interface MemoryFacts {
  /** Memory generation runs in: RAM on the CPU, the GPU's memory (or --vram-budget) with CUDA. */
  totalBytes: number;
  /** Model weights resident in that memory (default: what the loaded model reports). */
  weightBytes?: number;
  /** Where totalBytes came from, for messages ("RAM", "--vram-budget", "GPU memory"). */
  source: string;
}

export function maxPixelsPerBatch(facts: MemoryFacts, ceiling: number): number {
  const free = facts.totalBytes - (facts.weightBytes ?? 0) - FIXED_WORKSPACE_BYTES;
  const pixels = Math.floor(Math.max(0, free) / BYTES_PER_OUTPUT_PIXEL);
  return Math.min(ceiling, Math.max(MIN_PIXELS_PER_BATCH, pixels));
}

/** "1024x1024" for a pixel count (the square it allows), for messages. */
export function squareSide(pixels: number): string {
  const side = Math.floor(Math.sqrt(pixels) / 8) * 8;
  return `${side}x${side}`;
}
