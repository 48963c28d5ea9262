import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface HfToken {
  token: string;
  /** Where it came from, for messages ("--hf-token", "HF_TOKEN", or the file path); never the token itself. */
  source: string;
  /** True when the user handed it to us for this download (--hf-token / the API option), not found ambiently. */
  explicit: boolean;
}

/**
 * The Hugging Face token, searched in the order the Hugging Face CLI uses:
 * the explicit value, HF_TOKEN (and the legacy HUGGING_FACE_HUB_TOKEN), then
 * the token file `huggingface-cli login` writes: HF_TOKEN_PATH, else
 * $HF_HOME/token, else ${XDG_CACHE_HOME:-~/.cache}/huggingface/token.
 */
export function resolveHfToken(explicit: string | undefined, env: NodeJS.ProcessEnv, home = homedir()): HfToken | undefined {
  if (explicit !== undefined) {
    const token = explicit.trim();
    return token ? { token, source: '--hf-token', explicit: true } : undefined;
  }
  for (const name of ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN']) {
    const token = env[name]?.trim();
    if (token) return { token, source: name, explicit: false };
  }
  const path = hfTokenPath(env, home);
  try {
    const token = readFileSync(path, 'utf8').trim();
    if (token) return { token, source: path, explicit: false };
  } catch {
    // No token file: the user has not logged in with the Hugging Face CLI.
  }
  return undefined;
}

/** Where `huggingface-cli login` (and `hf auth login`) keeps the token. */
export function hfTokenPath(env: NodeJS.ProcessEnv, home = homedir()): string {
  if (env.HF_TOKEN_PATH?.trim()) return expandHome(env.HF_TOKEN_PATH.trim(), home);
  const hfHome = env.HF_HOME?.trim()
    ? expandHome(env.HF_HOME.trim(), home)
    : join(env.XDG_CACHE_HOME?.trim() || join(home, '.cache'), 'huggingface');
  return join(hfHome, 'token');
}

function expandHome(path: string, home: string): string {
  return path === '~' || path.startsWith('~/') ? join(home, path.slice(1)) : path;
}
