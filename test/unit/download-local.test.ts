import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { downloadModel, DownloadError } from '../../cli/download/index.js';
import { serveBytes, sha256Of, startServer, testFile, type TestServer } from '../helpers/file-server.js';

// --from imports, the lock, and a full disk: the parts that touch the disk more than the network.

const file = testFile(4 * 1024 * 1024 + 99);

let root = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'sd-setup-local-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

let counter = 0;
function workspace(): { dir: string; env: NodeJS.ProcessEnv; scratch: string } {
  const base = join(root, `w${counter++}`);
  const scratch = join(base, 'scratch');
  mkdirSync(scratch, { recursive: true });
  return { dir: join(base, 'models'), env: { HOME: join(base, 'home'), HF_TOKEN_PATH: join(base, 'none') }, scratch };
}

describe('--from: importing a file the user already has', () => {
  it('links a good file on the same disk, verifies and registers it, leaving the original as it was', async () => {
    const { dir, env, scratch } = workspace();
    const source = join(scratch, 'my-download.safetensors');
    writeFileSync(source, file.data);
    const r = await downloadModel({ from: source, sha256: file.sha256, fileName: 'model.safetensors', dir, env });
    assert.equal(r.outcome, 'imported');
    assert.equal(sha256Of(readFileSync(r.path)), file.sha256);
    assert.equal(statSync(r.path).ino, statSync(source).ino, 'hard-linked, not copied');
    assert.equal(sha256Of(readFileSync(source)), file.sha256);
    assert.deepEqual(readdirSync(dir).sort(), ['model.safetensors', 'model.safetensors.verified.json']);
    const again = await downloadModel({ from: source, sha256: file.sha256, fileName: 'model.safetensors', dir, env });
    assert.equal(again.outcome, 'present');
  });

  it('copies (hashing as it writes) when the file is on another disk', async (t) => {
    const shm = '/dev/shm';
    const { dir, env } = workspace();
    mkdirSync(dir, { recursive: true });
    if (!existsSync(shm) || statSync(shm).dev === statSync(dir).dev) {
      t.skip('no second file system (/dev/shm) to copy across here');
      return;
    }
    const sourceDir = mkdtempSync(join(shm, 'sd-setup-'));
    try {
      const source = join(sourceDir, 'model.safetensors');
      writeFileSync(source, file.data);
      const events: string[] = [];
      const r = await downloadModel({ from: source, sha256: file.sha256, dir, env }, { onEvent: (e) => events.push(e.message) });
      assert.equal(r.outcome, 'imported');
      assert.equal(sha256Of(readFileSync(r.path)), file.sha256);
      assert.ok(events.some((m) => /^copying/.test(m)), events.join('\n'));
      assert.deepEqual(readdirSync(dir).sort(), ['model.safetensors', 'model.safetensors.verified.json']);
    } finally {
      rmSync(sourceDir, { recursive: true, force: true });
    }
  });

  it('refuses a bad file, leaves nothing behind and does not touch it', async () => {
    const { dir, env, scratch } = workspace();
    const wrong = testFile(file.data.length);
    const source = join(scratch, 'not-it.safetensors');
    writeFileSync(source, wrong.data);
    await assert.rejects(
      downloadModel({ from: source, sha256: file.sha256, fileName: 'model.safetensors', dir, env }),
      (e: unknown) => e instanceof DownloadError && e.code === 'checksum-mismatch' && e.message.includes(wrong.sha256) && e.message.includes(source),
    );
    assert.deepEqual(readdirSync(dir), []);
    assert.equal(sha256Of(readFileSync(source)), wrong.sha256);
  });

  it('refuses a file of the wrong size without hashing it', async () => {
    const { dir, env, scratch } = workspace();
    const source = join(scratch, 'short.safetensors');
    writeFileSync(source, file.data.subarray(0, 1000));
    await assert.rejects(
      downloadModel({ from: source, sha256: file.sha256, size: file.data.length, fileName: 'model.safetensors', dir, env }),
      (e: unknown) => e instanceof DownloadError && /is 1000 bytes/.test(e.message),
    );
    assert.deepEqual(readdirSync(dir), []);
  });

  it('says clearly when the --from file does not exist', async () => {
    const { dir, env, scratch } = workspace();
    await assert.rejects(
      downloadModel({ from: join(scratch, 'nope.ckpt'), sha256: file.sha256, dir, env }),
      (e: unknown) => e instanceof DownloadError && e.code === 'bad-input' && /nope\.ckpt/.test(e.message),
    );
  });
});

describe('unusable places', () => {
  it('says when the models folder cannot be created', async () => {
    const { env, scratch } = workspace();
    const notADir = join(scratch, 'a-file');
    writeFileSync(notADir, 'x');
    await assert.rejects(
      downloadModel({ url: 'http://127.0.0.1:9/model.bin', sha256: file.sha256, dir: join(notADir, 'models'), env }),
      (e: unknown) => e instanceof DownloadError && e.code === 'bad-input' && /cannot write in the models folder/.test(e.message) && /--dir/.test(e.hint ?? ''),
    );
  });

  it('reports a server that does not speak HTTP as a network error, not a crash', async () => {
    const sockets: Socket[] = [];
    const garbage = createServer((socket) => {
      sockets.push(socket);
      socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n');
    });
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    const { port } = garbage.address() as AddressInfo;
    const { dir, env } = workspace();
    try {
      await assert.rejects(
        downloadModel({ url: `http://127.0.0.1:${port}/model.bin`, sha256: file.sha256, dir, env, retry: { attempts: 2, baseDelayMs: 5 } }),
        (e: unknown) => e instanceof DownloadError && e.code === 'network' && e.message.includes(`127.0.0.1:${port}`),
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => garbage.close(resolve));
    }
  });
});

describe('the lock', () => {
  it('refuses to write a file another live process is writing', async () => {
    const { dir, env } = workspace();
    mkdirSync(dir, { recursive: true });
    // This test process is alive, so a lock naming it is held.
    writeFileSync(join(dir, 'model.bin.lock'), JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() }));
    await assert.rejects(
      downloadModel({ url: 'http://127.0.0.1:9/model.bin', sha256: file.sha256, dir, env }),
      (e: unknown) => e instanceof DownloadError && e.code === 'locked' && e.message.includes(String(process.pid)) && (e.hint ?? '').includes('model.bin.lock'),
    );
    assert.ok(existsSync(join(dir, 'model.bin.lock')), 'a live lock is left alone');
  });

  it('serialises two downloads of the same file in one process', async () => {
    const s = await startServer((req, res) => serveBytes(req, res, file.data, { chunkDelayMs: 2 }));
    servers.push(s);
    const { dir, env } = workspace();
    const url = `${s.origin}/model.bin`;
    const results = await Promise.allSettled([downloadModel({ url, sha256: file.sha256, dir, env }), downloadModel({ url, sha256: file.sha256, dir, env })]);
    const codes = results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as DownloadError).code)).sort();
    assert.deepEqual(codes, ['locked', 'ok']);
    assert.equal(sha256Of(readFileSync(join(dir, 'model.bin'))), file.sha256);
  });

  it('takes over a lock left by a process that died', async () => {
    const s = await startServer((req, res) => serveBytes(req, res, file.data));
    servers.push(s);
    const { dir, env } = workspace();
    mkdirSync(dir, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'model.bin.lock'), JSON.stringify({ pid: Number(dead.stdout), host: hostname(), started: '2020-01-01T00:00:00.000Z' }));
    const r = await downloadModel({ url: `${s.origin}/model.bin`, sha256: file.sha256, dir, env });
    assert.equal(sha256Of(readFileSync(r.path)), file.sha256);
    assert.deepEqual(readdirSync(dir).sort(), ['model.bin', 'model.bin.verified.json']);
  });
});

describe('a full disk', () => {
  // A real ENOSPC from the kernel without root: the part file is a symlink to
  // /dev/full, which fails every write with "No space left on device".
  it('stops with a clear message when a write fails with ENOSPC', async (t) => {
    if (!existsSync('/dev/full')) {
      t.skip('no /dev/full on this system');
      return;
    }
    const s = await startServer((req, res) => serveBytes(req, res, file.data));
    servers.push(s);
    const { dir, env } = workspace();
    mkdirSync(dir, { recursive: true });
    symlinkSync('/dev/full', join(dir, 'model.bin.part'));
    await assert.rejects(
      downloadModel({ url: `${s.origin}/model.bin`, sha256: file.sha256, dir, env, retry: { attempts: 2, baseDelayMs: 5 } }),
      (e: unknown) =>
        e instanceof DownloadError &&
        e.code === 'disk-full' &&
        /the disk filled up while downloading model\.bin/.test(e.message) &&
        /resumes where it stopped/.test(e.hint ?? '') &&
        (e.cause as NodeJS.ErrnoException).code === 'ENOSPC',
    );
    assert.equal(s.requests.length, 1, 'a full disk is not retried');
    assert.ok(!existsSync(join(dir, 'model.bin')));
    assert.ok(!existsSync(join(dir, 'model.bin.lock')));
  });

  it('refuses to start when the free space cannot hold the file', async () => {
    const huge = 10 ** 15; // 1 PB: more than any test machine has free
    const s = await startServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(huge) });
      res.flushHeaders();
    });
    servers.push(s);
    const { dir, env } = workspace();
    await assert.rejects(
      downloadModel({ url: `${s.origin}/huge.bin`, sha256: file.sha256, size: huge, dir, env }),
      (e: unknown) => e instanceof DownloadError && e.code === 'disk-full' && /not enough free disk space/.test(e.message) && /1000 TB/.test(e.message),
    );
    assert.equal(s.requests.length, 1);
    assert.deepEqual(readdirSync(dir), []);
  });
});
