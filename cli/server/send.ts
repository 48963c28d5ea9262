import type { ServerResponse } from 'node:http';
import { HttpError } from './http-error.js';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/**
 * The webui's error body (its api_middleware): {error, detail, body, errors},
 * `detail` being the message; 422s also carry `field`.
 */
export function sendError(res: ServerResponse, error: HttpError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body: Record<string, unknown> = {
    error: error.options.kind ?? 'HTTPException',
    detail: error.detail,
    body: '',
    errors: error.detail,
  };
  if (error.options.field) body.field = error.options.field;
  sendJson(res, error.status, body, error.options.headers);
}
