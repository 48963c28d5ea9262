import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createExec } from '../../../cli/hardware/exec.js';

// The real Exec against real child processes: a probe must come back with facts, whatever the
// command does, and within its timeout.
describe('running external commands', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sd-exec-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const exec = createExec();
  const env = { PATH: '/usr/bin:/bin' };
  function script(name: string, body: string): string {
    const file = join(dir, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
  }

  it('returns output and exit code, even a failing one', async () => {
    const r = await exec(script('fails', 'echo out; echo err >&2; exit 9'), [], { env, timeoutMs: 5000 });
    assert.deepEqual([r.exitCode, r.stdout.trim(), r.stderr.trim(), r.notFound, r.timedOut], [9, 'out', 'err', false, false]);
  });

  it('passes arguments without a shell', async () => {
    const r = await exec(script('args', 'printf "%s|" "$@"'), ['--query-gpu=a,b', 'two words'], { env, timeoutMs: 5000 });
    assert.equal(r.stdout, '--query-gpu=a,b|two words|');
  });

  it('reports a missing command as not found', async () => {
    const r = await exec(join(dir, 'nvidia-smi'), [], { env, timeoutMs: 5000 });
    assert.deepEqual([r.notFound, r.exitCode], [true, null]);
  });

  it('kills a hung command at the timeout', async () => {
    const started = Date.now();
    const r = await exec(script('hangs', 'exec sleep 20'), [], { env, timeoutMs: 300 });
    assert.equal(r.timedOut, true);
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  });

  it('gives up on a command that ignores signals and whose child keeps its output open', async () => {
    // Like nvidia-smi stuck in the kernel: killing it does not free its pipes.
    const started = Date.now();
    const r = await exec(script('stuck', "trap '' TERM; sleep 4 & wait; sleep 4"), [], { env, timeoutMs: 300 });
    const ms = Date.now() - started;
    assert.equal(r.timedOut, true);
    assert.ok(ms < 3500, `took ${ms} ms`);
  });
});
