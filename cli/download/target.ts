import { basename } from 'node:path';
import { defaultHfEndpoint, findModel, modelUrl, type Catalogue, type CatalogueModel } from './catalogue.js';
import { DownloadError } from './download-error.js';

/** What to fetch and how to check it, settled from the options before anything touches the disk. */
export interface DownloadTarget {
  model: CatalogueModel | undefined;
  url: string;
  sha256: string;
  size: number | undefined;
  fileName: string;
  /** Names it in messages: "sd-v1-5 (v1-5-pruned-emaonly.safetensors)". */
  what: string;
  /** Hugging Face (or the HF_ENDPOINT mirror) serves it: the ambient HF token may be sent. */
  isHuggingFace: boolean;
}

export interface TargetOptions {
  model?: string | undefined;
  url?: string | undefined;
  sha256?: string | undefined;
  size?: number | undefined;
  fileName?: string | undefined;
  from?: string | undefined;
}

export function resolveTarget(options: TargetOptions, catalogue: Catalogue, env: NodeJS.ProcessEnv): DownloadTarget {
  const sha256 = options.sha256 === undefined ? undefined : parseSha256(options.sha256);
  if (options.url !== undefined) checkUrl(options.url);
  if (options.model !== undefined) {
    const model = findModel(options.model, catalogue);
    if (!model) {
      throw new DownloadError('bad-input', `unknown model "${options.model}"`, {
        hint: `the catalogue has: ${catalogue.models.map((m) => m.id).join(', ')} (run "sd-setup download" to list them), or give --url and --sha256`,
      });
    }
    if (sha256 !== undefined && sha256 !== model.sha256) {
      throw new DownloadError('bad-input', `--sha256 ${sha256} is not the SHA-256 of ${model.id} (${model.sha256})`, {
        hint: `leave out --sha256 for catalogue models, or leave out ${model.id} to download another file`,
      });
    }
    const url = options.url ?? modelUrl(model, env);
    return {
      model,
      url,
      sha256: model.sha256,
      size: model.size,
      fileName: options.fileName ?? model.file,
      what: `${model.id} (${model.file})`,
      isHuggingFace: isHuggingFaceUrl(url, env),
    };
  }
  if (sha256 === undefined) {
    throw new DownloadError('bad-input', 'a file outside the catalogue needs its SHA-256 (--sha256 HEX), so it can be verified', {
      hint: 'name a catalogue model (run "sd-setup download" to list them), or add --sha256 with the digest the model page publishes',
    });
  }
  if (options.url === undefined && options.from === undefined) {
    throw new DownloadError('bad-input', 'nothing to download: give a MODEL, --url URL or --from FILE', { hint: 'run "sd-setup download" to list the models' });
  }
  const fileName = options.fileName ?? (options.url !== undefined ? urlFileName(options.url) : basename(options.from!));
  checkFileName(fileName);
  const url = options.url ?? `file:${options.from}`;
  return {
    model: undefined,
    url,
    sha256,
    size: options.size,
    fileName,
    what: fileName,
    isHuggingFace: options.url !== undefined && isHuggingFaceUrl(options.url, env),
  };
}

export function parseSha256(value: string): string {
  const hex = value.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new DownloadError('bad-input', `--sha256 must be 64 hexadecimal digits, got "${value}"`, {
      hint: 'copy the SHA-256 from the model page (on Hugging Face: the file\'s page, "SHA256:")',
    });
  }
  return hex;
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DownloadError('bad-input', `--url is not a valid URL: "${url}"`, { hint: 'give a full address starting with https://' });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new DownloadError('bad-input', `--url must be an http(s) address, got "${url}"`, { hint: 'to use a file you already have, give it to --from' });
  }
}

/** The last path segment of a URL, decoded: .../resolve/main/v1-5-pruned-emaonly.safetensors?download=true → v1-5-pruned-emaonly.safetensors. */
export function urlFileName(url: string): string {
  const segment = new URL(url).pathname.split('/').filter(Boolean).pop() ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function checkFileName(name: string): void {
  if (!name || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new DownloadError('bad-input', `cannot use "${name}" as a file name in the models folder`, { hint: 'the URL must end with a file name' });
  }
}

function isHuggingFaceUrl(url: string, env: NodeJS.ProcessEnv): boolean {
  const host = new URL(url).host.toLowerCase();
  const endpoints = [defaultHfEndpoint, env.HF_ENDPOINT?.trim()].filter((e): e is string => Boolean(e));
  if (endpoints.some((e) => safeHost(e) === host)) return true;
  return host === 'hf.co' || host.endsWith('.huggingface.co') || host.endsWith('.hf.co');
}

function safeHost(url: string): string | undefined {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return undefined;
  }
}
