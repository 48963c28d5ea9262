import { globalOptions } from './args.js';
import type { CommandSpec, OptionSpec } from './command.js';

export function commandHelp(spec: CommandSpec): string {
  const positional = spec.positionals ? ` [${spec.positionals.name}]` : '';
  const lines = [`sd-setup ${spec.name} — ${spec.summary}`, '', `Usage: sd-setup ${spec.name}${positional} [options]`];
  if (spec.aliases?.length) lines.push(`Also: ${spec.aliases.map((a) => `sd-setup ${a}`).join(', ')}`);
  if (spec.details) lines.push('', spec.details.trim());
  if (spec.positionals) lines.push('', 'Arguments:', formatRow(spec.positionals.name, spec.positionals.description));
  lines.push('', 'Options:');
  for (const [name, opt] of Object.entries({ ...spec.options, ...globalOptions })) {
    lines.push(formatRow(optionLabel(name, opt), opt.description));
  }
  if (spec.examples.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return `${lines.join('\n')}\n`;
}

export function programHelp(commands: readonly CommandSpec[], version: string): string {
  const lines = [
    `sd-setup ${version} — set up and run Stable Diffusion on this computer`,
    '',
    'Usage: sd-setup [command] [options]',
    '',
    'With no command, runs the guided install (sd-setup setup).',
    '',
    'Commands:',
    ...commands.map((c) => formatRow([c.name, ...(c.aliases ?? [])].join(', '), c.summary)),
    '',
    'Run "sd-setup COMMAND --help" for the options of one command.',
  ];
  return `${lines.join('\n')}\n`;
}

function optionLabel(name: string, opt: Pick<OptionSpec, 'type' | 'short'> & { valueName?: string }): string {
  const flag = `${opt.short ? `-${opt.short}, ` : '    '}--${name}`;
  return opt.type === 'string' ? `${flag} ${opt.valueName ?? 'VALUE'}` : flag;
}

function formatRow(left: string, right: string): string {
  const pad = 28;
  return left.length >= pad - 2 ? `  ${left}\n${' '.repeat(pad)}${right}` : `  ${left.padEnd(pad - 2)}${right}`;
}
