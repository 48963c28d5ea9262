import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** SHA-256 of a small file (an addon, tens of MB) on this thread. Models go through download's hashing thread instead. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
