import { createReadStream } from 'node:fs';
import { link, open, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { DownloadError } from './download-error.js';
import { ensureFreeSpace } from './disk-space.js';
import { FileHasher, type FileDigest } from './file-hasher.js';
import { formatBytes } from './format.js';
import { hashFile } from './hash-file.js';
import { removeQuietly } from './part-state.js';
import { PartWriter } from './part-writer.js';

export interface ImportOptions {
  /** The user's file. It is only ever read. */
  source: string;
  /** Where the copy or link is made before it is verified and renamed into place. */
  partPath: string;
  /** Expected size, when known: a file of another size is refused before any hashing. */
  size?: number | undefined;
  dir: string;
  what: string;
  signal?: AbortSignal | undefined;
  onProgress?: ((phase: 'checking' | 'importing', bytes: number, total: number) => void) | undefined;
  onEvent?: ((message: string) => void) | undefined;
}

export interface Imported extends FileDigest {
  method: 'link' | 'copy';
}

/**
 * Brings a file the user already has to `partPath`: a hard link when the
 * file is on the same disk (instant, no extra space), else a copy hashed as
 * it is written. The digest is returned for the caller to judge; the user's
 * file is never changed or removed.
 */
export async function importFile(o: ImportOptions): Promise<Imported> {
  let info;
  try {
    info = await stat(o.source);
  } catch (error) {
    throw new DownloadError('bad-input', `cannot read ${o.source}: ${(error as Error).message}`, {
      hint: 'give the path of a checkpoint file you already have to --from',
    });
  }
  if (!info.isFile()) throw new DownloadError('bad-input', `${o.source} is not a file`, { hint: 'give the path of the checkpoint file itself to --from' });
  if (o.size !== undefined && info.size !== o.size) {
    throw new DownloadError('checksum-mismatch', `${o.source} is ${info.size} bytes, but ${o.what} is ${o.size} bytes: it is not that file`, {
      hint: 'check you picked the right file (it may be another version, or an incomplete download); nothing was changed',
    });
  }
  await removeQuietly(o.partPath);
  if (await tryLink(o.source, o.partPath)) {
    o.onEvent?.(`linked ${o.source} (same disk: no copy needed); verifying it`);
    try {
      const digest = await hashFile(o.partPath, { signal: o.signal, onProgress: (bytes, total) => o.onProgress?.('checking', bytes, total) });
      return { ...digest, method: 'link' };
    } catch (error) {
      await removeQuietly(o.partPath);
      throw error;
    }
  }
  await ensureFreeSpace(o.dir, info.size, o.what);
  o.onEvent?.(`copying ${o.source} (${formatBytes(info.size)}) and verifying it`);
  const file = await open(o.partPath, 'w');
  const hasher = new FileHasher(o.partPath);
  try {
    const writer = new PartWriter(file.fd, 0, (length) => {
      hasher.advance(length);
      o.onProgress?.('importing', length, info.size);
    });
    await pipeline(createReadStream(o.source, { highWaterMark: 1 << 20 }), writer, o.signal ? { signal: o.signal } : {});
    await writer.idle();
    await file.datasync();
    return { ...(await hasher.finish(writer.length)), method: 'copy' };
  } catch (error) {
    await hasher.cancel();
    await removeQuietly(o.partPath);
    throw error;
  } finally {
    await file.close();
  }
}

/** A hard link, or false where one cannot be made (EXDEV: another disk; EPERM/ENOTSUP: no hard links there). */
async function tryLink(source: string, target: string): Promise<boolean> {
  try {
    await link(source, target);
    return true;
  } catch {
    return false;
  }
}
