import { ExitCode } from '../errors.js';
import type { Io } from '../io.js';
import { isPromptExit } from '../setup/asker.js';
import { onStopSignal } from '../stop-signal.js';

/**
 * Runs `work` with an AbortSignal that Ctrl-C (SIGINT) and SIGTERM fire. Work
 * that stops on it (a build, a download) leaves what is finished in place; the
 * user is told that running again continues. A second Ctrl-C is not caught.
 */
export async function interruptible(io: Io, work: (signal: AbortSignal) => Promise<number>, again: string): Promise<number> {
  const controller = new AbortController();
  const unlisten = onStopSignal(() => {
    io.err('\nstopping…\n');
    controller.abort();
  });
  try {
    return await work(controller.signal);
  } catch (error) {
    if (controller.signal.aborted || isPromptExit(error) || (error as Error)?.name === 'AbortError') {
      io.err(`stopped. Nothing is left half-done: run "${again}" to continue where it stopped.\n`);
      return ExitCode.interrupted;
    }
    throw error;
  } finally {
    unlisten();
  }
}
