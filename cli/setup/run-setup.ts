import { emptyConfig, type InstallConfig } from '../config/install-config.js';
import type { Io } from '../io.js';
import { packageVersion } from '../version.js';
import type { Asker } from './asker.js';
import type { SetupContext, SetupFlags, SetupStep } from './context.js';
import { buildStep } from './step-build.js';
import { diagnoseStep } from './step-diagnose.js';
import { engineChoiceStep } from './step-engine-choice.js';
import { installDirStep } from './step-install-dir.js';
import { launchQuestions } from './step-launch.js';
import { memoryModeStep } from './step-memory-mode.js';
import { modelChoiceStep } from './step-model-choice.js';
import { modelDownloadStep } from './step-model-download.js';
import { smokeTestStep } from './step-smoke-test.js';

/** The sections the user sees, in order; each holds one or more steps. */
export const SECTIONS: readonly { title: string; steps: readonly SetupStep[] }[] = [
  { title: 'Checking this computer', steps: [diagnoseStep] },
  { title: 'Choices', steps: [installDirStep, modelChoiceStep, engineChoiceStep] },
  { title: 'Building the engine', steps: [buildStep] },
  { title: 'Testing the engine with the tiny model', steps: [smokeTestStep] },
  { title: 'Getting the model', steps: [modelDownloadStep] },
  { title: 'Memory mode', steps: [memoryModeStep] },
];

export interface SetupOutcome {
  installDir: string;
  config: InstallConfig;
  /** Start the web UI now. */
  launch: boolean;
}

/**
 * The guided install: every step in order, a finished one (verified by its
 * isDone) skipped, the config saved after each; the caller then launches the web UI.
 * Throws UserError/UsageError for problems the user can fix, AbortError when
 * stopped (Ctrl-C); what was finished stays finished for the next run.
 */
export async function runSetup(options: { io: Io; asker: Asker; flags: SetupFlags; signal: AbortSignal }): Promise<SetupOutcome> {
  const { io } = options;
  const ctx: SetupContext = {
    ...options,
    installDir: '',
    config: emptyConfig(packageVersion()),
    report: undefined,
    hfToken: undefined,
    platform: process.platform,
    say: (line) => io.err(`${line}\n`),
  };
  io.out(`sd-setup ${packageVersion()}: guided install\n`);
  for (const [index, section] of SECTIONS.entries()) {
    io.out(`\n[${index + 1}/${SECTIONS.length}] ${section.title}\n`);
    for (const step of section.steps) {
      options.signal.throwIfAborted();
      const check = await step.isDone(ctx);
      if (check.done) {
        ctx.say(`  ✔ already done: ${check.detail}`);
        continue;
      }
      if (check.detail && !/^always/.test(check.detail)) ctx.say(`  (${check.detail})`);
      await step.run(ctx);
    }
  }
  const launch = await launchQuestions(ctx);
  return { installDir: ctx.installDir, config: ctx.config, launch };
}
