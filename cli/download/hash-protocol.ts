/** What FileHasher and its worker (hash-worker.ts) share. */

/** Indexes into the shared BigInt64Array. */
export const Slot = {
  /** Bytes from the start of the file that are written and may be read. */
  available: 0,
  /** 1 once `available` is the final length. */
  finished: 1,
  /** Bytes the worker has hashed so far (progress). */
  hashed: 2,
  /** Bumped on every change by the writer; the worker sleeps on it. */
  wake: 3,
} as const;

export const slotCount = 4;

export interface HashWorkerData {
  path: string;
  shared: SharedArrayBuffer;
  chunkBytes: number;
}

export type HashWorkerReply =
  | { kind: 'digest'; sha256: string; bytes: number }
  | { kind: 'error'; message: string; code?: string };
