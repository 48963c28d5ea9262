import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isAuthorized, parseApiAuth } from '../../cli/server/auth.js';
import { HttpError } from '../../cli/server/http-error.js';
import { imageSize } from '../../cli/server/image-size.js';
import { GenerationQueue, QueueClosedError, QueueFullError } from '../../cli/server/job-queue.js';
import { maxPixelsPerBatch, MIN_PIXELS_PER_BATCH } from '../../cli/server/memory-limits.js';
import { OptionsStore } from '../../cli/server/options-store.js';
import { resolveServeModel } from '../../cli/server/resolve-serve-model.js';

const GiB = 1024 ** 3;
const fixture = (name: string) => readFileSync(join('test', 'fixtures', 'images', name));

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('generation queue', () => {
  it('runs one job at a time in arrival order and refuses past its bound', async () => {
    const queue = new GenerationQueue(2);
    const gates = [deferred<string>(), deferred<string>(), deferred<string>()];
    const started: string[] = [];
    const jobs = gates.map((gate, i) =>
      queue.submit(`t${i}`, 'txt2img', () => {
        started.push(`t${i}`);
        return gate.promise;
      }),
    );
    assert.deepEqual(started, ['t0']);
    assert.equal(queue.current()?.id, 't0');
    assert.deepEqual(queue.queued().map((j) => j.id), ['t1', 't2']);
    assert.equal(queue.position('t2'), 2);
    assert.throws(() => queue.submit('t3', 'txt2img', async () => 'never'), (e: unknown) => e instanceof QueueFullError && e.retryAfterSeconds >= 1);
    gates[0]!.resolve('a');
    assert.equal(await jobs[0]!.done, 'a');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, ['t0', 't1']);
    gates[1]!.reject(new Error('engine failed'));
    await assert.rejects(jobs[1]!.done, /engine failed/);
    assert.equal(jobs[1]!.status, 'failed');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, ['t0', 't1', 't2'], 'a failed job does not stop the queue');
    gates[2]!.resolve('c');
    assert.equal(await jobs[2]!.done, 'c');
    assert.equal(queue.find('t0')?.status, 'finished');
  });

  it('close() fails the waiting jobs and aborts the running one', async () => {
    const queue = new GenerationQueue(4);
    const running = queue.submit('a', 'txt2img', (_job, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))));
    const waiting = queue.submit('b', 'txt2img', async () => 'never');
    await queue.close();
    await assert.rejects(running.done, QueueClosedError);
    await assert.rejects(waiting.done, QueueClosedError);
    assert.throws(() => queue.submit('c', 'txt2img', async () => 'x'), QueueClosedError);
  });
});

describe('--api-auth', () => {
  it('parses one or several user:password pairs; the password may hold colons', () => {
    assert.deepEqual(parseApiAuth('alice:secret'), [{ user: 'alice', password: 'secret' }]);
    assert.deepEqual(parseApiAuth('a:b:c,d:e'), [
      { user: 'a', password: 'b:c' },
      { user: 'd', password: 'e' },
    ]);
    assert.throws(() => parseApiAuth('alice'), /user:password/);
    assert.throws(() => parseApiAuth(':pw'), /user:password/);
  });

  it('accepts exactly the listed credentials in an HTTP Basic header', () => {
    const creds = parseApiAuth('alice:secret,bob:pw');
    const header = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    assert.equal(isAuthorized(header('alice:secret'), creds), true);
    assert.equal(isAuthorized(header('bob:pw'), creds), true);
    assert.equal(isAuthorized(header('alice:pw'), creds), false);
    assert.equal(isAuthorized(header('alice:secretx'), creds), false);
    assert.equal(isAuthorized('Bearer abc', creds), false);
    assert.equal(isAuthorized(undefined, creds), false);
  });
});

describe('upload checks', () => {
  it('reads the size of PNG and JPEG files from their headers (ImageMagick-written fixtures)', () => {
    assert.deepEqual(imageSize(fixture('rgb8.png')), { width: 37, height: 23 });
    assert.deepEqual(imageSize(fixture('interlaced.png')), { width: 37, height: 23 });
    assert.deepEqual(imageSize(fixture('photo.jpg')), { width: 37, height: 23 });
    assert.equal(imageSize(Buffer.from('GIF89a')), null);
    assert.equal(imageSize(fixture('photo.jpg').subarray(0, 30)), null);
  });
});

describe('memory limits', () => {
  it('allows what memory leaves after the weights, never less than one 512x512 picture', () => {
    // 8 GiB - 2 GiB weights - 0.5 GiB workspace at 4 KiB a pixel = 1,441,792 pixels (1200x1200).
    assert.equal(maxPixelsPerBatch({ totalBytes: 8 * GiB, weightBytes: 2 * GiB, source: '' }, 1e9), 1_441_792);
    assert.equal(maxPixelsPerBatch({ totalBytes: 2 * GiB, weightBytes: 2 * GiB, source: '' }, 1e9), MIN_PIXELS_PER_BATCH);
    assert.equal(maxPixelsPerBatch({ totalBytes: 1024 * GiB, source: '' }, 2048 * 2048 * 8), 2048 * 2048 * 8);
  });

});

describe('options store', () => {
  const model = { title: 'm.safetensors [0123456789]', matches: (n: string) => n === 'm.safetensors [0123456789]' || n === 'm' };

  it('sets the settings it has, ignores the webui settings it lacks, and refuses values it cannot honour', () => {
    const store = new OptionsStore(model);
    assert.deepEqual(store.set({ CLIP_stop_at_last_layers: 2, randn_source: 'cpu', outdir_samples: '/tmp/x', sd_model_checkpoint: 'm' }), ['outdir_samples']);
    assert.equal(store.get().CLIP_stop_at_last_layers, 2);
    assert.equal(store.get().randn_source, 'CPU');
    assert.equal(store.get().sd_model_checkpoint, model.title);
    store.set({ sd_vae: 'None', samples_format: 'PNG' });
    assert.equal(store.get().sd_vae, 'Automatic');
    for (const bad of [{ CLIP_stop_at_last_layers: 13 }, { samples_format: 'jpg' }, { eta_noise_seed_delta: 31337 }, { sd_model_checkpoint: 'other' }, { live_previews_enable: 'yes' }]) {
      assert.throws(() => store.set(bad), (e: unknown) => e instanceof HttpError && e.status === 422 && e.detail.startsWith(`option ${Object.keys(bad)[0]}`), JSON.stringify(bad));
    }
    assert.throws(() => store.set({ eta_ancestral: 0.5, randn_source: 'NV' }), HttpError);
    assert.equal(store.get().eta_ancestral, 1, 'a refused request changes nothing');
    assert.equal(store.resolve({ eta_ancestral: 0.5 }).values.eta_ancestral, 0.5);
    assert.equal(store.get().eta_ancestral, 1, 'resolve() does not store');
  });
});

describe('serve --model', () => {
  it('finds "tiny", paths, catalogue names and files in the models folder, and says what is there otherwise', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sd-setup-models-'));
    try {
      assert.throws(() => resolveServeModel(undefined, dir, '/'), /no checkpoint in .*/);
      writeFileSync(join(dir, 'v1-5-pruned-emaonly.safetensors'), '');
      writeFileSync(join(dir, 'notes.txt'), '');
      assert.equal(resolveServeModel(undefined, dir, '/'), join(dir, 'v1-5-pruned-emaonly.safetensors'), 'the only checkpoint');
      assert.equal(resolveServeModel('sd-v1-5', dir, '/'), join(dir, 'v1-5-pruned-emaonly.safetensors'), 'by catalogue id');
      writeFileSync(join(dir, 'mine.ckpt'), '');
      assert.equal(resolveServeModel('mine', dir, '/'), join(dir, 'mine.ckpt'), 'without extension');
      assert.equal(resolveServeModel('mine.ckpt', dir, dir), join(dir, 'mine.ckpt'), 'as a path from cwd');
      assert.equal(resolveServeModel('tiny', dir, '/'), 'tiny');
      assert.throws(() => resolveServeModel(undefined, dir, '/'), (e: Error & { hint?: string }) => /2 checkpoints/.test(e.message) && /--model mine/.test(e.hint ?? ''));
      assert.throws(() => resolveServeModel('sd-v1-4', dir, '/'), (e: Error & { hint?: string }) => /sd-setup download sd-v1-4/.test(e.hint ?? ''));
      assert.throws(() => resolveServeModel('other', dir, '/'), (e: Error & { hint?: string }) => /models there: mine\.ckpt, v1-5-pruned-emaonly\.safetensors/.test(e.hint ?? ''));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
