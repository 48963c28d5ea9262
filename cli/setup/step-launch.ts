import { saveConfig, type SetupContext } from './context.js';
import { runLaunch } from '../launch/run-launch.js';

/**
 * The last step: start the web UI (unless --no-launch), after asking whether to
 * open the browser (--open answers it; without a terminal it is not opened).
 */
export async function launchAfterSetup(ctx: SetupContext): Promise<number> {
  const where = ctx.installDir;
  if (ctx.flags.noLaunch) {
    ctx.io.out(`\nAll set. Start the generator with: sd-setup launch${ctx.flags.dir ? ` --dir ${where}` : ''}\n`);
    return 0;
  }
  if (!ctx.flags.open && ctx.asker.mode === 'prompt') {
    const open = await ctx.asker.confirm({ flag: '--open', message: 'Open the web UI in your browser when it is ready?', default: true, unattended: false });
    ctx.config.launch = { ...ctx.config.launch!, openBrowser: open };
    await saveConfig(ctx);
  }
  ctx.io.out('\nAll set. Next time, start the generator with: sd-setup launch\n\n');
  return runLaunch(ctx.io, where, ctx.config, { ...(ctx.flags.port !== undefined ? { port: ctx.flags.port } : {}) });
}
