import { Worker } from 'node:worker_threads';
import { Slot, slotCount, type HashWorkerData, type HashWorkerReply } from './hash-protocol.js';

export interface FileDigest {
  sha256: string;
  bytes: number;
}

/**
 * SHA-256 of a file, computed on a worker thread that trails the writer.
 * The downloader calls advance(n) after each write lands; the worker reads
 * those bytes back and hashes them while the next ones arrive. On resume the
 * worker starts at byte 0, so re-hashing the kept part overlaps the download
 * instead of delaying it. Hashing what is on disk (not what passed through
 * memory) also means the digest is of the bytes we will actually keep.
 */
export class FileHasher {
  private readonly shared = new BigInt64Array(new SharedArrayBuffer(slotCount * 8));
  private readonly worker: Worker;
  private readonly result: Promise<FileDigest>;
  private settled = false;

  constructor(path: string, options: { chunkBytes?: number } = {}) {
    const data: HashWorkerData = { path, shared: this.shared.buffer as SharedArrayBuffer, chunkBytes: options.chunkBytes ?? 4 << 20 };
    this.worker = new Worker(new URL('./hash-worker.js', import.meta.url), { workerData: data });
    this.result = new Promise<FileDigest>((resolve, reject) => {
      this.worker.once('message', (reply: HashWorkerReply) => {
        this.settled = true;
        if (reply.kind === 'digest') resolve({ sha256: reply.sha256, bytes: reply.bytes });
        else reject(Object.assign(new Error(reply.message), reply.code === undefined ? {} : { code: reply.code }));
      });
      this.worker.once('error', (error) => {
        this.settled = true;
        reject(error);
      });
      this.worker.once('exit', (code) => {
        if (!this.settled) reject(new Error(`the hashing thread stopped (exit code ${code})`));
      });
    });
    // Callers that abandon a hasher (cancel) must not get an unhandled rejection.
    this.result.catch(() => undefined);
  }

  /** The first `bytes` bytes of the file are written and will not change. */
  advance(bytes: number): void {
    Atomics.store(this.shared, Slot.available, BigInt(bytes));
    Atomics.add(this.shared, Slot.wake, 1n);
    Atomics.notify(this.shared, Slot.wake);
  }

  /** Bytes hashed so far. */
  get hashed(): number {
    return Number(Atomics.load(this.shared, Slot.hashed));
  }

  /** The file is complete at `bytes`; resolves with the digest once the worker has read it all. */
  finish(bytes: number): Promise<FileDigest> {
    Atomics.store(this.shared, Slot.finished, 1n);
    this.advance(bytes);
    return this.result;
  }

  /** Stops the worker; the digest is abandoned. */
  async cancel(): Promise<void> {
    this.settled = true;
    await this.worker.terminate();
  }
}
