import { request, type Dispatcher } from 'undici';
import { DownloadError } from './download-error.js';

export interface HttpGetOptions {
  headers: Record<string, string>;
  /** The Authorization value and the one origin (scheme://host:port) it may be sent to. */
  auth?: { origin: string; header: string } | undefined;
  dispatcher: Dispatcher;
  signal?: AbortSignal | undefined;
  maxRedirects?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** The URL that answered (after redirects). */
  url: URL;
}

/**
 * GET that follows redirects itself, so the Authorization header is decided
 * per hop: Hugging Face answers a resolve URL with a redirect to its CDN, and
 * the token must reach huggingface.co only, never the CDN or any other host.
 */
export async function httpGet(startUrl: URL, options: HttpGetOptions): Promise<HttpResponse> {
  const maxRedirects = options.maxRedirects ?? 10;
  let url = startUrl;
  for (let hop = 0; ; hop++) {
    const headers = { ...options.headers };
    if (options.auth && url.origin === options.auth.origin) headers.authorization = options.auth.header;
    const response = await request(url, {
      method: 'GET',
      headers,
      dispatcher: options.dispatcher,
      signal: options.signal,
      highWaterMark: 1 << 20,
    });
    const location = headerValue(response.headers.location);
    if ([301, 302, 303, 307, 308].includes(response.statusCode) && location) {
      await response.body.dump();
      if (hop >= maxRedirects) {
        throw new DownloadError('http', `too many redirects (more than ${maxRedirects}) starting at ${startUrl.href}`, { hint: 'the server is misconfigured; try again later or use another URL' });
      }
      const next = new URL(location, url);
      if (next.protocol !== 'https:' && next.protocol !== 'http:') {
        throw new DownloadError('http', `${url.href} redirected to an unsupported address: ${next.href}`, { hint: 'use another URL' });
      }
      url = next;
      continue;
    }
    const flat: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(response.headers)) flat[name.toLowerCase()] = headerValue(value);
    return { status: response.statusCode, headers: flat, body: response.body, url };
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
