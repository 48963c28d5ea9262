import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../hardware/report.js';
import { looksLikeAPicture, type ImageStats } from './image-stats.js';

export type SmokeResult = { ok: true; seconds: number; stats: ImageStats } | { ok: false; reason: string };

const CHILD = fileURLToPath(new URL('./smoke-child.js', import.meta.url));

/** Generates one 64×64 image with the tiny model in a child process and judges it. */
export async function runSmokeTest(
  addonPath: string,
  backend: Engine,
  options: { env: NodeJS.ProcessEnv; signal?: AbortSignal | undefined; timeoutMs?: number },
): Promise<SmokeResult> {
  const result = await execa(process.execPath, [CHILD, backend], {
    reject: false,
    env: { ...options.env, SD_SETUP_ADDON: addonPath },
    extendEnv: false,
    stdin: 'ignore',
    windowsHide: true,
    timeout: options.timeoutMs ?? 120_000,
    ...(options.signal ? { cancelSignal: options.signal } : {}),
  });
  options.signal?.throwIfAborted();
  const last = String(result.stdout).trim().split('\n').pop() ?? '';
  let answer: { ok: boolean; error?: string; seconds?: number; width?: number; height?: number; stdDev?: number; distinctValues?: number };
  try {
    answer = JSON.parse(last) as typeof answer;
  } catch {
    const how = result.timedOut ? 'it did not finish in time' : result.signal ? `the engine crashed (${result.signal})` : `it failed (exit ${result.exitCode})`;
    const said = String(result.stderr).trim().split('\n').slice(-8).join('\n');
    return { ok: false, reason: said ? `${how}:\n${said}` : how };
  }
  if (!answer.ok) return { ok: false, reason: answer.error ?? 'unknown error' };
  const stats = { stdDev: answer.stdDev ?? 0, distinctValues: answer.distinctValues ?? 0 };
  if (answer.width !== 64 || answer.height !== 64) return { ok: false, reason: `the image is ${answer.width}×${answer.height}, expected 64×64` };
  if (!looksLikeAPicture(stats)) {
    return { ok: false, reason: `the image is blank (${stats.distinctValues} distinct values, standard deviation ${stats.stdDev.toFixed(2)}): the engine computes NaN or nothing` };
  }
  return { ok: true, seconds: answer.seconds ?? 0, stats };
}
