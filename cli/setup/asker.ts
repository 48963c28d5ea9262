import confirmPrompt from '@inquirer/confirm';
import inputPrompt from '@inquirer/input';
import passwordPrompt from '@inquirer/password';
import selectPrompt from '@inquirer/select';
import { UsageError } from '../errors.js';

export interface Choice<T extends string> {
  value: T;
  /** The line in the list. */
  name: string;
  /** Shown under the list while the choice is highlighted. */
  description?: string;
  /** Why it cannot be picked (shown greyed out), or absent. */
  disabled?: string;
}

interface Question {
  /** The flag that answers it without a prompt, e.g. "--model". */
  flag: string;
  message: string;
}

/**
 * Asks the guided install's questions. Three ways to answer, decided once:
 *   prompt    a terminal is there (and CI is not set): real inquirer prompts;
 *   defaults  --yes: every question with a recommended answer takes it, silently;
 *   never     no terminal or CI=true without --yes: nothing is asked.
 * A question that cannot be answered is a UsageError naming its flag, so a
 * script learns exactly what to add. Flags are read before asking at all (the
 * steps check them), so an answered question never reaches here.
 */
export interface Asker {
  readonly mode: 'prompt' | 'defaults' | 'never';
  select<T extends string>(q: Question & { choices: Choice<T>[]; default?: T | undefined }): Promise<T>;
  input(q: Question & { default?: string | undefined; validate?: (value: string) => string | true }): Promise<string>;
  password(q: Question & { validate?: (value: string) => string | true }): Promise<string>;
  /** Yes/no questions have an answer without a terminal too: `unattended` (a flag turns it on). */
  confirm(q: Question & { default: boolean; unattended: boolean }): Promise<boolean>;
}

export interface AskerStreams {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  signal?: AbortSignal | undefined;
}

export function missingAnswer(q: Question, mode: 'defaults' | 'never', why: string): UsageError {
  return new UsageError(
    `missing ${q.flag}: "${q.message}" needs an answer and ${why}`,
    mode === 'never'
      ? `pass ${q.flag} (and the other answers as flags), or --yes to accept the recommended answers; "sd-setup setup --help" lists them`
      : `pass ${q.flag}; --yes only fills in questions that have a recommended answer`,
  );
}

export function createAsker(mode: Asker['mode'], streams: AskerStreams, nonInteractiveWhy = 'there is no terminal to ask on'): Asker {
  const context = { input: streams.input, output: streams.output, clearPromptOnDone: false, ...(streams.signal ? { signal: streams.signal } : {}) };
  const unanswerable = (q: Question) =>
    mode === 'never' ? missingAnswer(q, 'never', nonInteractiveWhy) : missingAnswer(q, 'defaults', 'it has no recommended answer');
  return {
    mode,
    async select(q) {
      if (mode === 'prompt') {
        return selectPrompt(
          {
            message: q.message,
            choices: q.choices.map((c) => ({ value: c.value, name: c.name, ...(c.description ? { description: c.description } : {}), ...(c.disabled ? { disabled: c.disabled } : {}) })),
            ...(q.default !== undefined ? { default: q.default } : {}),
            loop: false,
          },
          context,
        ) as Promise<typeof q.choices[number]['value']>;
      }
      if (mode === 'defaults' && q.default !== undefined) return q.default;
      throw unanswerable(q);
    },
    async input(q) {
      if (mode === 'prompt') {
        return inputPrompt(
          { message: q.message, ...(q.default !== undefined ? { default: q.default } : {}), ...(q.validate ? { validate: q.validate } : {}) },
          context,
        );
      }
      if (mode === 'defaults' && q.default !== undefined) return q.default;
      throw unanswerable(q);
    },
    async password(q) {
      if (mode === 'prompt') return passwordPrompt({ message: q.message, mask: '*', ...(q.validate ? { validate: q.validate } : {}) }, context);
      throw unanswerable(q);
    },
    async confirm(q) {
      if (mode === 'prompt') return confirmPrompt({ message: q.message, default: q.default }, context);
      return q.unattended;
    },
  };
}

/** How the install asks: --yes never prompts; neither does a run without a terminal or under CI. */
export function askerMode(options: { yes: boolean; stdinIsTTY: boolean; stdoutIsTTY: boolean; env: NodeJS.ProcessEnv }): { mode: Asker['mode']; why: string } {
  if (options.yes) return { mode: 'defaults', why: '' };
  if (isCI(options.env)) return { mode: 'never', why: 'CI is set (nothing is asked under CI)' };
  if (!options.stdinIsTTY || !options.stdoutIsTTY) return { mode: 'never', why: 'there is no terminal to ask on' };
  return { mode: 'prompt', why: '' };
}

/** CI=true (GitHub Actions, GitLab, most others) or CI=1; "false" and "0" mean not CI. */
export function isCI(env: NodeJS.ProcessEnv): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

/** Inquirer's Ctrl-C (the terminal is raw while a prompt runs, so it arrives as a key, not SIGINT). */
export function isPromptExit(error: unknown): boolean {
  return error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError');
}
