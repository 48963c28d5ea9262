import { stat } from 'node:fs/promises';
import { FileHasher, type FileDigest } from './file-hasher.js';

/**
 * SHA-256 of a complete file on the hashing thread, reporting progress every
 * `intervalMs` and stopping promptly when `signal` aborts.
 */
export async function hashFile(
  path: string,
  hooks: { signal?: AbortSignal | undefined; onProgress?: ((hashed: number, total: number) => void) | undefined; intervalMs?: number } = {},
): Promise<FileDigest> {
  hooks.signal?.throwIfAborted();
  const { size } = await stat(path);
  const hasher = new FileHasher(path);
  const timer = setInterval(() => hooks.onProgress?.(hasher.hashed, size), hooks.intervalMs ?? 200);
  const onAbort = () => void hasher.cancel();
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const digest = await hasher.finish(size);
    hooks.onProgress?.(digest.bytes, size);
    return digest;
  } catch (error) {
    hooks.signal?.throwIfAborted();
    throw error;
  } finally {
    clearInterval(timer);
    hooks.signal?.removeEventListener('abort', onAbort);
  }
}
