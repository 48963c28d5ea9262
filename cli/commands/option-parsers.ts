import { stringOption } from '../args.js';
import type { OptionValues } from '../command.js';
import { UsageError } from '../errors.js';

/** A string option that must be one of `allowed`; the message lists them. */
export function choiceOption<T extends string>(values: OptionValues, name: string, allowed: readonly T[]): T | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const value = raw.trim().toLowerCase();
  if (!allowed.includes(value as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return value as T;
}
