import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { stringOption } from '../args.js';
import { defineCommand } from '../command.js';
import { ExitCode, UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { loadCatalogue } from '../download/catalogue.js';
import { downloadModel, type DownloadResult } from '../download/download-model.js';
import { formatBytes } from '../download/format.js';
import { modelsDir } from '../download/models-dir.js';
import { ProgressRenderer } from '../download/progress-renderer.js';
import { urlFileName } from '../download/target.js';
import { isStillVerified } from '../download/verified-record.js';
import { onStopSignal } from '../stop-signal.js';

export const downloadCommand = defineCommand({
  name: 'download',
  summary: 'download a checkpoint, resumable and verified by SHA-256',
  details: `
Downloads MODEL from the catalogue into the models folder: $SD_SETUP_HOME/models,
by default ~/sd-setup/models (--dir picks another). The file is written to NAME.part
and only renamed to NAME once its size and SHA-256 match; a verified file is never
downloaded twice. An interrupted download (lost connection, Ctrl-C, a killed process)
resumes where it stopped when the same command runs again.

Gated models (sd-v1-4) need their license accepted on the Hugging Face model page and a
token: --hf-token, else HF_TOKEN, else the file "huggingface-cli login" writes
($HF_TOKEN_PATH, $HF_HOME/token, ~/.cache/huggingface/token). The token is sent to the
Hugging Face host only, never to the CDN it redirects to. HF_ENDPOINT selects a mirror.

Without MODEL: lists the catalogue and what is already in the models folder.`,
  positionals: { name: 'MODEL', description: 'catalogue name: sd-v1-5 or sd-v1-4 (omit to list them)', max: 1 },
  options: {
    dir: { type: 'string', valueName: 'DIR', description: 'models folder (default: $SD_SETUP_HOME/models, else ~/sd-setup/models)' },
    'hf-token': {
      type: 'string',
      valueName: 'TOKEN',
      description: 'Hugging Face token for gated models (default: HF_TOKEN, then the Hugging Face CLI login; prefer HF_TOKEN: a flag shows in the process list)',
    },
    url: { type: 'string', valueName: 'URL', description: 'download from this address instead (a mirror, or any file with --sha256)' },
    sha256: { type: 'string', valueName: 'HEX', description: 'expected SHA-256 of a file outside the catalogue' },
    from: { type: 'string', valueName: 'FILE', description: 'import a file you already have (hard link or copy, then verify)' },
  },
  examples: [
    'sd-setup download',
    'sd-setup download sd-v1-5',
    'HF_TOKEN=hf_... sd-setup download sd-v1-4',
    'sd-setup download sd-v1-5 --from ~/Downloads/v1-5-pruned-emaonly.safetensors',
    'sd-setup download --url https://example.com/model.safetensors --sha256 6ce0…2fa',
  ],
  async run({ values, positionals, io }) {
    const model = positionals[0];
    const dir = stringOption(values, 'dir');
    const url = stringOption(values, 'url');
    const from = stringOption(values, 'from');
    const sha256 = stringOption(values, 'sha256');
    if (url !== undefined && from !== undefined) throw new UsageError('give --url or --from, not both');
    if (model === undefined && url === undefined && from === undefined) {
      if (sha256 !== undefined) throw new UsageError('--sha256 needs --url or --from');
      await listCatalogue(io, modelsDir({ dir, env: io.env, cwd: io.cwd }));
      return ExitCode.ok;
    }

    const label = model ?? (from !== undefined ? basename(from) : urlLabel(url!));
    const renderer = new ProgressRenderer(io, label, { columns: process.stderr.columns });
    const controller = new AbortController();
    // The first Ctrl-C stops cleanly (the part is kept); a second one ends the process at once.
    const unlisten = onStopSignal(() => {
      renderer.event({ kind: 'info', message: 'stopping…' });
      controller.abort();
    });
    try {
      const result = await downloadModel(
        { model, url, sha256, from, dir, hfToken: stringOption(values, 'hf-token'), env: io.env, cwd: io.cwd },
        { onProgress: renderer.progress, onEvent: renderer.event, signal: controller.signal },
      );
      renderer.finish();
      io.out(`${describeResult(result, model)}\n`);
      return ExitCode.ok;
    } catch (error) {
      renderer.finish();
      throw error;
    } finally {
      unlisten();
    }
  },
});

function describeResult(r: DownloadResult, model: string | undefined): string {
  const facts = `${formatBytes(r.bytes)}, SHA-256 ${r.sha256.slice(0, 12)}… verified`;
  const subject = model === undefined ? '' : `${model} `;
  if (r.outcome === 'present') return `${subject}already in place: ${r.path} (${facts})`;
  if (r.outcome === 'imported') return `${subject}imported: ${r.path} (${facts})`;
  const resumed = r.resumedFrom > 0 ? `, resumed at ${formatBytes(r.resumedFrom)}` : '';
  return `${subject}downloaded: ${r.path} (${facts}${resumed})`;
}

function urlLabel(url: string): string {
  try {
    return urlFileName(url) || url;
  } catch {
    return url;
  }
}

async function listCatalogue(io: Io, dir: string): Promise<void> {
  const lines = [`Models (folder: ${dir}):`, ''];
  for (const m of loadCatalogue().models) {
    const path = join(dir, m.file);
    const state = (await isStillVerified(path, m.sha256))
      ? 'downloaded, verified'
      : (await sizeOf(path)) !== undefined
        ? 'present, not yet verified'
        : (await sizeOf(`${path}.part`)) !== undefined
          ? `partial: ${formatBytes((await sizeOf(`${path}.part`))!)} of ${formatBytes(m.size)}, run the download again to resume`
          : 'not downloaded';
    lines.push(`  ${m.id.padEnd(10)}${m.title}`);
    lines.push(`  ${''.padEnd(10)}${m.file}, ${formatBytes(m.size)}${m.gated ? ', gated (license + token)' : ''} — ${state}`);
  }
  lines.push('', 'Download one with "sd-setup download MODEL".');
  io.out(`${lines.join('\n')}\n`);
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}
