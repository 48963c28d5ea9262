import type { NativeModel } from './types.js';

/**
 * Runs one model operation with an AbortSignal: aborting calls model.cancel(),
 * and the operation's promise then rejects with the engine's AbortError.
 */
export async function abortable<T>(model: NativeModel, signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
  if (signal?.aborted) throw signal.reason ?? new DOMException('aborted', 'AbortError');
  const onAbort = () => model.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await run();
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
