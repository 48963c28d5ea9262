import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { commands } from '../../cli/commands/index.js';
import { runCli } from '../helpers/run-cli.js';

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

describe('command line', () => {
  it('prints the package version', async () => {
    for (const argv of [['--version'], ['-V'], ['doctor', '--version']]) {
      const r = await runCli(argv);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `${version}\n`);
    }
  });

  it('lists every command in --help', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0);
    for (const name of ['setup', 'doctor', 'download', 'build', 'generate', 'serve', 'launch']) {
      assert.match(r.stdout, new RegExp(`^  ${name}\\b`, 'm'));
    }
  });

  it('has --help for every command, naming its own options', async () => {
    for (const command of commands) {
      const r = await runCli([command.name, '--help']);
      assert.equal(r.code, 0, command.name);
      assert.match(r.stdout, new RegExp(`Usage: sd-setup ${command.name}`));
      for (const option of Object.keys(command.options)) assert.match(r.stdout, new RegExp(`--${option}\\b`));
    }
  });

  it('rejects an unknown flag by name with exit code 2', async () => {
    const r = await runCli(['doctor', '--frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option --frobnicate for "sd-setup doctor"/);
  });

  it('rejects an unknown command with the list of commands', async () => {
    const r = await runCli(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "frobnicate"/);
    assert.match(r.stderr, /doctor/);
  });

  it('rejects a string option given without its value', async () => {
    const r = await runCli(['download', '--dir']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /option --dir needs a value/);
  });

  it('rejects stray positional arguments', async () => {
    const r = await runCli(['doctor', 'extra']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unexpected argument "extra"/);
  });
});
