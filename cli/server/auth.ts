import { createHash, timingSafeEqual } from 'node:crypto';
import { UsageError } from '../errors.js';

export interface Credential {
  user: string;
  password: string;
}

/**
 * Parses --api-auth the webui's way: "user:pass", or several separated by
 * commas ("u1:p1,u2:p2"). The password is everything after the first colon.
 */
export function parseApiAuth(value: string): Credential[] {
  const credentials = value.split(',').map((pair) => {
    const colon = pair.indexOf(':');
    const user = colon > 0 ? pair.slice(0, colon).trim() : '';
    const password = colon > 0 ? pair.slice(colon + 1) : '';
    if (!user || !password) throw new UsageError(`--api-auth needs user:password pairs separated by commas, got "${pair}"`);
    return { user, password };
  });
  return credentials;
}

/** Compares digests so the time taken says nothing about how much of a password matched. */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** True when an Authorization header carries HTTP Basic credentials of one of `credentials`. */
export function isAuthorized(header: string | undefined, credentials: readonly Credential[]): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  let ok = false;
  // Check every entry so the number of comparisons does not depend on which user matched.
  for (const c of credentials) if (sameSecret(c.user, user) && sameSecret(c.password, password)) ok = true;
  return ok;
}
