import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

function hostName(host: string): string {
  // "[::1]:7860" -> "[::1]", "localhost:7860" -> "localhost"
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(host.trim().toLowerCase());
  return m?.[1] ?? '';
}

/**
 * Refuses requests a web page in the user's browser could make behind their
 * back. On a loopback-only server the Host header must name this machine,
 * which defeats DNS rebinding (evil.example resolving to 127.0.0.1); on every
 * server a request that carries an Origin must come from this server's own
 * page, so another site cannot start, interrupt or read generations.
 */
export function checkRequestOrigin(req: IncomingMessage, loopbackOnly: boolean): void {
  const host = req.headers.host ?? '';
  if (loopbackOnly && !LOOPBACK_NAMES.has(hostName(host))) {
    throw new HttpError(403, `this server answers only requests addressed to 127.0.0.1 or localhost (Host was "${host}"); start it with --listen to serve other names`);
  }
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let originHost = '';
  try {
    originHost = new URL(origin).host.toLowerCase();
  } catch {
    // fall through: an unparsable origin does not match
  }
  if (originHost !== host.toLowerCase()) {
    throw new HttpError(403, `cross-origin requests are refused (Origin ${origin}); call the API from a program, or from this server's own page`);
  }
}
