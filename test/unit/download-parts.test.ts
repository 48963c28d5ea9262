import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadCatalogue, modelUrl, parseCatalogue } from '../../cli/download/catalogue.js';
import { parseContentRange, parseUnsatisfiedRange } from '../../cli/download/content-range.js';
import { formatBytes, formatDuration } from '../../cli/download/format.js';
import { hfTokenPath, resolveHfToken } from '../../cli/download/hf-token.js';
import { modelsDir, sdSetupHome } from '../../cli/download/models-dir.js';
import { ProgressMeter, type DownloadProgress } from '../../cli/download/progress-meter.js';
import { ProgressRenderer } from '../../cli/download/progress-renderer.js';
import { backoffDelayMs, isRetryableNetworkError, parseRetryAfter } from '../../cli/download/retry.js';
import { resolveTarget, urlFileName } from '../../cli/download/target.js';
import type { Io } from '../../cli/io.js';

let root = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'sd-setup-parts-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('the model catalogue', () => {
  const catalogue = loadCatalogue();

  it('lists sd-v1-5 and sd-v1-4 with their published sizes and SHA-256', () => {
    const byId = new Map(catalogue.models.map((m) => [m.id, m]));
    const v15 = byId.get('sd-v1-5')!;
    assert.equal(v15.file, 'v1-5-pruned-emaonly.safetensors');
    assert.equal(v15.size, 4_265_146_304);
    assert.equal(v15.sha256, '6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa');
    assert.equal(v15.gated, false);
    const v14 = byId.get('sd-v1-4')!;
    assert.equal(v14.file, 'sd-v1-4.ckpt');
    assert.equal(v14.size, 4_265_380_512);
    assert.equal(v14.sha256, 'fe4efff1e174c627256e44ec2991ba279b3816e364b49f9be2abc0b3ff3f8556');
    assert.equal(v14.gated, true);
    for (const m of catalogue.models) assert.ok(m.sources.length > 0, `${m.id} says where its numbers come from`);
  });

  it('builds Hugging Face resolve URLs, on HF_ENDPOINT when set', () => {
    const v14 = catalogue.models.find((m) => m.id === 'sd-v1-4')!;
    assert.equal(modelUrl(v14, {}), 'https://huggingface.co/CompVis/stable-diffusion-v-1-4-original/resolve/main/sd-v1-4.ckpt');
    assert.equal(modelUrl(v14, { HF_ENDPOINT: 'https://hf-mirror.com/' }), 'https://hf-mirror.com/CompVis/stable-diffusion-v-1-4-original/resolve/main/sd-v1-4.ckpt');
  });

  it('accounts for the bundled CLIP vocabulary, whose bytes match the listed SHA-256', () => {
    const vocab = catalogue.bundled.find((b) => b.id === 'clip-vocab')!;
    const bytes = readFileSync(vocab.path);
    assert.equal(bytes.length, vocab.size);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), vocab.sha256);
  });

  it('rejects a malformed catalogue naming the field', () => {
    assert.throws(
      () => parseCatalogue({ schema: 1, models: [{ id: 'x', title: 't', file: 'f', huggingface: { repo: 'r', revision: 'main', file: 'f' }, size: 1, sha256: 'ABC', page: 'p', license: 'l', sources: [] }], bundled: [] }, 'test'),
      /models\[0\]: "sha256" must be 64 lowercase hex digits/,
    );
  });
});

describe('what to download', () => {
  const catalogue = loadCatalogue();

  it('names an unknown model and lists the known ones', () => {
    assert.throws(() => resolveTarget({ model: 'sd-v9' }, catalogue, {}), /unknown model "sd-v9"[\s\S]*/);
    try {
      resolveTarget({ model: 'sd-v9' }, catalogue, {});
    } catch (error) {
      assert.match((error as { hint: string }).hint, /sd-v1-5, sd-v1-4/);
    }
  });

  it('needs a SHA-256 for a file outside the catalogue, and checks its form', () => {
    assert.throws(() => resolveTarget({ url: 'https://example.com/a.bin' }, catalogue, {}), /needs its SHA-256/);
    assert.throws(() => resolveTarget({ url: 'https://example.com/a.bin', sha256: 'xyz' }, catalogue, {}), /64 hexadecimal digits/);
    assert.throws(() => resolveTarget({ url: 'ftp://example.com/a.bin', sha256: 'a'.repeat(64) }, catalogue, {}), /http\(s\)/);
  });

  it('takes the file name from the URL path, decoded, without the query', () => {
    assert.equal(urlFileName('https://h/x/resolve/main/my%20model.safetensors?download=true'), 'my model.safetensors');
    const t = resolveTarget({ url: 'https://huggingface.co/a/b/resolve/main/c.ckpt', sha256: 'A'.repeat(64) }, catalogue, {});
    assert.equal(t.fileName, 'c.ckpt');
    assert.equal(t.sha256, 'a'.repeat(64));
    assert.equal(t.isHuggingFace, true);
  });

  it('keeps the catalogue checks when a mirror URL is given for a catalogue model', () => {
    const t = resolveTarget({ model: 'sd-v1-5', url: 'https://mirror.example/v15.safetensors' }, catalogue, {});
    assert.equal(t.url, 'https://mirror.example/v15.safetensors');
    assert.equal(t.size, 4_265_146_304);
    assert.equal(t.fileName, 'v1-5-pruned-emaonly.safetensors');
    assert.equal(t.isHuggingFace, false);
  });
});

describe('Hugging Face token', () => {
  const home = '/home/u';

  it('prefers the explicit token, then HF_TOKEN, then the legacy variable', () => {
    assert.deepEqual(resolveHfToken(' hf_a ', { HF_TOKEN: 'hf_b' }, home), { token: 'hf_a', source: '--hf-token', explicit: true });
    assert.deepEqual(resolveHfToken(undefined, { HF_TOKEN: 'hf_b', HUGGING_FACE_HUB_TOKEN: 'hf_c' }, home), { token: 'hf_b', source: 'HF_TOKEN', explicit: false });
    assert.equal(resolveHfToken(undefined, { HUGGING_FACE_HUB_TOKEN: 'hf_c', HF_TOKEN_PATH: '/nonexistent' }, home)?.token, 'hf_c');
  });

  it('finds the token file where the Hugging Face CLI writes it', () => {
    assert.equal(hfTokenPath({}, home), join(home, '.cache', 'huggingface', 'token'));
    assert.equal(hfTokenPath({ XDG_CACHE_HOME: '/xdg' }, home), join('/xdg', 'huggingface', 'token'));
    assert.equal(hfTokenPath({ HF_HOME: '/hf', XDG_CACHE_HOME: '/xdg' }, home), join('/hf', 'token'));
    assert.equal(hfTokenPath({ HF_TOKEN_PATH: '~/tok', HF_HOME: '/hf' }, home), join(home, 'tok'));
    const dir = join(root, 'hfhome');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'token'), 'hf_from_file\n');
    assert.deepEqual(resolveHfToken(undefined, { HF_HOME: dir }, home), { token: 'hf_from_file', source: join(dir, 'token'), explicit: false });
    assert.equal(resolveHfToken(undefined, { HF_HOME: join(root, 'missing') }, home), undefined);
  });
});

describe('models folder', () => {
  it('defaults to ~/sd-setup/models, moved by SD_SETUP_HOME and overridden by --dir', () => {
    assert.equal(modelsDir({ env: { HOME: '/home/u' }, cwd: '/w' }), join('/home/u', 'sd-setup', 'models'));
    assert.equal(modelsDir({ env: { HOME: '/home/u', SD_SETUP_HOME: '/data/sd' }, cwd: '/w' }), join('/data/sd', 'models'));
    assert.equal(modelsDir({ dir: 'm', env: { HOME: '/home/u', SD_SETUP_HOME: '/data/sd' }, cwd: '/w' }), join('/w', 'm'));
    assert.equal(modelsDir({ dir: '~/models', env: { HOME: '/home/u' }, cwd: '/w' }), join('/home/u', 'models'));
    assert.equal(sdSetupHome({ HOME: '/home/u', SD_SETUP_HOME: '~/elsewhere' }), join('/home/u', 'elsewhere'));
  });
});

describe('retries', () => {
  const policy = { attempts: 10, baseDelayMs: 1000, maxDelayMs: 30_000 };

  it('backs off exponentially with 50–100 % jitter, capped, honouring a longer Retry-After', () => {
    assert.equal(backoffDelayMs(policy, 1, undefined, () => 0), 500);
    assert.equal(backoffDelayMs(policy, 1, undefined, () => 1), 1000);
    assert.equal(backoffDelayMs(policy, 4, undefined, () => 1), 8000);
    assert.equal(backoffDelayMs(policy, 12, undefined, () => 1), 30_000);
    assert.equal(backoffDelayMs(policy, 1, 7000, () => 0), 7000);
    assert.equal(backoffDelayMs(policy, 1, 600_000, () => 0), 30_000);
  });

  it('reads Retry-After as seconds or a date', () => {
    assert.equal(parseRetryAfter('12'), 12_000);
    assert.equal(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1)), 30_000);
    assert.equal(parseRetryAfter('soon'), undefined);
  });

  it('retries network failures, also when wrapped, but not other errors', () => {
    assert.ok(isRetryableNetworkError(Object.assign(new Error('x'), { code: 'ECONNRESET' })));
    assert.ok(isRetryableNetworkError(new Error('fetch failed', { cause: Object.assign(new Error('y'), { code: 'UND_ERR_SOCKET' }) })));
    assert.ok(!isRetryableNetworkError(Object.assign(new Error('z'), { code: 'ENOSPC' })));
    assert.ok(!isRetryableNetworkError(new Error('plain')));
  });
});

describe('HTTP ranges', () => {
  it('parses Content-Range and rejects nonsense', () => {
    assert.deepEqual(parseContentRange('bytes 100-199/1000'), { start: 100, end: 199, total: 1000 });
    assert.deepEqual(parseContentRange('bytes 0-9/*'), { start: 0, end: 9, total: undefined });
    assert.equal(parseContentRange('bytes 10-5/100'), undefined);
    assert.equal(parseContentRange('bytes 0-100/100'), undefined);
    assert.equal(parseContentRange(undefined), undefined);
    assert.equal(parseUnsatisfiedRange('bytes */4265146304'), 4_265_146_304);
  });
});

describe('progress', () => {
  it('formats sizes in decimal units and durations compactly', () => {
    assert.equal(formatBytes(4_265_146_304), '4.27 GB');
    assert.equal(formatBytes(999), '999 B');
    assert.equal(formatBytes(31_200_000), '31.2 MB');
    assert.equal(formatDuration(42), '42s');
    assert.equal(formatDuration(185), '3m 05s');
    assert.equal(formatDuration(3720), '1h 02m');
  });

  it('measures speed over a sliding window and throttles reports', () => {
    let now = 0;
    const seen: DownloadProgress[] = [];
    const meter = new ProgressMeter((p) => seen.push(p), { intervalMs: 100, windowMs: 2000, now: () => now });
    meter.update('downloading', 0, 10_000_000);
    for (let t = 1; t <= 30; t++) {
      now = t * 100;
      meter.update('downloading', t * 100_000, 10_000_000); // 1 MB/s
    }
    now = 3050;
    meter.update('downloading', 3_010_000, 10_000_000); // within 100 ms of the last report: dropped
    assert.equal(seen.length, 31);
    const last = seen.at(-1)!;
    assert.ok(Math.abs(last.bytesPerSecond! - 1_000_000) < 1, String(last.bytesPerSecond));
    assert.ok(Math.abs(last.etaSeconds! - 7) < 0.01);
    assert.equal(seen[0]!.bytesPerSecond, undefined, 'no speed before there is anything to measure');
  });

  function capture(isTTY: boolean): { io: Io; text: () => string } {
    let err = '';
    return { io: { out: () => undefined, err: (t) => void (err += t), isTTY, env: {}, cwd: '/' }, text: () => err };
  }

  it('draws a bar with bytes, %, speed and ETA on a terminal, redrawn in place', () => {
    const { io, text } = capture(true);
    const r = new ProgressRenderer(io, 'sd-v1-5', { columns: 80 });
    r.progress({ phase: 'downloading', bytes: 2_132_573_152, total: 4_265_146_304, bytesPerSecond: 31_200_000, etaSeconds: 68 });
    r.finish();
    const line = 'sd-v1-5 [##########----------]  50.0%  2.13 GB / 4.27 GB  31.2 MB/s  ETA 1m 08s';
    assert.ok(line.length < 80);
    assert.equal(text(), `\r${line}\x1b[K\n`);
  });

  it('never draws past the terminal width', () => {
    const { io, text } = capture(true);
    const r = new ProgressRenderer(io, 'sd-v1-5', { columns: 40 });
    r.progress({ phase: 'checking', bytes: 1, total: 4_265_146_304, bytesPerSecond: 1e9, etaSeconds: 4 });
    assert.equal(text(), '\rchecking sd-v1-5 [--------------------]\x1b[K');
  });

  it('prints plain periodic lines when not on a terminal', () => {
    let now = 0;
    const { io, text } = capture(false);
    const r = new ProgressRenderer(io, 'sd-v1-5', { intervalMs: 10_000, now: () => now });
    const at = (bytes: number) => r.progress({ phase: 'downloading', bytes, total: 4_000_000_000, bytesPerSecond: 20_000_000, etaSeconds: (4e9 - bytes) / 2e7 });
    at(0);
    now = 5000;
    at(100_000_000); // too soon: skipped
    now = 10_000;
    at(200_000_000);
    assert.equal(
      text(),
      'downloading sd-v1-5: 0% (0 B / 4.00 GB) at 20.0 MB/s, about 3m 20s left\n' +
        'downloading sd-v1-5: 5% (200 MB / 4.00 GB) at 20.0 MB/s, about 3m 10s left\n',
    );
  });
});
