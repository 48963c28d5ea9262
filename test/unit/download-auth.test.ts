import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { parseCatalogue, type Catalogue } from '../../cli/download/catalogue.js';
import { downloadModel, DownloadError } from '../../cli/download/index.js';
import { serveBytes, sha256Of, startServer, testFile, type TestServer } from '../helpers/file-server.js';

// Tokens, gated models and redirects, against real servers on loopback:
// "localhost" plays huggingface.co and 127.0.0.2 plays its CDN.

const file = testFile(3 * 1024 * 1024 + 7);
const token = 'hf_test_token_123';
const fast = { retry: { baseDelayMs: 10, maxDelayMs: 40 } };

let root = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'sd-setup-auth-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

let counter = 0;
function workspace(extra: NodeJS.ProcessEnv = {}): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = join(root, `w${counter++}`);
  return { dir, env: { HOME: join(dir, 'home'), HF_TOKEN_PATH: join(dir, 'no-token'), ...extra } };
}

/** A one-model catalogue like assets/models.json, for the test file. */
function catalogue(gated: boolean): Catalogue {
  return parseCatalogue(
    {
      schema: 1,
      models: [
        {
          id: 'tiny',
          title: 'test model',
          file: 'tiny.safetensors',
          huggingface: { repo: 'org/tiny', revision: 'main', file: 'tiny.safetensors' },
          size: file.data.length,
          sha256: file.sha256,
          gated,
          page: 'https://huggingface.co/org/tiny',
          license: 'test',
          sources: ['test'],
        },
      ],
      bundled: [],
    },
    'test',
  );
}

/** A "Hugging Face" on the address localhost resolves to, demanding the token like a gated repo. */
async function hub(answer: (authorized: boolean, res: import('node:http').ServerResponse, req: import('node:http').IncomingMessage) => void | Promise<void>) {
  const { address } = await lookup('localhost');
  const s = await startServer((req, res) => answer(req.headers.authorization === `Bearer ${token}`, res, req), address);
  servers.push(s);
  return { server: s, endpoint: s.origin.replace(address.includes(':') ? `[${address}]` : address, 'localhost') };
}

/** Only the verified file and its record remain: no .part, .part.json or .lock. */
function assertClean(dir: string, name: string): void {
  assert.deepEqual(readdirSync(dir).sort(), [name, `${name}.verified.json`].sort());
}

describe('tokens, gated models and redirects', () => {
  it('fetches the resolve URL with the token and never sends the token to the CDN host it redirects to', async (t) => {
    let cdn: TestServer;
    try {
      cdn = await startServer((req, res) => serveBytes(req, res, file.data, { etag: '"sha"' }), '127.0.0.2');
    } catch (error) {
      t.skip(`127.0.0.2 is not usable here (${(error as Error).message})`);
      return;
    }
    servers.push(cdn);
    const { server, endpoint } = await hub((authorized, res) => {
      if (!authorized) return void res.writeHead(401, { 'x-error-code': 'GatedRepo' }).end();
      res.writeHead(302, { location: `${cdn.origin}/cdn/blob?signature=abc` }).end();
    });
    const { dir, env } = workspace({ HF_ENDPOINT: endpoint, HF_TOKEN: token });
    const r = await downloadModel({ ...fast, model: 'tiny', dir, env, catalogue: catalogue(true) });
    assert.equal(sha256Of(readFileSync(r.path)), file.sha256);
    assertClean(dir, 'tiny.safetensors');
    assert.equal(server.requests[0]!.path, '/org/tiny/resolve/main/tiny.safetensors');
    assert.equal(server.requests[0]!.authorization, `Bearer ${token}`);
    assert.equal(cdn.requests.length, 1);
    assert.equal(cdn.requests[0]!.path, '/cdn/blob?signature=abc');
    assert.equal(cdn.requests[0]!.authorization, undefined, 'the CDN must not see the token');
  });

  it('keeps the token off the CDN when resuming through the redirect too', async (t) => {
    let cdn: TestServer;
    try {
      cdn = await startServer((req, res, i) => serveBytes(req, res, file.data, { etag: '"sha"', ...(i === 0 ? { dropAfter: 1_000_000 } : {}) }), '127.0.0.2');
    } catch (error) {
      t.skip(`127.0.0.2 is not usable here (${(error as Error).message})`);
      return;
    }
    servers.push(cdn);
    const { endpoint } = await hub((authorized, res) => {
      if (!authorized) return void res.writeHead(401).end();
      res.writeHead(302, { location: `${cdn.origin}/cdn/blob` }).end();
    });
    const { dir, env } = workspace({ HF_ENDPOINT: endpoint });
    const r = await downloadModel({ ...fast, model: 'tiny', dir, env, catalogue: catalogue(true), hfToken: token });
    assert.equal(sha256Of(readFileSync(r.path)), file.sha256);
    assertClean(dir, 'tiny.safetensors');
    assert.equal(cdn.requests.length, 2);
    assert.match(cdn.requests[1]!.range ?? '', /^bytes=[1-9]\d*-$/);
    assert.ok(cdn.requests.every((q) => q.authorization === undefined));
  });

  it('reads the token from the Hugging Face CLI token file', async () => {
    const { server, endpoint } = await hub((authorized, res, req) => (authorized ? serveBytes(req, res, file.data) : void res.writeHead(401).end()));
    const { dir, env } = workspace();
    mkdirSync(join(dir, 'home', '.cache', 'huggingface'), { recursive: true });
    writeFileSync(join(dir, 'home', '.cache', 'huggingface', 'token'), `${token}\n`);
    delete env.HF_TOKEN_PATH;
    env.HF_ENDPOINT = endpoint;
    const r = await downloadModel({ ...fast, model: 'tiny', dir, env, catalogue: catalogue(true) });
    assert.equal(sha256Of(readFileSync(r.path)), file.sha256);
    assert.equal(server.requests[0]!.authorization, `Bearer ${token}`);
  });

  it('explains a gated model: accept the license at its page and set HF_TOKEN', async () => {
    const { server, endpoint } = await hub((_authorized, res) => void res.writeHead(401, { 'x-error-message': 'Access to model org/tiny is restricted.' }).end());
    const { dir, env } = workspace({ HF_ENDPOINT: endpoint });
    await assert.rejects(
      downloadModel({ ...fast, model: 'tiny', dir, env, catalogue: catalogue(true) }),
      (e: unknown) =>
        e instanceof DownloadError &&
        e.code === 'gated' &&
        e.message.includes('this model is gated: accept the license at https://huggingface.co/org/tiny and set HF_TOKEN') &&
        /restricted/.test(e.message),
    );
    assert.equal(server.requests.length, 1, 'no retries for a refusal');
    assert.equal(server.requests[0]!.authorization, undefined);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('says the same when a token is sent but refused (403: license not accepted)', async () => {
    const { endpoint } = await hub((_authorized, res) => void res.writeHead(403).end());
    const { dir, env } = workspace({ HF_ENDPOINT: endpoint, HF_TOKEN: 'hf_wrong' });
    await assert.rejects(
      downloadModel({ ...fast, model: 'tiny', dir, env, catalogue: catalogue(true) }),
      (e: unknown) => e instanceof DownloadError && e.code === 'gated' && /HTTP 403/.test(e.message) && /accept the license at https:\/\/huggingface\.co\/org\/tiny/.test(e.message),
    );
  });

  it('sends an ambient token (HF_TOKEN) to Hugging Face only, not to another --url host', async () => {
    const s = await startServer((req, res) => serveBytes(req, res, file.data));
    servers.push(s);
    const { dir, env } = workspace({ HF_TOKEN: token });
    const r = await downloadModel({ ...fast, url: `${s.origin}/x/tiny.bin`, sha256: file.sha256, dir, env });
    assert.equal(sha256Of(readFileSync(r.path)), file.sha256);
    assert.equal(s.requests[0]!.authorization, undefined);
  });

  it('sends an explicit token to the --url host that requires it', async () => {
    const s = await startServer((req, res) =>
      req.headers.authorization === `Bearer ${token}` ? serveBytes(req, res, file.data) : void res.writeHead(401).end(),
    );
    servers.push(s);
    const { dir, env } = workspace();
    await assert.rejects(
      downloadModel({ ...fast, url: `${s.origin}/tiny.bin`, sha256: file.sha256, dir, env }),
      (e: unknown) => e instanceof DownloadError && e.code === 'gated' && /--hf-token/.test(e.hint ?? ''),
    );
    const r = await downloadModel({ ...fast, url: `${s.origin}/tiny.bin`, sha256: file.sha256, dir, env, hfToken: token });
    assert.equal(sha256Of(readFileSync(r.path)), file.sha256);
    assertClean(dir, 'tiny.bin');
    assert.equal(s.requests.at(-1)!.authorization, `Bearer ${token}`);
  });
});
