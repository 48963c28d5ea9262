import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/run-cli.js';

interface Serving {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stderr: () => string;
}

/** Starts `sd-setup serve ARGS` and resolves with the URL it prints ("Running on local URL:  ..."). */
function serve(args: string[]): Promise<Serving> {
  const child = spawn(process.execPath, ['dist/cli/main.js', 'serve', ...args], { env: { ...process.env, SD_SETUP_HOME: tmpdir() } });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no URL in 30 s; stderr: ${stderr}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const url = /Running on local URL: {2}(http:\/\/\S+)/.exec(stdout)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url, stderr: () => stderr });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${stderr}`));
    });
  });
}

function exitCode(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('sd-setup serve', { timeout: 120_000 }, () => {
  const empty = mkdtempSync(join(tmpdir(), 'sd-setup-models-'));
  after(() => rmSync(empty, { recursive: true, force: true }));

  it('serves the tiny model on 127.0.0.1 and stops cleanly on SIGTERM', async () => {
    const s = await serve(['--model', 'tiny', '--port', '0', '--outdir', empty]);
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const models = (await (await fetch(`${s.url}/sdapi/v1/sd-models`)).json()) as { model_name: string }[];
    assert.equal(models[0]!.model_name, 'tiny-sd1');
    const made = await fetch(`${s.url}/sdapi/v1/txt2img`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x', steps: 2, width: 64, height: 64 }) });
    assert.equal(made.status, 200);
    assert.match(s.stderr(), /txt2img 64x64/);
    const exited = exitCode(s.child);
    s.child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });

  it('warns loudly when --listen has no --api-auth', async () => {
    const s = await serve(['--model', 'tiny', '--port', '0', '--listen']);
    assert.match(s.stderr(), /WARNING: --listen without --api-auth/);
    const exited = exitCode(s.child);
    s.child.kill('SIGINT');
    assert.equal(await exited, 0);
  });

  it('says when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCli(['serve', '--model', 'tiny', '--port', String(port)]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      blocker.close();
    }
  });

  it('explains a missing model and wrong flags', async () => {
    const none = await runCli(['serve', '--models-dir', empty]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no checkpoint in .*\n.*--model tiny/);
    const named = await runCli(['serve', '--model', 'sd-v1-5', '--models-dir', empty]);
    assert.equal(named.code, 1);
    assert.match(named.stderr, /no model "sd-v1-5"/);
    assert.equal((await runCli(['serve', '--model', 'tiny', '--lowvram', '--medvram'])).code, 2);
    assert.equal((await runCli(['serve', '--model', 'tiny', '--port', '70000'])).code, 2);
    const auth = await runCli(['serve', '--model', 'tiny', '--api-auth', 'nopassword']);
    assert.equal(auth.code, 2);
    assert.match(auth.stderr, /--api-auth needs user:password/);
  });
});
