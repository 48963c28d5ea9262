/**
 * An error that becomes one HTTP response: `status`, a `detail` message that
 * says what was wrong and what to send instead, and optional headers
 * (Retry-After, WWW-Authenticate). Anything else thrown by a route is a 500.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly options: { headers?: Record<string, string>; field?: string; kind?: string } = {},
  ) {
    super(detail);
    this.name = 'HttpError';
  }
}

/** 422 naming the request field (in the webui's snake_case spelling). */
export function invalidField(field: string, message: string): HttpError {
  return new HttpError(422, `${field}: ${message}`, { field, kind: 'ValidationError' });
}
