import type { Io } from '../io.js';

/**
 * One status line on stderr: on a terminal redrawn in place (cut to the width, so
 * it never wraps and breaks the redraw); elsewhere (logs, CI) a new line only when
 * the text's `key` changes (e.g. every 10%), so a log shows progress without a flood.
 */
export class ProgressLine {
  private drawn = false;
  private lastKey: string | undefined;

  constructor(
    private readonly io: Io,
    private readonly columns: () => number | undefined = () => process.stderr.columns,
  ) {}

  update(text: string, key: string): void {
    if (this.io.isTTY) {
      const width = Math.max(20, (this.columns() ?? 80) - 1);
      this.io.err(`\r${text.length > width ? `${text.slice(0, width - 1)}…` : text}\x1b[K`);
      this.drawn = true;
      return;
    }
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.io.err(`${text}\n`);
  }

  /** Clears the redrawn line, so the next output starts on a fresh one. */
  done(): void {
    if (this.drawn) this.io.err('\r\x1b[K');
    this.drawn = false;
  }
}

export function bar(percent: number, width = 20): string {
  const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}
