import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type AddonCheck =
  | { ok: true; cuda: boolean }
  | { ok: false; reason: string };

const CHILD = fileURLToPath(new URL('./addon-check-child.js', import.meta.url));

/**
 * Whether the addon at `path` loads and answers, asked of a child process (a
 * broken build can abort the process that loads it). `tokens` is the CLIP
 * token count of a fixed prompt: a wrong answer means a miscompiled engine.
 */
export async function checkAddon(path: string, options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<AddonCheck> {
  if (!existsSync(path)) return { ok: false, reason: `${path} does not exist` };
  const result = await execa(process.execPath, [CHILD, path], {
    reject: false,
    timeout: options.timeoutMs ?? 60_000,
    env: options.env ?? process.env,
    extendEnv: false,
    stdin: 'ignore',
    windowsHide: true,
  });
  const last = String(result.stdout).trim().split('\n').pop() ?? '';
  try {
    const answer = JSON.parse(last) as { ok: boolean; cuda?: boolean; tokens?: number; error?: string };
    if (answer.ok && answer.tokens === EXPECTED_TOKENS) return { ok: true, cuda: answer.cuda === true };
    if (answer.ok) return { ok: false, reason: `it answered wrongly (tokenized a test prompt into ${answer.tokens} tokens, expected ${EXPECTED_TOKENS})` };
    return { ok: false, reason: answer.error ?? 'it failed to load' };
  } catch {
    const how = result.timedOut ? 'it hung while loading' : result.signal ? `loading it crashed the process (${result.signal})` : `loading it failed (exit ${result.exitCode})`;
    const said = String(result.stderr).trim().split('\n').slice(-5).join('\n');
    return { ok: false, reason: said ? `${how}: ${said}` : how };
  }
}

/** "a photograph of an astronaut riding a horse": one CLIP token per word. */
const EXPECTED_TOKENS = 8;
