import type { CommandSpec } from '../command.js';
import { buildCommand } from './build.js';
import { doctorCommand } from './doctor.js';
import { downloadCommand } from './download.js';
import { generateCommand } from './generate.js';
import { launchCommand } from './launch.js';
import { serveCommand } from './serve.js';
import { setupCommand } from './setup.js';

/** Order is the order of `sd-setup --help`: the journey a new user takes. */
export const commands: readonly CommandSpec[] = [
  setupCommand,
  doctorCommand,
  downloadCommand,
  buildCommand,
  generateCommand,
  serveCommand,
  launchCommand,
];

export function findCommand(name: string): CommandSpec | undefined {
  return commands.find((c) => c.name === name || c.aliases?.includes(name));
}
