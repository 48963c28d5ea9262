import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { serveBytes, sha256Of, startServer, testFile, type TestServer } from '../helpers/file-server.js';

// `sd-setup download` as a user runs it: a real child process against a real
// server on 127.0.0.1, killed, interrupted and run again.

const cli = join('dist', 'cli', 'main.js');
const file = testFile(8 * 1024 * 1024 + 11);

let root = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'sd-setup-cli-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const servers: TestServer[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}

let counter = 0;
function workspace(): { dir: string; env: NodeJS.ProcessEnv; scratch: string } {
  const base = join(root, `w${counter++}`);
  mkdirSync(join(base, 'scratch'), { recursive: true });
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: join(base, 'home'), SD_SETUP_HOME: join(base, 'sd-home'), HF_TOKEN_PATH: join(base, 'none') };
  return { dir: join(base, 'models'), env, scratch: join(base, 'scratch') };
}

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function start(args: string[], env: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, [cli, 'download', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function partSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

describe('sd-setup download (spawned)', { timeout: 120_000 }, () => {
  it('resumes byte-exactly in a second process after the first is killed with SIGKILL', async () => {
    // The first answer trickles (64 kB every 15 ms) so the kill lands mid-body.
    const s = await server((req, res, i) => serveBytes(req, res, file.data, { etag: '"e1"', ...(i === 0 ? { chunkDelayMs: 15 } : {}) }));
    const { dir, env } = workspace();
    const args = ['--url', `${s.origin}/files/model.bin`, '--sha256', file.sha256, '--dir', dir];
    const part = join(dir, 'model.bin.part');
    const first = start(args, env);
    await until(() => partSize(part) >= 2_000_000, 'the first process to write 2 MB');
    first.child.kill('SIGKILL');
    const killed = await first.done;
    assert.equal(killed.signal, 'SIGKILL');
    const kept = partSize(part);
    assert.ok(kept > 0 && kept < file.data.length, `kept ${kept}`);
    assert.deepEqual(readFileSync(part), file.data.subarray(0, kept), 'the kept part is a prefix of the file');
    assert.ok(existsSync(join(dir, 'model.bin.lock')), 'the killed process left its lock');

    const second = await start(args, env).done;
    assert.equal(second.code, 0, second.stderr);
    assert.equal(s.requests.length, 2);
    assert.equal(s.requests[1]!.range, `bytes=${kept}-`);
    assert.equal(s.requests[1]!.ifRange, '"e1"');
    assert.match(second.stderr, /resuming at/);
    assert.match(second.stdout, /downloaded: .*model\.bin .*resumed at/);
    assert.equal(sha256Of(readFileSync(join(dir, 'model.bin'))), file.sha256);
    assert.deepEqual(readdirSync(dir).sort(), ['model.bin', 'model.bin.verified.json']);
  });

  it('stops cleanly on Ctrl-C (SIGINT), keeping a resumable part, then resumes', async () => {
    const s = await server((req, res, i) => serveBytes(req, res, file.data, { ...(i === 0 ? { chunkDelayMs: 15 } : {}) }));
    const { dir, env } = workspace();
    const args = ['--url', `${s.origin}/model.bin`, '--sha256', file.sha256, '--dir', dir];
    const first = start(args, env);
    await until(() => partSize(join(dir, 'model.bin.part')) >= 1_000_000, 'the download to start');
    first.child.kill('SIGINT');
    const stopped = await first.done;
    assert.equal(stopped.code, 130, stopped.stderr);
    assert.match(stopped.stderr, /stopped; .* kept in .*model\.bin\.part/);
    assert.match(stopped.stderr, /run the same command again to resume/);
    assert.deepEqual(readdirSync(dir).sort(), ['model.bin.part', 'model.bin.part.json']);

    const second = await start(args, env).done;
    assert.equal(second.code, 0, second.stderr);
    assert.match(s.requests[1]!.range ?? '', /^bytes=[1-9]\d*-$/);
    assert.equal(sha256Of(readFileSync(join(dir, 'model.bin'))), file.sha256);
  });

  it('prints plain progress lines and the result when not on a terminal', async () => {
    const s = await server((req, res) => serveBytes(req, res, file.data));
    const { env } = workspace();
    const r = await start(['--url', `${s.origin}/model.bin`, '--sha256', file.sha256], env).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^downloading model\.bin: /m);
    assert.doesNotMatch(r.stderr, /\r|\x1b\[/, 'no terminal control codes in a log');
    // No --dir: $SD_SETUP_HOME/models.
    const path = join(env.SD_SETUP_HOME!, 'models', 'model.bin');
    assert.ok(r.stdout.includes(path), r.stdout);
    assert.equal(sha256Of(readFileSync(path)), file.sha256);
  });

  it('explains a gated catalogue model (sd-v1-4) on 401', async () => {
    const s = await server((_req, res) => void res.writeHead(401, { 'x-error-code': 'GatedRepo' }).end());
    const { dir, env } = workspace();
    const r = await start(['sd-v1-4', '--dir', dir], { ...env, HF_ENDPOINT: s.origin }).done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /this model is gated: accept the license at https:\/\/huggingface\.co\/CompVis\/stable-diffusion-v-1-4-original and set HF_TOKEN/);
    assert.equal(s.requests[0]!.path, '/CompVis/stable-diffusion-v-1-4-original/resolve/main/sd-v1-4.ckpt');
    assert.deepEqual(readdirSync(dir), []);
  });

  it('imports a good file with --from and refuses a bad one', async () => {
    const { dir, env, scratch } = workspace();
    const good = join(scratch, 'good.bin');
    const bad = join(scratch, 'bad.bin');
    writeFileSync(good, file.data);
    writeFileSync(bad, testFile(1000).data);
    const ok = await start(['--from', good, '--sha256', file.sha256, '--dir', dir], env).done;
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /imported: /);
    assert.equal(sha256Of(readFileSync(join(dir, 'good.bin'))), file.sha256);
    const refused = await start(['--from', bad, '--sha256', file.sha256, '--dir', dir], env).done;
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /bad\.bin is not bad\.bin: its SHA-256 is [0-9a-f]{64}, expected/);
    assert.deepEqual(readdirSync(dir).sort(), ['good.bin', 'good.bin.verified.json']);
  });

  it('lists the catalogue with what is in the models folder', async () => {
    const { env } = workspace();
    const r = await start([], env).done;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(join(env.SD_SETUP_HOME!, 'models')));
    assert.match(r.stdout, /sd-v1-5 .*\n.*v1-5-pruned-emaonly\.safetensors, 4\.27 GB — not downloaded/);
    assert.match(r.stdout, /sd-v1-4 .*\n.*sd-v1-4\.ckpt, 4\.27 GB, gated/);
  });

  it('rejects conflicting or incomplete options', async () => {
    const { env } = workspace();
    const both = await start(['--url', 'http://127.0.0.1:9/a', '--from', 'x', '--sha256', file.sha256], env).done;
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--url or --from, not both/);
    const unknown = await start(['sd-v9'], env).done;
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown model "sd-v9"/);
  });
});
