import { statfs } from 'node:fs/promises';
import path from 'node:path';
import type { DiskFacts } from './report.js';

export interface DiskProbeInput {
  modelsDir: string;
  requiredBytes: number;
  /** Default: fs.statfs; returns free bytes for an existing folder, throws for a missing one. */
  freeBytesAt?: (dir: string) => Promise<number>;
}

async function statfsFree(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/** Free space where models go; a folder that does not exist yet is measured at its nearest existing parent. */
export async function probeDisk(input: DiskProbeInput): Promise<DiskFacts> {
  const freeAt = input.freeBytesAt ?? statfsFree;
  let dir = path.resolve(input.modelsDir);
  for (;;) {
    try {
      const freeBytes = await freeAt(dir);
      return { modelsDir: input.modelsDir, measuredPath: dir, freeBytes, requiredBytes: input.requiredBytes };
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) return { modelsDir: input.modelsDir, measuredPath: null, freeBytes: null, requiredBytes: input.requiredBytes };
      dir = parent;
    }
  }
}
