#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCommandArgs } from './args.js';
import { commands, findCommand } from './commands/index.js';
import { ExitCode, UsageError, UserError } from './errors.js';
import { commandHelp, programHelp } from './help.js';
import { processIo, type Io } from './io.js';
import { packageVersion } from './version.js';

/** Runs the CLI with `argv` (without node and script) and returns the exit code; never exits itself. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  try {
    const [first, ...rest] = argv;
    if (first === '--version' || first === '-V') {
      io.out(`${packageVersion()}\n`);
      return ExitCode.ok;
    }
    if (first === '--help' || first === '-h' || first === 'help') {
      io.out(programHelp(commands, packageVersion()));
      return ExitCode.ok;
    }
    const named = first !== undefined && !first.startsWith('-');
    const command = named ? findCommand(first) : findCommand('setup');
    if (!command) {
      throw new UsageError(`unknown command "${first}"`, `commands: ${commands.map((c) => c.name).join(', ')}`);
    }
    const parsed = parseCommandArgs(command, named ? rest : argv);
    if (parsed.values.help) {
      io.out(commandHelp(command));
      return ExitCode.ok;
    }
    if (parsed.values.version) {
      io.out(`${packageVersion()}\n`);
      return ExitCode.ok;
    }
    return await command.run({ values: parsed.values, positionals: parsed.positionals, io });
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: Io): number {
  if (error instanceof UserError) {
    io.err(`error: ${error.message}\n`);
    if (error.hint) io.err(`  ${error.hint}\n`);
    return error.exitCode;
  }
  io.err(`sd-setup crashed — this is a bug, please report it with the lines below:\n`);
  io.err(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return ExitCode.failure;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    // npx and npm link start us through a symlink in node_modules/.bin.
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await main(process.argv.slice(2));
}
