import { mkdir, open, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvHttpProxyAgent } from 'undici';
import { packageVersion } from '../version.js';
import { findModel, loadCatalogue, type Catalogue, type CatalogueModel } from './catalogue.js';
import { DownloadError } from './download-error.js';
import { explainError } from './explain-error.js';
import { acquireLock } from './file-lock.js';
import { hashFile } from './hash-file.js';
import { resolveHfToken, type HfToken } from './hf-token.js';
import { importFile } from './import-file.js';
import { homeOf, modelsDir } from './models-dir.js';
import { removeQuietly } from './part-state.js';
import { ProgressMeter, type DownloadProgress } from './progress-meter.js';
import { fetchToPart, type FetchedPart } from './resumable-fetch.js';
import { defaultRetryPolicy, type RetryPolicy } from './retry.js';
import { resolveTarget, type DownloadTarget } from './target.js';
import { isStillVerified, writeVerifiedRecord } from './verified-record.js';

export interface DownloadTimeouts {
  /** TCP + TLS connect. */
  connectMs: number;
  /** From request sent to response headers. */
  headersMs: number;
  /** Longest silence while the body streams: a stalled connection is dropped and resumed. */
  idleMs: number;
}

export const defaultTimeouts: DownloadTimeouts = { connectMs: 15_000, headersMs: 60_000, idleMs: 30_000 };

export interface DownloadModelOptions {
  /** Catalogue id (assets/models.json), e.g. "sd-v1-5". */
  model?: string | undefined;
  /** Download from here instead (a mirror for a catalogue model, or any file with `sha256`). */
  url?: string | undefined;
  /** Expected SHA-256 (hex); required without `model`. */
  sha256?: string | undefined;
  /** Expected size in bytes, when known, for files outside the catalogue. */
  size?: number | undefined;
  /** File name in the models folder (default: the catalogue's, else the URL's or --from file's name). */
  fileName?: string | undefined;
  /** Models folder (default: $SD_SETUP_HOME/models or ~/sd-setup/models). */
  dir?: string | undefined;
  /** Hugging Face token; default from HF_TOKEN or the Hugging Face CLI's token file. */
  hfToken?: string | undefined;
  /** Import this local file instead of downloading (hard link or copy, then verify). */
  from?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  cwd?: string | undefined;
  retry?: Partial<RetryPolicy> | undefined;
  timeouts?: Partial<DownloadTimeouts> | undefined;
  catalogue?: Catalogue | undefined;
}

export interface DownloadEvent {
  kind: 'info' | 'resume' | 'restart' | 'retry' | 'warning';
  message: string;
}

export interface DownloadHooks {
  onProgress?: ((progress: DownloadProgress) => void) | undefined;
  onEvent?: ((event: DownloadEvent) => void) | undefined;
  /** Aborting stops the transfer promptly; the part stays for the next run to resume. */
  signal?: AbortSignal | undefined;
}

export interface DownloadResult {
  /** The verified file. */
  path: string;
  sha256: string;
  bytes: number;
  /** downloaded (now), present (already there and verified), imported (--from). */
  outcome: 'downloaded' | 'present' | 'imported';
  model: string | undefined;
  /** Bytes that a previous run had already downloaded. */
  resumedFrom: number;
}

/**
 * Puts a verified model file in the models folder and returns where it is.
 * Safe to call again at any time: a verified file is not downloaded twice, an
 * interrupted download resumes, and nothing unverified is ever at `path`.
 * Failures are DownloadErrors whose `code` says what happened.
 *
 * @example
 *   const { path } = await downloadModel({ model: 'sd-v1-5' }, { onProgress: (p) => draw(p), signal });
 */
export async function downloadModel(options: DownloadModelOptions, hooks: DownloadHooks = {}): Promise<DownloadResult> {
  const env = options.env ?? process.env;
  const target = resolveTarget(options, options.catalogue ?? loadCatalogue(), env);
  const dir = modelsDir({ dir: options.dir, env, cwd: options.cwd ?? process.cwd() });
  const path = join(dir, target.fileName);
  const paths = { path, part: `${path}.part`, state: `${path}.part.json`, lock: `${path}.lock` };
  const meter = new ProgressMeter(hooks.onProgress);
  const event = (kind: DownloadEvent['kind'], message: string) => hooks.onEvent?.({ kind, message });

  let release: (() => Promise<void>) | undefined;
  try {
    hooks.signal?.throwIfAborted();
    await mkdir(dir, { recursive: true });
    release = await acquireLock(paths.lock, path);
    const present = await checkExisting(target, path, hooks, meter, event);
    if (present) return present;
    if (options.from !== undefined) return await importInto(options.from, target, dir, paths, hooks, meter, event);
    return await downloadInto(target, dir, paths, options, env, hooks, meter, event);
  } catch (error) {
    throw explainError(error, target, await fileSize(paths.part), paths.part, hooks.signal);
  } finally {
    await release?.();
  }
}

/** The verified file when it is already in place (recorded, or re-hashed when the record is stale). */
async function checkExisting(
  target: DownloadTarget,
  path: string,
  hooks: DownloadHooks,
  meter: ProgressMeter,
  event: (kind: DownloadEvent['kind'], message: string) => void,
): Promise<DownloadResult | undefined> {
  let info;
  try {
    info = await stat(path);
  } catch {
    return undefined;
  }
  const result = (bytes: number): DownloadResult => ({ path, sha256: target.sha256, bytes, outcome: 'present', model: target.model?.id, resumedFrom: 0 });
  if (await isStillVerified(path, target.sha256)) {
    event('info', `${path} is already downloaded and verified`);
    return result(info.size);
  }
  if (!info.isFile() || (target.size !== undefined && info.size !== target.size)) {
    event('warning', `${path} exists but is not ${target.what} (wrong size); downloading a fresh copy, which replaces it once verified`);
    return undefined;
  }
  event('info', `checking the SHA-256 of the existing ${path}`);
  const digest = await hashFile(path, { signal: hooks.signal, onProgress: (bytes, total) => meter.update('checking', bytes, total) });
  if (digest.sha256 === target.sha256) {
    await writeVerifiedRecord(path, { sha256: digest.sha256, source: 'found in place', model: target.model?.id });
    event('info', `${path} is already there and verified`);
    return result(digest.bytes);
  }
  event('warning', `${path} exists but its SHA-256 is not ${target.what}'s; downloading a fresh copy, which replaces it once verified`);
  return undefined;
}

async function downloadInto(
  target: DownloadTarget,
  dir: string,
  paths: { path: string; part: string; state: string },
  options: DownloadModelOptions,
  env: NodeJS.ProcessEnv,
  hooks: DownloadHooks,
  meter: ProgressMeter,
  event: (kind: DownloadEvent['kind'], message: string) => void,
): Promise<DownloadResult> {
  const token = resolveHfToken(options.hfToken, env, homeOf(env));
  const auth = authFor(target, token);
  if (auth) event('info', `sending the Hugging Face token from ${token!.source} to ${new URL(target.url).host} only`);
  const timeouts = { ...defaultTimeouts, ...options.timeouts };
  const dispatcher = new EnvHttpProxyAgent({
    connect: { timeout: timeouts.connectMs },
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.idleMs,
  });
  try {
    // One fresh start is allowed when a resumed download fails verification:
    // the kept part may be from an older copy of the file.
    for (let attempt = 0; ; attempt++) {
      const fetched: FetchedPart = await fetchToPart({
        url: target.url,
        partPath: paths.part,
        statePath: paths.state,
        sha256: target.sha256,
        size: target.size,
        dir,
        what: target.what,
        auth,
        dispatcher,
        retry: { ...defaultRetryPolicy, ...options.retry },
        userAgent: `sd-setup/${packageVersion()} node/${process.versions.node}`,
        signal: hooks.signal,
        onProgress: (bytes, total) => meter.update('downloading', bytes, total),
        onEvent: (e) => event(e.kind, e.message),
      });
      meter.update('verifying', fetched.bytes, fetched.bytes, true);
      if (fetched.sha256 === target.sha256) {
        await moveIntoPlace(paths, fetched.sha256, target.url, target);
        return { path: paths.path, sha256: fetched.sha256, bytes: fetched.bytes, outcome: 'downloaded', model: target.model?.id, resumedFrom: fetched.resumedFrom };
      }
      await removeQuietly(paths.part, paths.state);
      if (fetched.resumedFrom > 0 && attempt === 0) {
        event('restart', `the resumed download of ${target.what} failed verification (the kept part may be from an older file); downloading it again from the start`);
        continue;
      }
      throw new DownloadError(
        'checksum-mismatch',
        `the downloaded ${target.what} is corrupt or not the expected file: its SHA-256 is ${fetched.sha256}, expected ${target.sha256}. The bad download was deleted.`,
        { hint: `run the same command to try again; if it fails again, ${new URL(target.url).host} is serving a different file` },
      );
    }
  } finally {
    await dispatcher.destroy().catch(() => undefined);
  }
}

async function importInto(
  from: string,
  target: DownloadTarget,
  dir: string,
  paths: { path: string; part: string; state: string },
  hooks: DownloadHooks,
  meter: ProgressMeter,
  event: (kind: DownloadEvent['kind'], message: string) => void,
): Promise<DownloadResult> {
  const imported = await importFile({
    source: from,
    partPath: paths.part,
    size: target.size,
    dir,
    what: target.what,
    signal: hooks.signal,
    onProgress: (phase, bytes, total) => meter.update(phase, bytes, total),
    onEvent: (message) => event('info', message),
  });
  if (imported.sha256 !== target.sha256) {
    await removeQuietly(paths.part);
    throw new DownloadError('checksum-mismatch', `${from} is not ${target.what}: its SHA-256 is ${imported.sha256}, expected ${target.sha256}`, {
      hint: 'check you picked the right file (it may be another version or a damaged copy); your file was not changed',
    });
  }
  await removeQuietly(paths.state);
  await moveIntoPlace(paths, imported.sha256, `file:${from}`, target);
  return { path: paths.path, sha256: imported.sha256, bytes: imported.bytes, outcome: 'imported', model: target.model?.id, resumedFrom: 0 };
}

/** The verified part becomes the model file in one rename, then the record is written. */
async function moveIntoPlace(paths: { path: string; part: string; state: string }, sha256: string, source: string, target: DownloadTarget): Promise<void> {
  await rename(paths.part, paths.path);
  await removeQuietly(paths.state);
  await syncDirectory(paths.path);
  await writeVerifiedRecord(paths.path, { sha256, source, model: target.model?.id });
}

/** The token goes to the first host only, and an ambient token (env, token file) only to Hugging Face. */
function authFor(target: DownloadTarget, token: HfToken | undefined): { origin: string; header: string } | undefined {
  if (!token) return undefined;
  if (!token.explicit && !target.isHuggingFace) return undefined;
  return { origin: new URL(target.url).origin, header: `Bearer ${token.token}` };
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Makes the rename durable (POSIX); directories cannot be opened for sync on Windows, where this is skipped. */
async function syncDirectory(filePath: string): Promise<void> {
  if (process.platform === 'win32') return;
  const dir = await open(join(filePath, '..'), 'r').catch(() => undefined);
  if (!dir) return;
  try {
    await dir.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    await dir.close();
  }
}

export type { CatalogueModel, DownloadProgress };
export { findModel };
