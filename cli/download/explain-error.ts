import { DownloadError, HttpStatusError, isDiskFull } from './download-error.js';
import { formatBytes } from './format.js';
import type { DownloadTarget } from './target.js';

/** Turns low-level failures into DownloadErrors that name the model, the URL and what to do. */
export function explainError(error: unknown, target: DownloadTarget, kept: number, partPath: string, signal: AbortSignal | undefined): unknown {
  if (error instanceof DownloadError) return error;
  if (signal?.aborted) {
    return new DownloadError('aborted', kept > 0 ? `stopped; ${formatBytes(kept)} of ${target.what} kept in ${partPath}` : `stopped before ${target.what} was downloaded`, {
      hint: kept > 0 ? 'run the same command again to resume where it stopped' : undefined,
      cause: error,
    });
  }
  if (isDiskFull(error)) {
    return new DownloadError('disk-full', `the disk is full (${(error as Error).message})`, {
      hint: 'free up space and run the same command again: a partial download resumes where it stopped',
      cause: error,
    });
  }
  if (error instanceof HttpStatusError) return explainHttp(error, target);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code && fileSystemCodes.has(code)) {
    return new DownloadError('bad-input', `cannot write in the models folder: ${message}`, {
      hint: 'choose a folder you can write to with --dir (or SD_SETUP_HOME)',
      cause: error,
    });
  }
  if ((code && networkCode.test(code)) || (error as Error | undefined)?.name === 'HTTPParserError') {
    const host = safeHost(target.url);
    return new DownloadError('network', `could not download ${target.what}${host ? ` from ${host}` : ''}: ${message}${code ? ` (${code})` : ''}`, {
      hint: code && /CERT|SSL|TLS|SIG/.test(code)
        ? 'the secure connection could not be verified; behind a proxy that inspects HTTPS, point NODE_EXTRA_CA_CERTS at its certificate'
        : 'check the connection (and HTTPS_PROXY if you need a proxy), then run the same command again',
      cause: error,
    });
  }
  return error;
}

/** Connection, TLS and protocol failures (undici, Node's TLS, llhttp's HPE_ parser errors). */
const networkCode = /^(UND_ERR|ERR_TLS|ERR_SSL|HPE_|ECONN|ENET|EHOST|EAI_|ENOTFOUND$|ETIMEDOUT$|EPIPE$|EPROTO$|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|CERT_)|SSL/;

/** File-system refusals that mean "this folder is not usable", not a bug. */
const fileSystemCodes = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'EEXIST', 'ENAMETOOLONG', 'ELOOP']);

function safeHost(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'file:' ? undefined : u.host;
  } catch {
    return undefined;
  }
}

function explainHttp(error: HttpStatusError, target: DownloadTarget): DownloadError {
  const server = error.serverMessage ? ` (the server says: ${error.serverMessage})` : '';
  const model = target.model;
  if (error.status === 401 || error.status === 403) {
    const page = model?.page ?? (target.isHuggingFace ? hfModelPage(target.url) : undefined);
    if (page) {
      return new DownloadError('gated', `${target.what}: access refused (HTTP ${error.status})${server}; this model is gated: accept the license at ${page} and set HF_TOKEN`, {
        hint:
          'log in at huggingface.co, accept the license on that page, create a read token at https://huggingface.co/settings/tokens, ' +
          'then run again with HF_TOKEN=hf_... in the environment (or --hf-token, or after "huggingface-cli login"). ' +
          'If a token was already set, it belongs to an account that has not accepted the license, or it cannot read gated repositories',
        cause: error,
      });
    }
    return new DownloadError('gated', `${error.url} refused access (HTTP ${error.status})${server}`, {
      hint: 'if this server needs a token, pass it with --hf-token',
      cause: error,
    });
  }
  if (error.status === 404 || error.status === 410) {
    return new DownloadError('not-found', `${target.what} was not found at ${target.url} (HTTP ${error.status})${server}`, {
      hint: model ? `the catalogue entry may be outdated: check ${model.page}, or give another address with --url` : 'check the URL',
      cause: error,
    });
  }
  return new DownloadError('http', `downloading ${target.what} from ${error.url} failed: HTTP ${error.status}${server}`, {
    hint: 'try again later; if it persists, the server is refusing this download',
    cause: error,
  });
}

/** https://huggingface.co/ORG/REPO from a resolve URL, for the license message. */
function hfModelPage(url: string): string | undefined {
  const u = new URL(url);
  const m = /^\/([^/]+\/[^/]+)\/resolve\//.exec(u.pathname);
  return m ? `${u.origin}/${m[1]}` : undefined;
}
