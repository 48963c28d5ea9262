import type { Io } from '../io.js';

/**
 * Per-step progress: a redrawn bar with it/s and ETA on a terminal, a plain
 * line every few steps otherwise (logs, CI).
 */
export class StepProgress {
  private readonly started = Date.now();
  private lastLine = 0;
  private stepsDone = 0;

  constructor(
    private readonly io: Io,
    private readonly totalSteps: number,
    private readonly label = 'sampling',
  ) {}

  update(stepsDone: number, detail = ''): void {
    const now = Date.now();
    this.stepsDone = stepsDone;
    const elapsed = (now - this.started) / 1000;
    const rate = elapsed > 0 ? stepsDone / elapsed : 0;
    const eta = rate > 0 ? (this.totalSteps - stepsDone) / rate : 0;
    const speed = rate >= 1 || rate === 0 ? `${rate.toFixed(2)} it/s` : `${(1 / rate).toFixed(2)} s/it`;
    if (this.io.isTTY) {
      const width = 24;
      const filled = Math.round((stepsDone / this.totalSteps) * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      this.io.err(`\r${this.label} ${bar} ${stepsDone}/${this.totalSteps} ${speed} ETA ${formatSeconds(eta)} ${detail}\u001b[K`);
    } else if (stepsDone === this.totalSteps || now - this.lastLine > 2000) {
      this.lastLine = now;
      this.io.err(`${this.label}: ${stepsDone}/${this.totalSteps} steps, ${speed}, ETA ${formatSeconds(eta)} ${detail}\n`);
    }
  }

  finish(): void {
    if (this.io.isTTY && this.stepsDone > 0) this.io.err('\n');
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
