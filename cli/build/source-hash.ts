import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/**
 * A fingerprint of the engine sources a build compiles (CMakeLists.txt and
 * native/): an installed engine built from other sources (an older sd-setup)
 * is rebuilt rather than trusted. Paths are hashed with "/" so the value is the
 * same on every platform.
 */
export async function engineSourceHash(sourceDir: string): Promise<string> {
  const files = [join(sourceDir, 'CMakeLists.txt'), ...(await listFiles(join(sourceDir, 'native')))].sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(relative(sourceDir, file).split(sep).join('/'));
    hash.update('\0');
    hash.update(await readFile(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : e.isFile() ? Promise.resolve([join(dir, e.name)]) : Promise.resolve([]))),
  );
  return nested.flat();
}
