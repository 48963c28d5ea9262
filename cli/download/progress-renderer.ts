import type { Io } from '../io.js';
import type { DownloadEvent } from './download-model.js';
import { formatBytes, formatDuration, formatSpeed } from './format.js';
import type { DownloadProgress } from './progress-meter.js';

const phaseWords: Record<DownloadProgress['phase'], string> = {
  checking: 'checking',
  downloading: 'downloading',
  verifying: 'verifying',
  importing: 'copying',
};

/**
 * Shows a download on stderr: on a terminal one line redrawn in place (bar,
 * bytes, %, speed, ETA); otherwise (logs, CI) a plain line every
 * `intervalMs`, so a log shows steady progress without a flood of lines.
 */
export class ProgressRenderer {
  private drawn = false;
  private lastLineAt = 0;
  private lastPhase: DownloadProgress['phase'] | undefined;

  constructor(
    private readonly io: Io,
    private readonly label: string,
    /** columns: the terminal's width, so the redrawn line never wraps (a wrapped line cannot be redrawn in place). */
    private readonly options: { intervalMs?: number; width?: number; columns?: number | undefined; now?: () => number } = {},
  ) {}

  progress = (p: DownloadProgress): void => {
    if (this.io.isTTY) {
      const columns = this.options.columns ?? 80;
      this.io.err(`\r${this.line(p, true).slice(0, Math.max(20, columns - 1))}\x1b[K`);
      this.drawn = true;
      return;
    }
    const now = (this.options.now ?? Date.now)();
    if (p.phase === this.lastPhase && now - this.lastLineAt < (this.options.intervalMs ?? 10_000)) return;
    this.lastPhase = p.phase;
    this.lastLineAt = now;
    this.io.err(`${this.line(p, false)}\n`);
  };

  event = (e: DownloadEvent): void => {
    this.clear();
    this.io.err(`${e.kind === 'warning' ? 'warning: ' : ''}${e.message}\n`);
  };

  /** Ends the redrawn line so the next output starts on a fresh one. */
  finish(): void {
    if (this.drawn) this.io.err('\n');
    this.drawn = false;
  }

  private clear(): void {
    if (this.drawn) this.io.err('\r\x1b[K');
    this.drawn = false;
  }

  private line(p: DownloadProgress, tty: boolean): string {
    const word = phaseWords[p.phase];
    const percent = p.total ? Math.min(100, (p.bytes / p.total) * 100) : undefined;
    const amount = p.total !== undefined ? `${formatBytes(p.bytes)} / ${formatBytes(p.total)}` : formatBytes(p.bytes);
    const speed = p.bytesPerSecond !== undefined ? formatSpeed(p.bytesPerSecond) : '';
    const eta = p.etaSeconds !== undefined ? formatDuration(p.etaSeconds) : '';
    if (p.phase === 'verifying') return `${word} ${this.label}: checking the SHA-256`;
    if (!tty) {
      const pct = percent !== undefined ? `${percent.toFixed(0)}% (${amount})` : amount;
      return `${word} ${this.label}: ${pct}${speed ? ` at ${speed}` : ''}${eta ? `, about ${eta} left` : ''}`;
    }
    const width = this.options.width ?? 20;
    const filled = percent !== undefined ? Math.round((percent / 100) * width) : 0;
    const bar = percent !== undefined ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent.toFixed(1).padStart(5)}%` : '';
    const name = p.phase === 'downloading' ? this.label : `${word} ${this.label}`;
    return [`${name} ${bar}`, amount, speed, eta ? `ETA ${eta}` : ''].filter(Boolean).join('  ');
  }
}
