import type { Io } from './io.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown in --help; say what the value means and give the default. */
  description: string;
  /** Placeholder in --help, e.g. DIR or MB. */
  valueName?: string;
}

export interface PositionalSpec {
  name: string;
  description: string;
  /** How many positionals the command accepts at most (default 0). */
  max: number;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface CommandContext {
  values: OptionValues;
  positionals: string[];
  io: Io;
}

export interface CommandSpec {
  name: string;
  aliases?: readonly string[];
  /** One line for the command list. */
  summary: string;
  /** Paragraphs shown under the usage line of `sd-setup CMD --help`. */
  details?: string;
  positionals?: PositionalSpec;
  options: Record<string, OptionSpec>;
  examples: readonly string[];
  run(ctx: CommandContext): Promise<number>;
}

export function defineCommand(spec: CommandSpec): CommandSpec {
  return spec;
}
