import { writev } from 'node:fs';
import { Writable } from 'node:stream';

/**
 * The sink of a download: writes each chunk at an explicit offset of the part
 * file (so a resumed download lands exactly after the kept bytes) and reports
 * the new length once the bytes are in the file, which is what the hashing
 * thread may read. Memory stays bounded by highWaterMark whatever the file size.
 */
export class PartWriter extends Writable {
  private offset: number;
  private inflight: Promise<void> | undefined;

  constructor(
    private readonly fd: number,
    start: number,
    private readonly onWritten: (length: number) => void,
  ) {
    super({ highWaterMark: 4 << 20 });
    this.offset = start;
  }

  /** Bytes of the file that are written (the resume point if this attempt stops now). */
  get length(): number {
    return this.offset;
  }

  /**
   * Resolves once no write is in flight. After an error the caller waits for
   * this before truncating or resuming, so a late write can never land in
   * the file after the next attempt has started.
   */
  idle(): Promise<void> {
    return this.inflight ?? Promise.resolve();
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.track(chunks.map((c) => c.chunk), callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.track([chunk], callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    void this.idle().then(() => callback(error));
  }

  private track(buffers: Buffer[], callback: (error?: Error | null) => void): void {
    this.inflight = new Promise<void>((resolve) => {
      this.writeAll(buffers, (error) => {
        this.inflight = undefined;
        resolve();
        callback(error);
      });
    });
  }

  // writev may write fewer bytes than asked (e.g. just before the disk fills);
  // the rest is retried at the new offset so the file never has a gap.
  private writeAll(buffers: Buffer[], callback: (error?: Error | null) => void): void {
    writev(this.fd, buffers, this.offset, (error, written) => {
      if (error) return callback(error);
      if (written === 0) return callback(new Error('the disk accepted no bytes (write returned 0)'));
      this.offset += written;
      this.onWritten(this.offset);
      const rest = dropBytes(buffers, written);
      if (rest.length === 0 || this.destroyed) return callback();
      this.writeAll(rest, callback);
    });
  }
}

function dropBytes(buffers: Buffer[], count: number): Buffer[] {
  const rest: Buffer[] = [];
  let skip = count;
  for (const buffer of buffers) {
    if (skip >= buffer.length) {
      skip -= buffer.length;
      continue;
    }
    rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
    skip = 0;
  }
  return rest;
}
