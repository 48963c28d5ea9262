import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';

/**
 * What is known about a part file, kept beside it as NAME.part.json so a
 * later run can resume: which file it is (by expected SHA-256) and the
 * validators the server gave, sent back as If-Range so a changed file
 * restarts from zero instead of being spliced.
 */
export interface PartState {
  sha256: string;
  url: string;
  etag?: string;
  lastModified?: string;
}

export async function readPartState(path: string): Promise<PartState | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<PartState>;
    if (typeof parsed.sha256 === 'string' && typeof parsed.url === 'string') {
      return {
        sha256: parsed.sha256,
        url: parsed.url,
        ...(typeof parsed.etag === 'string' ? { etag: parsed.etag } : {}),
        ...(typeof parsed.lastModified === 'string' ? { lastModified: parsed.lastModified } : {}),
      };
    }
  } catch {
    // Missing or damaged: the part cannot be trusted to be the same file.
  }
  return undefined;
}

export async function writePartState(path: string, state: PartState): Promise<void> {
  await writeJsonAtomically(path, state);
}

export async function removeQuietly(...paths: string[]): Promise<void> {
  await Promise.all(paths.map((p) => unlink(p).catch(() => undefined)));
}

/** Writes beside, then renames over: a reader sees the old or the new JSON, never half of one. */
export async function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  const draft = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(draft, `${JSON.stringify(value, null, 2)}\n`);
  await rename(draft, path);
}

/** The If-Range value: a strong ETag, else Last-Modified (weak ETags are not allowed there). */
export function ifRangeValue(state: PartState): string | undefined {
  if (state.etag && !state.etag.startsWith('W/')) return state.etag;
  return state.lastModified;
}
