import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publicDir } from '../../cli/server/static-files.js';
import { getJson, postJson, rawRequest, startTinyServer, waitFor, type TestServer } from '../helpers/server.js';

const GiB = 1024 ** 3;
const png = readFileSync(join('test', 'fixtures', 'images', 'rgb8.png'));
const small = { prompt: 'x', steps: 2, width: 64, height: 64 };

describe('server limits and bad input (tiny model)', { timeout: 120_000 }, () => {
  let t: TestServer;
  before(async () => {
    t = await startTinyServer({
      maxBodyBytes: 256 * 1024,
      maxQueued: 1,
      maxUploadPixels: 1024 * 1024,
      memory: { totalBytes: GiB, weightBytes: 0, source: '1 GiB (test budget)' },
    });
  });
  after(() => t.close());

  const expect422 = async (path: string, body: unknown, field: string, message: RegExp) => {
    const r = await postJson(`${t.url}${path}`, body);
    assert.equal(r.status, 422, `${JSON.stringify(body).slice(0, 120)} -> ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(r.body.field, field);
    assert.match(r.body.detail, message);
    assert.ok(r.body.detail.startsWith(`${field}: `), r.body.detail);
  };

  it('refuses a body over the size limit, declared or streamed', async () => {
    const big = JSON.stringify({ prompt: 'x'.repeat(300 * 1024) });
    const declared = await rawRequest(t.url, { method: 'POST', path: '/sdapi/v1/txt2img', headers: { 'content-type': 'application/json', 'content-length': String(big.length) }, body: big });
    assert.equal(declared.status, 413);
    assert.match(JSON.parse(declared.text).detail, /larger than this server accepts \(256 KiB\)/);
    const chunked = await rawRequest(t.url, { method: 'POST', path: '/sdapi/v1/txt2img', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, body: big });
    assert.equal(chunked.status, 413);
  });

  it('says what is wrong with bodies that are not a JSON object', async () => {
    const notJson = await rawRequest(t.url, { method: 'POST', path: '/sdapi/v1/txt2img', headers: { 'content-type': 'application/json' }, body: '{"prompt": ' });
    assert.equal(notJson.status, 400);
    assert.match(JSON.parse(notJson.text).detail, /not valid JSON/);
    const form = await rawRequest(t.url, { method: 'POST', path: '/sdapi/v1/txt2img', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'prompt=x' });
    assert.equal(form.status, 415);
    assert.match(JSON.parse(form.text).detail, /Content-Type: application\/json/);
    const array = await postJson(`${t.url}/sdapi/v1/txt2img`, [small]);
    assert.equal(array.status, 422);
    const empty = await rawRequest(t.url, { method: 'POST', path: '/sdapi/v1/txt2img' });
    assert.equal(empty.status, 422);
    assert.match(JSON.parse(empty.text).detail, /JSON object/);
  });

  it('bounds every number and names the field', async () => {
    const p = '/sdapi/v1/txt2img';
    await expect422(p, { ...small, steps: 0 }, 'steps', /between 1 and 150/);
    await expect422(p, { ...small, steps: 151 }, 'steps', /between 1 and 150/);
    await expect422(p, { ...small, steps: 'many' }, 'steps', /whole number/);
    await expect422(p, { ...small, width: 100 }, 'width', /multiple of 8/);
    await expect422(p, { ...small, height: 4096 }, 'height', /between 64 and 2048/);
    await expect422(p, { ...small, batch_size: 9 }, 'batch_size', /between 1 and 8/);
    await expect422(p, { ...small, n_iter: 101 }, 'n_iter', /between 1 and 100/);
    await expect422(p, { ...small, cfg_scale: 31 }, 'cfg_scale', /between 0 and 30/);
    await expect422(p, { ...small, seed: -5 }, 'seed', /-1 \(random\)/);
    await expect422(p, { ...small, prompt: ['a', 'b'] }, 'prompt', /one prompt per request/);
    await expect422(p, { ...small, sampler_name: 'Euler b' }, 'sampler_name', /Euler a/);
    await expect422(p, { ...small, scheduler: 'Sideways' }, 'scheduler', /Karras/);
    await expect422(p, { ...small, force_task_id: '../../etc' }, 'force_task_id', /letters, digits/);
    // Numbers as strings are read the way the webui's models read them.
    assert.equal((await postJson(`${t.url}${p}`, { ...small, steps: '2', cfg_scale: '6.5' })).status, 200);
  });

  it('bounds width x height x batch size by the memory it has', async () => {
    await expect422('/sdapi/v1/txt2img', { ...small, width: 448, height: 448, batch_size: 2 }, 'width', /more memory than this server has for one batch.*1 GiB \(test budget\)/);
    const info = await getJson(`${t.url}/internal/server-info`);
    assert.equal(info.body.limits.maxPixelsPerBatch, 512 * 512, 'never below one 512x512 picture');
    assert.equal(info.body.limits.sizeMultiple, 8, 'sizes in steps of 8, as the webui');
  });

  it('refuses webui features it does not have instead of ignoring them', async () => {
    const p = '/sdapi/v1/txt2img';
    await expect422(p, { ...small, enable_hr: true }, 'enable_hr', /hires\. fix/);
    await expect422(p, { ...small, restore_faces: true }, 'restore_faces', /face restoration/);
    await expect422(p, { ...small, tiling: true }, 'tiling', /tiling/);
    await expect422(p, { ...small, styles: ['cinematic'] }, 'styles', /prompt styles/);
    await expect422(p, { ...small, subseed_strength: 0.3 }, 'subseed_strength', /variation seeds/);
    await expect422(p, { ...small, s_churn: 0.5 }, 's_churn', /churn/);
    await expect422(p, { ...small, script_name: 'x/y/z plot', script_args: [1] }, 'script_name', /scripts/);
    await expect422(p, { ...small, alwayson_scripts: { ControlNet: { args: [{ enabled: true }] } } }, 'alwayson_scripts', /ControlNet/);
    await expect422('/sdapi/v1/img2img', { ...small, init_images: [png.toString('base64')], mask: png.toString('base64') }, 'mask', /inpainting/);
  });

  it('rejects init images that are not pictures, too large, or not there', async () => {
    const p = '/sdapi/v1/img2img';
    await expect422(p, { ...small }, 'init_images', /at least one picture/);
    await expect422(p, { ...small, init_images: 'abc' }, 'init_images', /at least one picture/);
    await expect422(p, { ...small, init_images: ['not base64 at all!'] }, 'init_images[0]', /not valid base64/);
    await expect422(p, { ...small, init_images: [Buffer.from('just some text, not a picture').toString('base64')] }, 'init_images[0]', /not a PNG or JPEG/);
    await expect422(p, { ...small, init_images: [png.subarray(0, 60).toString('base64')] }, 'init_images[0]', /could not be decoded/);
    const huge = Buffer.from(png);
    huge.writeUInt32BE(100_000, 16);
    huge.writeUInt32BE(100_000, 20);
    await expect422(p, { ...small, init_images: [huge.toString('base64')] }, 'init_images[0]', /100000x100000, more than this server takes/);
    await expect422(p, { ...small, init_images: ['https://example.com/cat.png'] }, 'init_images[0]', /not fetched from URLs/);
    await expect422(p, { ...small, init_images: [12] }, 'init_images[0]', /base64-encoded/);
    await expect422(p, { ...small, batch_size: 3, init_images: [png.toString('base64'), png.toString('base64')] }, 'init_images', /one per picture/);
    await expect422(p, { ...small, init_images: [png.toString('base64'), png.toString('base64')] }, 'init_images', /2 pictures for a batch of 1/);
    await expect422(p, { ...small, init_images: [png.toString('base64')], resize_mode: 3 }, 'resize_mode', /latent upscale/);
    await expect422(p, { ...small, init_images: [png.toString('base64')], denoising_strength: 1.5 }, 'denoising_strength', /between 0 and 1/);
  });

  it('answers unknown paths and methods like the webui, and never serves files by path', async () => {
    const missing = await getJson(`${t.url}/sdapi/v1/nothing-here`);
    assert.deepEqual([missing.status, missing.body.detail], [404, 'Not Found']);
    const method = await rawRequest(t.url, { method: 'GET', path: '/sdapi/v1/txt2img' });
    assert.equal(method.status, 405);
    assert.equal(method.headers.allow, 'POST');
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/app.js/../../package.json', '/cli/server/public/app.js', '//etc/passwd', '/index.html%00', '/..%2fpackage.json', '/package.json']) {
      const r = await rawRequest(t.url, { path });
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(r.text, /"name": "sd-setup"|root:/, path);
    }
  });

  it('serves the page from itself: no request leaves for another site', async () => {
    const page = await rawRequest(t.url, { path: '/' });
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.text, /<script src="\/app\.js"/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    for (const file of readdirSync(publicDir())) {
      assert.doesNotMatch(readFileSync(join(publicDir(), file), 'utf8'), /(src|href|url)\s*[=(]\s*["']?(https?:)?\/\//i, `${file} loads nothing from elsewhere`);
    }
    for (const path of ['/app.js', '/style.css', '/favicon.svg']) assert.equal((await rawRequest(t.url, { path })).status, 200, path);
  });

  it('refuses requests from other sites and other host names (CSRF, DNS rebinding)', async () => {
    const port = new URL(t.url).port;
    const rebinding = await rawRequest(t.url, { path: '/sdapi/v1/options', headers: { host: `attacker.example:${port}` } });
    assert.equal(rebinding.status, 403);
    const crossSite = await rawRequest(t.url, { method: 'POST', path: '/sdapi/v1/interrupt', headers: { origin: 'https://attacker.example', host: `127.0.0.1:${port}` } });
    assert.equal(crossSite.status, 403);
    assert.match(JSON.parse(crossSite.text).detail, /cross-origin/);
    const sameSite = await rawRequest(t.url, { method: 'POST', path: '/sdapi/v1/interrupt', headers: { origin: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}` } });
    assert.equal(sameSite.status, 200);
    assert.equal((await rawRequest(t.url, { path: '/sdapi/v1/options', headers: { host: `localhost:${port}` } })).status, 200);
  });

  it('runs one job at a time with a bounded queue: 503 with Retry-After past it', async () => {
    const first = postJson(`${t.url}/sdapi/v1/txt2img`, { prompt: 'long', steps: 150, width: 128, height: 128 });
    await waitFor('the first job to run', async () => (await getJson(`${t.url}/sdapi/v1/progress`)).body.state.sampling_step > 0);
    const second = postJson(`${t.url}/sdapi/v1/txt2img`, { ...small, seed: 3 });
    await waitFor('the second job to queue', async () => (await getJson(`${t.url}/sdapi/v1/progress`)).body.state.queued === 1);
    const third = await postJson(`${t.url}/sdapi/v1/txt2img`, small);
    assert.equal(third.status, 503);
    assert.match(third.body.detail, /busy/);
    assert.ok(Number(third.headers.get('retry-after')) >= 1, `Retry-After ${third.headers.get('retry-after')}`);
    await postJson(`${t.url}/sdapi/v1/interrupt`, {});
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.status, 200);
    assert.equal(JSON.parse(a.body.info).interrupted, true);
    assert.equal(b.status, 200);
    assert.equal(JSON.parse(b.body.info).interrupted, false, 'interrupt stops only the running job');
    assert.equal(JSON.parse(b.body.info).seed, 3);
  });
});

describe('server with --api-auth', { timeout: 60_000 }, () => {
  let t: TestServer;
  before(async () => {
    t = await startTinyServer({ auth: 'alice:wonder:land,bob:builder' });
  });
  after(() => t.close());

  it('asks for the login on the API and the page, and accepts each user', async () => {
    const none = await rawRequest(t.url, { path: '/sdapi/v1/options' });
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /^Basic /);
    assert.equal((await rawRequest(t.url, { path: '/' })).status, 401);
    const basic = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });
    assert.equal((await rawRequest(t.url, { path: '/sdapi/v1/options', headers: basic('alice', 'wrong') })).status, 401);
    assert.equal((await rawRequest(t.url, { path: '/sdapi/v1/options', headers: basic('mallory', 'builder') })).status, 401);
    assert.equal((await rawRequest(t.url, { path: '/sdapi/v1/options', headers: basic('alice', 'wonder:land') })).status, 200);
    assert.equal((await rawRequest(t.url, { path: '/', headers: basic('bob', 'builder') })).status, 200);
    const made = await postJson(`${t.url}/sdapi/v1/txt2img`, small, basic('bob', 'builder'));
    assert.equal(made.status, 200);
  });
});
