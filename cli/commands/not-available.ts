import { defineCommand, type CommandSpec, type OptionSpec } from '../command.js';
import { ExitCode } from '../errors.js';

/**
 * A command whose issue has not landed yet. It accepts its documented flags
 * (so --help is already accurate) and says plainly that it does nothing yet.
 */
export function notAvailableCommand(spec: Omit<CommandSpec, 'run'> & { issue: string }): CommandSpec {
  return defineCommand({
    ...spec,
    async run({ io }) {
      io.err(`sd-setup ${spec.name} is not available yet in this version (${spec.issue}).\n`);
      return ExitCode.notAvailable;
    },
  });
}

export type { OptionSpec };
