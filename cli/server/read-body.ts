import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';

/**
 * Reads a request body as JSON, refusing more than `maxBytes` (413, before
 * reading it when Content-Length already says so), a content type other than
 * JSON (415) and text that is not JSON (400). An empty body is `undefined`.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new HttpError(415, `send the request body as JSON with "Content-Type: application/json" (got ${type ? `"${type}"` : 'no content type'})`);
  }
  const text = Buffer.concat(chunks, size).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, `the request body is not valid JSON: ${(error as Error).message}`, { kind: 'JSONDecodeError' });
  }
}

function tooLarge(maxBytes: number): HttpError {
  const size = maxBytes >= 1048576 ? `${Math.round(maxBytes / 1048576)} MiB` : `${Math.round(maxBytes / 1024)} KiB`;
  return new HttpError(413, `the request body is larger than this server accepts (${size}); send smaller init images`, {
    headers: { connection: 'close' },
  });
}
