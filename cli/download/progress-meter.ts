/** What a download reports while it works. */
export interface DownloadProgress {
  /**
   * checking: hashing a file that is already there; downloading; verifying:
   * finishing the SHA-256 after the last byte; importing: copying a --from file.
   */
  phase: 'checking' | 'downloading' | 'verifying' | 'importing';
  bytes: number;
  /** Undefined when neither the catalogue nor the server says. */
  total: number | undefined;
  /** Over the last few seconds; undefined until there is enough to measure. */
  bytesPerSecond: number | undefined;
  etaSeconds: number | undefined;
}

/**
 * Turns raw byte counts into throttled progress reports with a speed over a
 * sliding window (so the ETA follows the connection as it is now, not its
 * average since the start) — at most one report per `intervalMs`.
 */
export class ProgressMeter {
  private samples: Array<{ at: number; bytes: number }> = [];
  private lastEmit = 0;
  private phase: DownloadProgress['phase'] | undefined;

  constructor(
    private readonly emit: ((progress: DownloadProgress) => void) | undefined,
    private readonly options: { intervalMs?: number; windowMs?: number; now?: () => number } = {},
  ) {}

  update(phase: DownloadProgress['phase'], bytes: number, total: number | undefined, force = false): void {
    if (!this.emit) return;
    const now = (this.options.now ?? Date.now)();
    if (phase !== this.phase) {
      this.phase = phase;
      this.samples = [];
      force = true;
    }
    this.samples.push({ at: now, bytes });
    const windowMs = this.options.windowMs ?? 5000;
    while (this.samples.length > 2 && now - this.samples[1]!.at > windowMs) this.samples.shift();
    if (!force && now - this.lastEmit < (this.options.intervalMs ?? 100)) return;
    this.lastEmit = now;
    const first = this.samples[0]!;
    const seconds = (now - first.at) / 1000;
    const bytesPerSecond = seconds >= 0.5 && bytes >= first.bytes ? (bytes - first.bytes) / seconds : undefined;
    const etaSeconds = bytesPerSecond && total !== undefined ? Math.max(0, total - bytes) / bytesPerSecond : undefined;
    this.emit({ phase, bytes, total, bytesPerSecond, etaSeconds });
  }
}
