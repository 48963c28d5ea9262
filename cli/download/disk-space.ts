import { statfs } from 'node:fs/promises';
import { DownloadError } from './download-error.js';
import { formatBytes } from './format.js';

/** Bytes an unprivileged user can still write in the file system holding `dir`; undefined where statfs is unavailable. */
export async function freeBytes(dir: string): Promise<number | undefined> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/**
 * Fails before a download starts when `needed` more bytes cannot fit, rather
 * than after an hour of downloading. A small margin is kept for the
 * sidecar files and whatever else writes to the disk meanwhile.
 */
export async function ensureFreeSpace(dir: string, needed: number, what: string): Promise<void> {
  const margin = 16 * 1000 * 1000;
  const free = await freeBytes(dir);
  if (free === undefined || needed <= 0 || free >= needed + margin) return;
  throw new DownloadError('disk-full', `not enough free disk space for ${what}: it needs ${formatBytes(needed)} more, and ${dir} has ${formatBytes(free)} free`, {
    hint: 'free up some space, or choose a folder on another disk with --dir (or SD_SETUP_HOME)',
  });
}
