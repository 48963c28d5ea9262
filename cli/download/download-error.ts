import { ExitCode, UserError } from '../errors.js';

/**
 * What went wrong, for programs that call downloadModel (the guided install
 * branches on it); the message and hint are for people.
 */
export type DownloadErrorCode =
  | 'gated' // 401/403: license not accepted or no/invalid token
  | 'not-found' // 404/410
  | 'http' // another HTTP status we cannot recover from
  | 'network' // retries exhausted
  | 'size-mismatch' // the server's file is not the size we expect
  | 'checksum-mismatch' // the bytes are not the file we expect
  | 'disk-full'
  | 'locked' // another process is writing the same file
  | 'aborted' // cancelled through the AbortSignal / Ctrl-C
  | 'bad-input'; // a file or option the user gave is unusable

export class DownloadError extends UserError {
  readonly code: DownloadErrorCode;

  constructor(code: DownloadErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { ...options, exitCode: code === 'aborted' ? ExitCode.interrupted : ExitCode.failure });
    this.name = 'DownloadError';
    this.code = code;
  }
}

/** An HTTP answer that ends the download; download-model.ts turns it into a DownloadError with the model's context. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
    /** Hugging Face's X-Error-Code / X-Error-Message headers, when present. */
    readonly serverCode: string | undefined,
    readonly serverMessage: string | undefined,
  ) {
    super(`HTTP ${status} from ${url}${serverMessage ? `: ${serverMessage}` : ''}`);
    this.name = 'HttpStatusError';
  }
}

/** True for the errors a disk gives when it (or the user's quota) is full. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
