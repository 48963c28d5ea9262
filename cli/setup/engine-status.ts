import { existsSync } from 'node:fs';
import { resolveStoredPath } from '../config/config-file.js';
import type { EngineRecord } from '../config/install-config.js';
import { checkAddon } from '../build/check-addon.js';
import { fileSha256 } from '../build/file-sha256.js';
import { engineSourceHash } from '../build/source-hash.js';
import type { Engine } from '../hardware/report.js';
import { packageRoot } from '../paths.js';

export type EngineStatus = { usable: true; path: string } | { usable: false; why: string };

/**
 * Whether the recorded engine is the one wanted and still good: same backend and
 * CUDA architectures, built from this sd-setup's sources, the file unchanged
 * (SHA-256), and it loads and answers in a child process.
 */
export async function engineStatus(
  installDir: string,
  record: EngineRecord | undefined,
  wanted: { backend: Engine; cudaArchitectures: string | null },
  options: { env?: NodeJS.ProcessEnv; sourceDir?: string } = {},
): Promise<EngineStatus> {
  if (!record) return { usable: false, why: 'not built yet' };
  if (record.backend !== wanted.backend) return { usable: false, why: `the ${record.backend.toUpperCase()} engine is built; ${wanted.backend.toUpperCase()} was chosen` };
  if (wanted.backend === 'cuda' && record.cudaArchitectures !== wanted.cudaArchitectures) {
    return { usable: false, why: `built for sm_${record.cudaArchitectures}, this GPU needs sm_${wanted.cudaArchitectures}` };
  }
  const path = resolveStoredPath(installDir, record.addon);
  if (!existsSync(path)) return { usable: false, why: `${path} is missing` };
  if ((await engineSourceHash(options.sourceDir ?? packageRoot())) !== record.sourceHash) return { usable: false, why: 'this sd-setup has newer engine sources' };
  if ((await fileSha256(path)) !== record.sha256) return { usable: false, why: `${path} changed since it was built` };
  const check = await checkAddon(path, options.env ? { env: options.env } : {});
  if (!check.ok) return { usable: false, why: `it does not load: ${check.reason}` };
  if (wanted.backend === 'cuda' && !check.cuda) return { usable: false, why: 'it has no CUDA backend' };
  return { usable: true, path };
}
