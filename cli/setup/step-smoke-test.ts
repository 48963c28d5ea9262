import { resolveStoredPath } from '../config/config-file.js';
import { matchFailureHint } from '../build/failure-hints.js';
import { UserError } from '../errors.js';
import { saveConfig, type SetupStep } from './context.js';
import { runSmokeTest } from './run-smoke-test.js';

/**
 * Step 4: the new engine makes a 64×64 image with the tiny model that ships in
 * the package (about a second), before gigabytes are downloaded for it. Done
 * when this exact addon (by SHA-256) already passed on this backend.
 */
export const smokeTestStep: SetupStep = {
  id: 'smoke-test',
  title: 'Testing the engine with the tiny model',
  async isDone(ctx) {
    const engine = ctx.config.engine;
    const passed = ctx.config.smokeTest;
    if (!engine) return { done: false, detail: 'no engine yet' };
    if (passed && passed.addonSha256 === engine.sha256 && passed.backend === engine.backend) {
      return { done: true, detail: `passed ${passed.passedAt} (${passed.seconds.toFixed(1)} s)` };
    }
    return { done: false, detail: 'not run on this engine yet' };
  },
  async run(ctx) {
    const engine = ctx.config.engine!;
    const result = await runSmokeTest(resolveStoredPath(ctx.installDir, engine.addon), engine.backend, { env: ctx.io.env, signal: ctx.signal });
    if (!result.ok) {
      const hint = matchFailureHint(result.reason, ctx.platform);
      throw new UserError(`the new engine failed its test with the tiny model: ${result.reason}${hint ? `\n  cause: ${hint.message}` : ''}`, {
        hint: hint?.hint ?? `run "sd-setup build" to rebuild it${engine.backend === 'cuda' ? ', or choose the CPU engine (--engine cpu)' : ''}; if it keeps failing, please report it with "sd-setup doctor --json"`,
      });
    }
    ctx.say(`  ✔ made a 64×64 image in ${result.seconds.toFixed(1)} s on the ${engine.backend.toUpperCase()} engine`);
    ctx.config.smokeTest = { addonSha256: engine.sha256, backend: engine.backend, passedAt: new Date().toISOString(), seconds: result.seconds };
    await saveConfig(ctx);
  },
};
