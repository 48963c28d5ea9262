import { open, stat, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import { parseContentRange, parseUnsatisfiedRange } from './content-range.js';
import { DownloadError, HttpStatusError, isDiskFull } from './download-error.js';
import { ensureFreeSpace } from './disk-space.js';
import { FileHasher, type FileDigest } from './file-hasher.js';
import { formatBytes } from './format.js';
import { httpGet, type HttpResponse } from './http-get.js';
import { ifRangeValue, readPartState, removeQuietly, writePartState, type PartState } from './part-state.js';
import { PartWriter } from './part-writer.js';
import { backoffDelayMs, describeNetworkError, isRetryableNetworkError, parseRetryAfter, waitOrAbort, type RetryPolicy } from './retry.js';

export interface FetchEvent {
  kind: 'resume' | 'restart' | 'retry';
  message: string;
}

export interface ResumableFetchOptions {
  url: string;
  /** NAME.part: where the bytes accumulate. */
  partPath: string;
  /** NAME.part.json: what the part is (see part-state.ts). */
  statePath: string;
  /** The expected SHA-256: a part recorded for another digest is not resumed. */
  sha256: string;
  /** The expected size when known (catalogue models); the server must agree. */
  size?: number | undefined;
  /** The folder written to, for the free-space check. */
  dir: string;
  /** Names the file in messages, e.g. "sd-v1-5 (v1-5-pruned-emaonly.safetensors)". */
  what: string;
  auth?: { origin: string; header: string } | undefined;
  dispatcher: Dispatcher;
  retry: RetryPolicy;
  userAgent: string;
  signal?: AbortSignal | undefined;
  /** Bytes in the part file after each write, and the full size when known. */
  onProgress?: ((bytes: number, total: number | undefined) => void) | undefined;
  onEvent?: ((event: FetchEvent) => void) | undefined;
}

export interface FetchedPart extends FileDigest {
  /** Bytes already in the part when this run started (0 for a fresh download). */
  resumedFrom: number;
}

/**
 * Brings NAME.part to the complete file and returns its SHA-256 (of the bytes
 * on disk). Resumes a kept part with Range + If-Range; starts over when the
 * server ignores ranges or the file changed; retries network failures and
 * 408/429/5xx with backoff. Throws HttpStatusError for other statuses,
 * DownloadError for size mismatches, a full disk or exhausted retries; an
 * abort rethrows the signal's error. The part and its state file are always
 * left resumable; deciding what to delete is the caller's job.
 */
export async function fetchToPart(o: ResumableFetchOptions): Promise<FetchedPart> {
  let state = await readPartState(o.statePath);
  let length = await fileLength(o.partPath);
  if (length > 0 && state?.sha256 !== o.sha256) {
    o.onEvent?.({ kind: 'restart', message: `${o.partPath} is not a partial download of this file; starting over` });
    length = 0;
    state = undefined;
  } else if (length > 0 && o.size !== undefined && length > o.size) {
    o.onEvent?.({ kind: 'restart', message: `${o.partPath} is larger than the file should be; starting over` });
    length = 0;
  }
  // Another URL (a mirror) serves the same bytes, but its validators mean nothing here.
  if (state && state.url !== o.url) state = { sha256: o.sha256, url: o.url };
  const resumedFrom = length;
  if (length > 0) {
    const of = o.size === undefined ? '' : ` of ${formatBytes(o.size)}`;
    o.onEvent?.({ kind: 'resume', message: `resuming at ${formatBytes(length)}${of} (the kept part is re-checked while the rest downloads)` });
  }

  const file = await open(o.partPath, length > 0 ? 'r+' : 'w');
  const session = new FetchSession(o, file, length, state);
  let complete = false;
  try {
    const bytes = o.size !== undefined && length === o.size ? length : await session.downloadRest();
    await file.datasync().catch(ignoreUnsupportedSync);
    const digest = await session.hasher.finish(bytes);
    complete = true;
    return { ...digest, resumedFrom };
  } catch (error) {
    await session.hasher.cancel();
    // Delayed allocation can report a full disk only at sync time.
    throw isDiskFull(error) ? session.diskFull(error) : error;
  } finally {
    await file.close();
    // An empty part is not worth keeping (e.g. the server said 404 before any byte).
    if (!complete && (await fileLength(o.partPath)) === 0) await removeQuietly(o.partPath, o.statePath);
  }
}

class FetchSession {
  hasher: FileHasher;
  private length: number;
  private state: PartState | undefined;
  /** Cleared when the server mishandled a range request: the next attempt asks for the whole file. */
  private useRange = true;
  /** The full size: expected, or as the server announced it. */
  private total: number | undefined;
  private failures = 0;

  constructor(
    private readonly o: ResumableFetchOptions,
    private readonly file: FileHandle,
    length: number,
    state: PartState | undefined,
  ) {
    this.length = length;
    this.state = state;
    this.total = o.size;
    this.hasher = new FileHasher(o.partPath);
    this.hasher.advance(length);
  }

  /** Loops over attempts until the part is complete; returns its length. */
  async downloadRest(): Promise<number> {
    const o = this.o;
    for (;;) {
      o.signal?.throwIfAborted();
      const before = this.length;
      let retryAfterMs: number | undefined;
      let failure: unknown;
      try {
        const response = await httpGet(new URL(o.url), {
          headers: this.requestHeaders(),
          auth: o.auth,
          dispatcher: o.dispatcher,
          signal: o.signal,
        });
        const outcome = await this.handle(response);
        if (outcome.kind === 'done') return this.length;
        if (outcome.kind === 'again') continue;
        retryAfterMs = outcome.retryAfterMs;
        failure = outcome.reason;
      } catch (error) {
        if (o.signal?.aborted) throw o.signal.reason ?? error;
        if (isDiskFull(error)) throw this.diskFull(error);
        if (!isRetryableNetworkError(error)) throw error;
        failure = error;
      }
      // Progress proves the connection works: only failures in a row count.
      this.failures = this.length > before ? 1 : this.failures + 1;
      const reason = typeof failure === 'string' ? failure : describeNetworkError(failure);
      if (this.failures >= o.retry.attempts) {
        throw new DownloadError('network', `download of ${o.what} failed ${this.failures} times in a row: ${reason}`, {
          hint: `check the connection and run the same command again: it resumes from ${formatBytes(this.length)} (kept in ${o.partPath})`,
          cause: failure,
        });
      }
      const delay = backoffDelayMs(o.retry, this.failures, retryAfterMs);
      o.onEvent?.({
        kind: 'retry',
        message: `${reason}; retrying in ${(delay / 1000).toFixed(1)} s (attempt ${this.failures + 1} of ${o.retry.attempts})`,
      });
      try {
        await waitOrAbort(delay, o.signal);
      } catch (error) {
        throw o.signal?.reason ?? error;
      }
    }
  }

  private requestHeaders(): Record<string, string> {
    // identity: a compressed transfer has no byte ranges that match the file.
    const headers: Record<string, string> = { 'user-agent': this.o.userAgent, 'accept-encoding': 'identity' };
    if (this.length > 0 && this.useRange) {
      headers.range = `bytes=${this.length}-`;
      const validator = this.state && ifRangeValue(this.state);
      if (validator) headers['if-range'] = validator;
    }
    return headers;
  }

  private async handle(
    response: HttpResponse,
  ): Promise<{ kind: 'done' } | { kind: 'again' } | { kind: 'retry'; reason: string; retryAfterMs: number | undefined }> {
    const { status, headers, body } = response;
    let total: number | undefined;
    if (status === 200) {
      if (this.length > 0) {
        if (this.useRange) {
          this.o.onEvent?.({
            kind: 'restart',
            message: 'the server sent the whole file instead of the rest (it cannot resume, or the file changed); starting over',
          });
        }
        await this.truncate();
      }
      total = optionalInteger(headers['content-length']);
    } else if (status === 206) {
      const range = parseContentRange(headers['content-range']);
      if (!range || range.start !== this.length) {
        await body.dump();
        this.o.onEvent?.({ kind: 'restart', message: 'the server answered the resume request with the wrong bytes; asking for the whole file' });
        this.useRange = false;
        return { kind: 'again' };
      }
      total = range.total;
    } else if (status === 416) {
      await body.dump();
      const serverTotal = parseUnsatisfiedRange(headers['content-range']);
      const complete = this.o.size ?? serverTotal;
      if (complete !== undefined && complete === this.length) return { kind: 'done' };
      this.o.onEvent?.({ kind: 'restart', message: 'the server cannot resume from the kept part; asking for the whole file' });
      this.useRange = false;
      return { kind: 'again' };
    } else if (status === 408 || status === 429 || status >= 500) {
      await body.dump();
      return { kind: 'retry', reason: `the server answered HTTP ${status}`, retryAfterMs: parseRetryAfter(headers['retry-after']) };
    } else {
      await body.dump();
      throw new HttpStatusError(status, response.url.href, headers['x-error-code'], oneLine(headers['x-error-message']));
    }

    if (total !== undefined && this.o.size !== undefined && total !== this.o.size) {
      await body.dump();
      throw new DownloadError(
        'size-mismatch',
        `${response.url.host} serves a file of ${total} bytes, but ${this.o.what} is ${this.o.size} bytes: it is not the expected file`,
        { hint: 'the URL may point to another file or revision; check it, or use the catalogue URL' },
      );
    }
    const expected = this.o.size ?? total;
    this.total = expected;
    if (expected !== undefined) await ensureFreeSpace(this.o.dir, expected - this.length, this.o.what);
    await this.rememberValidators(headers);
    await this.receive(body);
    if (expected !== undefined && this.length < expected) {
      throw Object.assign(new Error(`the body ended at ${this.length} of ${expected} bytes`), { code: 'TRUNCATED_BODY' });
    }
    if (expected !== undefined && this.length > expected) {
      throw new DownloadError('size-mismatch', `the server sent more than the ${expected} bytes of ${this.o.what}`, {
        hint: 'the server or a proxy is sending something else; try again later or use another URL',
      });
    }
    return { kind: 'done' };
  }

  private async receive(body: HttpResponse['body']): Promise<void> {
    let told = this.length;
    const writer = new PartWriter(this.file.fd, this.length, (length) => {
      // Waking the hashing thread every few MB (not per write) keeps it reading in large steps.
      if (length - told >= 4 << 20) {
        this.hasher.advance(length);
        told = length;
      }
      this.o.onProgress?.(length, this.total);
    });
    try {
      await pipeline(body, writer);
    } finally {
      await writer.idle();
      this.length = writer.length;
      this.hasher.advance(this.length);
    }
  }

  /** Saves what the next run sends as If-Range, before any byte of the body is written. */
  private async rememberValidators(headers: Record<string, string | undefined>): Promise<void> {
    const next: PartState = {
      sha256: this.o.sha256,
      url: this.o.url,
      ...(headers.etag ? { etag: headers.etag } : {}),
      ...(headers['last-modified'] ? { lastModified: headers['last-modified'] } : {}),
    };
    if (this.state && JSON.stringify(this.state) === JSON.stringify(next)) return;
    await writePartState(this.o.statePath, next);
    this.state = next;
  }

  private async truncate(): Promise<void> {
    await this.hasher.cancel();
    await this.file.truncate(0);
    this.length = 0;
    this.hasher = new FileHasher(this.o.partPath);
  }

  diskFull(error: unknown): DownloadError {
    return new DownloadError('disk-full', `the disk filled up while downloading ${this.o.what} (${formatBytes(this.length)} saved in ${this.o.partPath})`, {
      hint: 'free up space and run the same command again: the download resumes where it stopped',
      cause: error,
    });
  }
}

async function fileLength(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function optionalInteger(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value.trim()) : undefined;
}

function oneLine(value: string | undefined): string | undefined {
  return value?.replace(/\s+/g, ' ').trim().slice(0, 300) || undefined;
}

// fdatasync on a pipe or character device fails with EINVAL; there is nothing to flush there.
function ignoreUnsupportedSync(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EINVAL' && error.code !== 'ENOTSUP') throw error;
}
