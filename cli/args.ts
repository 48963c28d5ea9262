import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CommandSpec, OptionValues } from './command.js';
import { UsageError } from './errors.js';

export const globalOptions = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  version: { type: 'boolean', short: 'V', description: 'print the version' },
} as const;

export interface ParsedCommandLine {
  values: OptionValues;
  positionals: string[];
}

/**
 * Parses one command's arguments strictly: an unknown flag, a missing value or
 * a stray argument is a UsageError that names it, never silently ignored.
 */
export function parseCommandArgs(spec: CommandSpec, argv: readonly string[]): ParsedCommandLine {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, opt] of Object.entries({ ...spec.options, ...globalOptions })) {
    options[name] = {
      type: opt.type,
      ...(opt.short === undefined ? {} : { short: opt.short }),
      ...('multiple' in opt && opt.multiple ? { multiple: true } : {}),
    };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(describeParseError(spec.name, error), `run "sd-setup ${spec.name} --help" to see the options`);
  }
  const values = parsed.values as OptionValues;
  const max = spec.positionals?.max ?? 0;
  if (!values.help && !values.version && parsed.positionals.length > max) {
    const extra = parsed.positionals[max];
    throw new UsageError(
      `unexpected argument "${extra}" for "sd-setup ${spec.name}"`,
      `run "sd-setup ${spec.name} --help" to see what it accepts`,
    );
  }
  return { values, positionals: parsed.positionals };
}

function describeParseError(command: string, error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag) return `unknown option ${flag} for "sd-setup ${command}"`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag) {
    return /argument missing/.test(message)
      ? `option ${flag} needs a value`
      : `option ${flag} does not take a value`;
  }
  return message;
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function booleanOption(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

/** An integer option within [min, max]; the message names the flag and the range. */
export function integerOption(values: OptionValues, name: string, min: number, max: number): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** A decimal option within [min, max]. */
export function numberOption(values: OptionValues, name: string, min: number, max: number): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}
