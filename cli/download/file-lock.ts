import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { DownloadError } from './download-error.js';

interface LockOwner {
  pid: number;
  host: string;
  started: string;
}

export type ReleaseLock = () => Promise<void>;

/**
 * Takes `lockPath` for this process, so two downloads never write the same
 * part file. The lock is a small JSON file naming its owner, published with
 * link() so it appears complete or not at all. A lock left by a process that
 * died (same host, pid gone: e.g. killed with SIGKILL) is taken over.
 */
export async function acquireLock(lockPath: string, what: string): Promise<ReleaseLock> {
  const me: LockOwner = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  const draft = `${lockPath}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(draft, `${JSON.stringify(me)}\n`);
  try {
    for (let tries = 0; tries < 10; tries++) {
      if (await publish(draft, lockPath, me)) {
        return async () => {
          await unlink(lockPath).catch(() => undefined);
        };
      }
      const owner = await readOwner(lockPath);
      if (!owner && (await isYoung(lockPath))) {
        // Only where hard links are unsupported can a lock be seen half-written; give its writer a moment.
        await sleep(200);
        continue;
      }
      if (owner && !isDeadLocalProcess(owner)) {
        throw new DownloadError('locked', `another sd-setup (pid ${owner.pid} on ${owner.host}, since ${owner.started}) is already writing ${what}`, {
          hint: `wait for it to finish, or stop it; if no sd-setup is running, delete ${lockPath}`,
        });
      }
      await breakStaleLock(lockPath, owner);
    }
    throw new DownloadError('locked', `could not take the lock ${lockPath}: other processes keep taking it`, {
      hint: 'make sure only one sd-setup downloads into this folder at a time',
    });
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}

/** Creates the lock atomically; false when it already exists. */
async function publish(draft: string, lockPath: string, me: LockOwner): Promise<boolean> {
  try {
    await link(draft, lockPath);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw error;
  }
  // File systems without hard links (FAT on a USB disk): exclusive create.
  try {
    await writeFile(lockPath, `${JSON.stringify(me)}\n`, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function isYoung(path: string): Promise<boolean> {
  try {
    return Date.now() - (await stat(path)).mtimeMs < 10_000;
  } catch {
    return false;
  }
}

async function readOwner(lockPath: string): Promise<LockOwner | undefined> {
  try {
    const parsed = JSON.parse(await readFile(lockPath, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string' && typeof parsed.started === 'string') {
      return parsed as LockOwner;
    }
  } catch {
    // Unreadable or vanished: treated as stale below (lock files are written whole, so this is not a live lock mid-write).
  }
  return undefined;
}

function isDeadLocalProcess(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return false; // another machine sharing the folder: cannot tell, assume alive
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Moves the stale lock aside, then checks that what moved is the lock judged
 * stale: if another process replaced it meanwhile, its fresh lock is put back.
 */
async function breakStaleLock(lockPath: string, stale: LockOwner | undefined): Promise<void> {
  const aside = `${lockPath}.stale.${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await readOwner(aside);
  const same = stale === undefined ? moved === undefined : moved?.pid === stale.pid && moved.started === stale.started;
  if (!same) await link(aside, lockPath).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}
