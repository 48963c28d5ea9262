import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readInstallConfig, resolveStoredPath } from '../config/config-file.js';
import { findInstallDir } from '../config/install-location.js';
import { UserError } from '../errors.js';
import { formatReport } from '../hardware/format-report.js';
import { runDiagnosis } from '../hardware/run-diagnosis.js';
import type { SetupContext, SetupStep } from './context.js';

/**
 * Step 1: the doctor's diagnosis, shown in full. It stops the install when
 * something blocks even the CPU engine (no compiler, no CMake, too little RAM or
 * disk), listing each blocker with the fix for this OS. Always runs: it is the
 * fresh look at the machine every later choice is based on.
 */
export const diagnoseStep: SetupStep = {
  id: 'diagnose',
  title: 'Checking this computer',
  async isDone() {
    return { done: false, detail: 'always checked' };
  },
  async run(ctx) {
    const candidate = findInstallDir({ flag: ctx.flags.dir, env: ctx.io.env, cwd: ctx.io.cwd }).dir;
    ctx.report = await runDiagnosis({
      env: ctx.io.env,
      modelsDir: join(candidate, 'models'),
      // An engine this install already built makes missing build tools a warning, not a blocker.
      engineAddonPath: await installedAddon(candidate),
    });
    ctx.io.out(indent(formatReport(ctx.report)));
    if (!ctx.report.verdict.canGenerate) throw blockedError(ctx);
  },
};

async function installedAddon(installDir: string): Promise<string> {
  const fallback = join(installDir, 'engine', 'sd_engine.node');
  try {
    const config = await readInstallConfig(installDir);
    const stored = config?.engine?.addon;
    const path = stored ? resolveStoredPath(installDir, stored) : fallback;
    return existsSync(path) ? path : fallback;
  } catch {
    return fallback;
  }
}

function blockedError(ctx: SetupContext): UserError {
  const blockers = ctx.report!.findings.filter((f) => f.blocks === 'everything');
  const lines = blockers.map((f) => `  ✖ ${f.message}${f.fix ? `\n      → ${f.fix}` : ''}${f.link ? `\n        ${f.link}` : ''}`);
  return new UserError(`this computer cannot build and run the engine yet:\n${lines.join('\n')}`, {
    hint: 'fix the above, then run "npx sd-setup" again (it checks again and continues)',
  });
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');
}
