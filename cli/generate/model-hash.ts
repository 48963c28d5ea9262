import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * The webui's "Model hash": the first 10 hex digits of the file's SHA-256
 * (its "shorthash", what infotexts since webui 1.0 carry).
 */
export async function modelShortHash(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex').slice(0, 10);
}
