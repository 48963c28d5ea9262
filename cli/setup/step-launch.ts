import { saveConfig, type SetupContext } from './context.js';

/**
 * After the last step: whether to start the web UI now (not with --no-launch),
 * and whether to open the browser (--open answers it; without a terminal it is not opened).
 */
export async function launchQuestions(ctx: SetupContext): Promise<boolean> {
  if (ctx.flags.noLaunch) {
    ctx.io.out(`\nAll set. Start the generator with: sd-setup launch${ctx.flags.dir ? ` --dir ${ctx.installDir}` : ''}\n`);
    return false;
  }
  if (!ctx.flags.open && ctx.asker.mode === 'prompt') {
    const open = await ctx.asker.confirm({ flag: '--open', message: 'Open the web UI in your browser when it is ready?', default: true, unattended: false });
    ctx.config.launch = { ...ctx.config.launch!, openBrowser: open };
    await saveConfig(ctx);
  }
  ctx.io.out('\nAll set. Next time, start the generator with: sd-setup launch\n\n');
  return true;
}
