import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { resolveStoredPath, storedPath } from '../config/config-file.js';
import type { InstallConfig, ModelRecord } from '../config/install-config.js';
import { downloadModel } from '../download/download-model.js';
import { hashFile } from '../download/hash-file.js';
import { loadCatalogue } from '../download/catalogue.js';
import { ProgressRenderer } from '../download/progress-renderer.js';
import { isStillVerified } from '../download/verified-record.js';
import { saveConfig, type SetupContext, type SetupStep } from './context.js';

type ModelChoice = NonNullable<InstallConfig['choices']['model']>;

/**
 * Step 5: the real model, into <install>/models: downloaded (resumable, verified
 * by SHA-256) or, for a file the user has, hashed where it is. Done when the
 * recorded file is still the verified one.
 */
export const modelDownloadStep: SetupStep = {
  id: 'model',
  title: 'Getting the model',
  async isDone(ctx) {
    const choice = ctx.config.choices.model!;
    const record = ctx.config.model;
    if (!record || !matchesChoice(record, choice)) return { done: false, detail: 'not downloaded yet' };
    const path = resolveStoredPath(ctx.installDir, record.path);
    if (choice.kind === 'file') {
      const s = await stat(path).catch(() => undefined);
      const same = s?.isFile() && s.size === record.bytes && s.mtimeMs === record.mtimeMs;
      return same ? { done: true, detail: `${path}, unchanged since it was hashed` } : { done: false, detail: `${path} changed or is gone` };
    }
    return (await isStillVerified(path, record.sha256)) ? { done: true, detail: `${path}, verified` } : { done: false, detail: `${path} is not verified` };
  },
  async run(ctx) {
    const choice = ctx.config.choices.model!;
    ctx.config.model = choice.kind === 'file' ? await hashInPlace(ctx, choice.path) : await download(ctx, choice);
    await saveConfig(ctx);
  },
};

function matchesChoice(record: ModelRecord, choice: ModelChoice): boolean {
  if (choice.kind === 'catalogue') return record.id === choice.id;
  if (choice.kind === 'url') return record.sha256 === choice.sha256;
  return record.path === choice.path;
}

async function download(ctx: SetupContext, choice: Exclude<ModelChoice, { kind: 'file' }>): Promise<ModelRecord> {
  const label = choice.kind === 'catalogue' ? choice.id : basename(new URL(choice.url).pathname);
  const renderer = new ProgressRenderer(ctx.io, label, { columns: process.stderr.columns });
  try {
    const result = await downloadModel(
      {
        ...(choice.kind === 'catalogue' ? { model: choice.id } : { url: choice.url, sha256: choice.sha256 }),
        dir: join(ctx.installDir, 'models'),
        hfToken: ctx.hfToken,
        env: ctx.io.env,
        cwd: ctx.io.cwd,
      },
      { onProgress: renderer.progress, onEvent: renderer.event, signal: ctx.signal },
    );
    renderer.finish();
    const how = result.outcome === 'present' ? 'already there, verified' : result.resumedFrom > 0 ? 'downloaded (resumed) and verified' : 'downloaded and verified';
    ctx.say(`  ✔ ${result.path} (${how})`);
    return { id: result.model ?? null, path: storedPath(ctx.installDir, result.path), sha256: result.sha256, bytes: result.bytes };
  } finally {
    renderer.finish();
  }
}

async function hashInPlace(ctx: SetupContext, path: string): Promise<ModelRecord> {
  const renderer = new ProgressRenderer(ctx.io, basename(path), { columns: process.stderr.columns });
  const before = await stat(path);
  const digest = await hashFile(path, { signal: ctx.signal, onProgress: (bytes, total) => renderer.progress({ phase: 'checking', bytes, total, bytesPerSecond: undefined, etaSeconds: undefined }) });
  renderer.finish();
  const known = loadCatalogue().models.find((m) => m.sha256 === digest.sha256);
  ctx.say(`  ✔ ${path}: SHA-256 ${digest.sha256.slice(0, 10)}…${known ? ` (it is ${known.id})` : ''}`);
  return { id: known?.id ?? null, path, sha256: digest.sha256, bytes: digest.bytes, mtimeMs: before.mtimeMs };
}
