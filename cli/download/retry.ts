import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  /** Failed attempts in a row (without any byte of progress) before giving up. */
  attempts: number;
  /** First backoff; doubled after each failure up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * About 2.5 minutes of retrying a dead connection before giving up: long
 * enough to ride out a Wi-Fi drop or a router restart. Any progress resets the count.
 */
export const defaultRetryPolicy: RetryPolicy = { attempts: 10, baseDelayMs: 1000, maxDelayMs: 30_000 };

/**
 * The wait before retry number `failures` (1-based): exponential, capped,
 * with jitter (50–100 %) so many clients cut off together do not return in step.
 * A server's Retry-After (429/503) wins when longer, up to the cap.
 */
export function backoffDelayMs(policy: RetryPolicy, failures: number, retryAfterMs?: number, random = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failures - 1));
  const jittered = Math.round(exponential * (0.5 + random() / 2));
  return retryAfterMs === undefined ? jittered : Math.min(policy.maxDelayMs, Math.max(jittered, retryAfterMs));
}

/** Retry-After as seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const retryableCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  // DNS fails while Wi-Fi reconnects; the name comes back with the link.
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ERR_STREAM_PREMATURE_CLOSE',
  'TRUNCATED_BODY',
]);

/** A network failure worth another attempt (the cause chain is searched: undici wraps socket errors). */
export function isRetryableNetworkError(error: unknown): boolean {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && retryableCodes.has(e.code)) return true;
  }
  return false;
}

/** A short description of a network error for retry messages, e.g. "no data for 30 s (UND_ERR_BODY_TIMEOUT)". */
export function describeNetworkError(error: unknown): string {
  const codes: string[] = [];
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string') codes.push(e.code);
  }
  const code = codes.find((c) => retryableCodes.has(c)) ?? codes[0];
  const plain: Record<string, string> = {
    ECONNRESET: 'connection reset',
    ECONNREFUSED: 'connection refused',
    ETIMEDOUT: 'connection timed out',
    ENOTFOUND: 'host name not found',
    EAI_AGAIN: 'DNS lookup failed',
    ENETUNREACH: 'network unreachable',
    UND_ERR_CONNECT_TIMEOUT: 'could not connect in time',
    UND_ERR_HEADERS_TIMEOUT: 'the server did not answer in time',
    UND_ERR_BODY_TIMEOUT: 'no data received for too long',
    UND_ERR_SOCKET: 'connection lost',
    UND_ERR_CLOSED: 'connection closed',
    UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'connection closed before the end of the file',
    ERR_STREAM_PREMATURE_CLOSE: 'connection closed before the end of the file',
    TRUNCATED_BODY: 'connection closed before the end of the file',
  };
  const text = (code && plain[code]) ?? (error instanceof Error ? error.message : String(error));
  return code && plain[code] ? `${text} (${code})` : text;
}

/** Waits `ms`, rejecting with the signal's reason if it aborts first. */
export async function waitOrAbort(ms: number, signal: AbortSignal | undefined): Promise<void> {
  await sleep(ms, undefined, signal ? { signal } : {});
}
