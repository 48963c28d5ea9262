import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { downloadModel, DownloadError, type DownloadEvent, type DownloadModelOptions } from '../../cli/download/index.js';
import { serveBytes, sha256Of, startServer, testFile, type TestServer } from '../helpers/file-server.js';

// The resumable fetch against real HTTP servers on 127.0.0.1 serving a few MB.
// Every test checks the final file's SHA-256 (computed here with node:crypto)
// and that nothing half-written is left in the folder.

const file = testFile(6 * 1024 * 1024 + 123);
const fast = { retry: { baseDelayMs: 10, maxDelayMs: 40 } };

let root = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'sd-setup-dl-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(handler: Parameters<typeof startServer>[0], host?: string): Promise<TestServer> {
  const s = await startServer(handler, host);
  servers.push(s);
  return s;
}

let counter = 0;
/** A fresh models folder and an environment with no ambient token or home. */
function workspace(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = join(root, `w${counter++}`);
  return { dir, env: { HOME: join(dir, 'home'), HF_TOKEN_PATH: join(dir, 'no-token') } };
}

function run(options: DownloadModelOptions, events: DownloadEvent[] = []) {
  return downloadModel({ ...fast, ...options }, { onEvent: (e) => events.push(e) });
}

/** The folder holds exactly the verified file and its record: no .part, .part.json, .lock or temp files. */
function assertClean(dir: string, name: string): void {
  assert.deepEqual(readdirSync(dir).sort(), [name, `${name}.verified.json`].sort());
}

describe('resumable download', () => {
  it('downloads from a server with Range support and verifies it', async () => {
    const s = await server((req, res) => serveBytes(req, res, file.data, { etag: '"v1"' }));
    const { dir, env } = workspace();
    const r = await run({ url: `${s.origin}/m/model.safetensors`, sha256: file.sha256, dir, env });
    assert.equal(r.outcome, 'downloaded');
    assert.equal(r.path, join(dir, 'model.safetensors'));
    assert.equal(sha256Of(readFileSync(r.path)), file.sha256);
    assert.equal(r.bytes, file.data.length);
    assertClean(dir, 'model.safetensors');
    const record = JSON.parse(readFileSync(`${r.path}.verified.json`, 'utf8')) as { sha256: string; size: number };
    assert.equal(record.sha256, file.sha256);
    assert.equal(record.size, file.data.length);
  });

  it('resumes byte-exactly after the connection drops mid-body, with Range and If-Range', async () => {
    const s = await server((req, res, i) => serveBytes(req, res, file.data, { etag: '"v1"', ...(i === 0 ? { dropAfter: 2_500_000 } : {}) }));
    const { dir, env } = workspace();
    const events: DownloadEvent[] = [];
    const r = await run({ url: `${s.origin}/model.bin`, sha256: file.sha256, dir, env }, events);
    assert.equal(sha256Of(readFileSync(r.path)), file.sha256);
    assert.equal(s.requests.length, 2);
    assert.equal(s.requests[0]!.range, undefined);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(s.requests[1]!.range ?? '')?.[1]);
    assert.ok(resumedAt > 0 && resumedAt <= 2_500_000, `resumed at ${s.requests[1]!.range}`);
    assert.equal(s.requests[1]!.ifRange, '"v1"');
    assert.ok(events.some((e) => e.kind === 'retry'));
    assertClean(dir, 'model.bin');
  });

  it('starts over when the server ignores Range, without splicing', async () => {
    const s = await server((req, res, i) => serveBytes(req, res, file.data, { ranges: false, ...(i === 0 ? { dropAfter: 2_000_000 } : {}) }));
    const { dir, env } = workspace();
    const events: DownloadEvent[] = [];
    const r = await run({ url: `${s.origin}/model.bin`, sha256: file.sha256, dir, env }, events);
    assert.equal(sha256Of(readFileSync(r.path)), file.sha256);
    assert.match(s.requests[1]!.range ?? '', /^bytes=\d+-$/, 'it asked to resume');
    assert.ok(events.some((e) => e.kind === 'restart' && /whole file/.test(e.message)));
    assertClean(dir, 'model.bin');
  });

  it('starts over when the file changed on the server (If-Range no longer matches)', async () => {
    const old = testFile(file.data.length);
    const { dir, env } = workspace();
    // A previous run kept 3 MB of the old version, with its ETag.
    const s = await server((req, res) => serveBytes(req, res, file.data, { etag: '"new"' }));
    const url = `${s.origin}/model.bin`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.bin.part'), old.data.subarray(0, 3_000_000));
    writeFileSync(join(dir, 'model.bin.part.json'), JSON.stringify({ sha256: file.sha256, url, etag: '"old"' }));
    const r = await run({ url, sha256: file.sha256, dir, env });
    assert.equal(sha256Of(readFileSync(r.path)), file.sha256);
    assert.equal(s.requests[0]!.range, 'bytes=3000000-');
    assert.equal(s.requests[0]!.ifRange, '"old"');
    assert.equal(r.resumedFrom, 3_000_000);
    assertClean(dir, 'model.bin');
  });

  it('finishes a part that is already complete (416 to the resume request) without downloading again', async () => {
    const s = await server((req, res) => serveBytes(req, res, file.data, { etag: '"v1"' }));
    const url = `${s.origin}/model.bin`;
    const { dir, env } = workspace();
    mkdirSync(dir, { recursive: true });
    // Killed after the last byte but before the rename.
    writeFileSync(join(dir, 'model.bin.part'), file.data);
    writeFileSync(join(dir, 'model.bin.part.json'), JSON.stringify({ sha256: file.sha256, url, etag: '"v1"' }));
    const r = await run({ url, sha256: file.sha256, dir, env });
    assert.equal(sha256Of(readFileSync(r.path)), file.sha256);
    assert.equal(s.requests.length, 1);
    assert.equal(s.requests[0]!.range, `bytes=${file.data.length}-`);
    assert.equal(s.bytesSent(), 0);
    assertClean(dir, 'model.bin');
  });

  it('retries a 500 and then succeeds', async () => {
    const s = await server((req, res, i) => {
      if (i === 0) {
        res.writeHead(500).end('busy');
        return;
      }
      return serveBytes(req, res, file.data);
    });
    const { dir, env } = workspace();
    const events: DownloadEvent[] = [];
    const r = await run({ url: `${s.origin}/model.bin`, sha256: file.sha256, dir, env }, events);
    assert.equal(sha256Of(readFileSync(r.path)), file.sha256);
    assert.equal(s.requests.length, 2);
    assert.ok(events.some((e) => e.kind === 'retry' && /HTTP 500/.test(e.message)));
    assertClean(dir, 'model.bin');
  });

  it('gives up after the configured attempts when the server keeps failing, keeping nothing in place', async () => {
    const s = await server((_req, res) => void res.writeHead(503).end());
    const { dir, env } = workspace();
    await assert.rejects(
      run({ url: `${s.origin}/model.bin`, sha256: file.sha256, dir, env, retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 10 } }),
      (e: unknown) => e instanceof DownloadError && e.code === 'network' && /3 times in a row: the server answered HTTP 503/.test(e.message),
    );
    assert.equal(s.requests.length, 3);
    assert.ok(!readdirSync(dir).includes('model.bin'));
    assert.ok(!readdirSync(dir).includes('model.bin.lock'));
  });

  it('drops a stalled connection after the idle timeout and resumes', async () => {
    const s = await server((req, res, i) => serveBytes(req, res, file.data, { etag: '"v1"', ...(i === 0 ? { stallAfter: 1_000_000 } : {}) }));
    const { dir, env } = workspace();
    const events: DownloadEvent[] = [];
    const started = Date.now();
    const r = await run({ url: `${s.origin}/model.bin`, sha256: file.sha256, dir, env, timeouts: { idleMs: 400 } }, events);
    assert.equal(sha256Of(readFileSync(r.path)), file.sha256);
    assert.match(s.requests[1]!.range ?? '', /^bytes=[1-9]\d*-$/);
    assert.ok(events.some((e) => e.kind === 'retry' && /no data received/.test(e.message)), JSON.stringify(events));
    assert.ok(Date.now() - started < 10_000);
    assertClean(dir, 'model.bin');
  });

  it('deletes wrong bytes and says so (hash mismatch)', async () => {
    const wrong = testFile(file.data.length);
    const s = await server((req, res) => serveBytes(req, res, wrong.data));
    const { dir, env } = workspace();
    await assert.rejects(
      run({ url: `${s.origin}/model.bin`, sha256: file.sha256, dir, env }),
      (e: unknown) =>
        e instanceof DownloadError &&
        e.code === 'checksum-mismatch' &&
        e.message.includes(wrong.sha256) &&
        e.message.includes(file.sha256) &&
        /deleted/.test(e.message),
    );
    assert.deepEqual(readdirSync(dir), []);
  });

  it('restarts once from zero when a resumed download fails verification', async () => {
    const s = await server((req, res) => serveBytes(req, res, file.data));
    const url = `${s.origin}/model.bin`;
    const { dir, env } = workspace();
    mkdirSync(dir, { recursive: true });
    // A kept part whose bytes are damaged (right length, wrong content).
    writeFileSync(join(dir, 'model.bin.part'), Buffer.alloc(1_000_000, 7));
    writeFileSync(join(dir, 'model.bin.part.json'), JSON.stringify({ sha256: file.sha256, url }));
    const events: DownloadEvent[] = [];
    const r = await run({ url, sha256: file.sha256, dir, env }, events);
    assert.equal(sha256Of(readFileSync(r.path)), file.sha256);
    assert.deepEqual(
      s.requests.map((q) => q.range),
      ['bytes=1000000-', undefined],
    );
    assert.ok(events.some((e) => e.kind === 'restart' && /failed verification/.test(e.message)));
    assertClean(dir, 'model.bin');
  });

  it('names the URL on 404', async () => {
    const s = await server((_req, res) => void res.writeHead(404).end('no'));
    const { dir, env } = workspace();
    const url = `${s.origin}/missing/model.bin`;
    await assert.rejects(
      run({ url, sha256: file.sha256, dir, env }),
      (e: unknown) => e instanceof DownloadError && e.code === 'not-found' && e.message.includes(url) && /404/.test(e.message),
    );
    assert.deepEqual(readdirSync(dir), []);
  });

  it('does not download an already verified file again, and re-hashes one whose mtime changed', async () => {
    const s = await server((req, res) => serveBytes(req, res, file.data));
    const { dir, env } = workspace();
    const url = `${s.origin}/model.bin`;
    const first = await run({ url, sha256: file.sha256, dir, env });
    assert.equal(s.requests.length, 1);
    const second = await run({ url, sha256: file.sha256, dir, env });
    assert.equal(second.outcome, 'present');
    assert.equal(s.requests.length, 1, 'no request for a verified file');
    // Same bytes, new mtime: the record no longer vouches for it, so it is hashed (not downloaded).
    writeFileSync(first.path, file.data);
    const events: DownloadEvent[] = [];
    const third = await run({ url, sha256: file.sha256, dir, env }, events);
    assert.equal(third.outcome, 'present');
    assert.equal(s.requests.length, 1);
    assert.ok(events.some((e) => /checking the SHA-256/.test(e.message)));
    // Damaged in place (same size): downloaded again and replaced.
    const damaged = Buffer.from(file.data);
    damaged[12345] = damaged[12345]! ^ 0xff;
    writeFileSync(first.path, damaged);
    const fourth = await run({ url, sha256: file.sha256, dir, env });
    assert.equal(fourth.outcome, 'downloaded');
    assert.equal(s.requests.length, 2);
    assert.equal(sha256Of(readFileSync(first.path)), file.sha256);
    assertClean(dir, 'model.bin');
  });

  it('refuses a server file whose size is not the expected one, before downloading it', async () => {
    const s = await server((req, res) => serveBytes(req, res, file.data));
    const { dir, env } = workspace();
    await assert.rejects(
      run({ url: `${s.origin}/model.bin`, sha256: file.sha256, size: file.data.length + 1, dir, env }),
      (e: unknown) => e instanceof DownloadError && e.code === 'size-mismatch',
    );
    assert.ok(s.bytesSent() < file.data.length, 'the body was not downloaded');
    assert.ok(!readdirSync(dir).includes('model.bin'));
  });

  it('stops on abort, keeping a resumable part and no lock', async () => {
    const s = await server((req, res) => serveBytes(req, res, file.data, { chunkDelayMs: 5 }));
    const { dir, env } = workspace();
    const controller = new AbortController();
    const url = `${s.origin}/model.bin`;
    const pending = downloadModel(
      { url, sha256: file.sha256, dir, env },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.bytes > 1_000_000) controller.abort();
        },
      },
    );
    await assert.rejects(pending, (e: unknown) => e instanceof DownloadError && e.code === 'aborted' && /run the same command again/.test(e.hint ?? ''));
    assert.deepEqual(readdirSync(dir).sort(), ['model.bin.part', 'model.bin.part.json']);
    const r = await run({ url, sha256: file.sha256, dir, env });
    assert.ok(r.resumedFrom > 1_000_000);
    assert.equal(sha256Of(readFileSync(r.path)), file.sha256);
    assertClean(dir, 'model.bin');
  });
});
