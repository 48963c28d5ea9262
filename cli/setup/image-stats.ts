export interface ImageStats {
  /** Standard deviation of all channel values (0-255). */
  stdDev: number;
  /** How many different byte values occur. */
  distinctValues: number;
}

export function imageStats(pixels: Uint8Array): ImageStats {
  let sum = 0;
  let sumSq = 0;
  const seen = new Set<number>();
  for (const v of pixels) {
    sum += v;
    sumSq += v * v;
    seen.add(v);
  }
  const n = Math.max(1, pixels.length);
  const mean = sum / n;
  return { stdDev: Math.sqrt(Math.max(0, sumSq / n - mean * mean)), distinctValues: seen.size };
}

/** A real picture: not one flat colour (what NaN or a dead decoder gives), many tones. */
export function looksLikeAPicture(stats: ImageStats): boolean {
  return stats.stdDev >= 2 && stats.distinctValues >= 16;
}
