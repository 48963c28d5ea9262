import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { decodePng } from '../../cli/image/png-decode.js';
import { startTinyServer, type TestServer } from '../helpers/server.js';

// Debian's chromium, driven by playwright-core (which downloads no browser of its own).
const CHROMIUM = process.env.SD_SETUP_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = '.test-artifacts';

async function setNumber(page: Page, id: string, value: number | string) {
  await page.fill(`#${id}`, String(value));
  await page.dispatchEvent(`#${id}`, 'change');
}

describe('web UI in headless Chromium (tiny model)', { timeout: 180_000 }, () => {
  let t: TestServer;
  let browser: Browser;
  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is not installed at ${CHROMIUM}: install it with "apt-get install -y chromium" (or set SD_SETUP_CHROMIUM); this test does not skip`);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    t = await startTinyServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  async function openPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    page.on('request', (r) => {
      if (!r.url().startsWith(t.url) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) problems.push(`left the server: ${r.url()}`);
    });
    (page as Page & { problems: string[] }).problems = problems;
    await page.goto(t.url);
    await page.waitForSelector('#status.ok');
    return page;
  }

  it('types a prompt, generates with Ctrl+Enter, shows the picture and its parameters, downloads the PNG', async () => {
    const page = await openPage();
    assert.match(await page.textContent('#model') ?? '', /^tiny-sd1\.safetensors \[[0-9a-f]{10}\]$/);
    assert.ok((await page.$$eval('#sampler_name option', (options) => options.map((o) => (o as unknown as { value: string }).value))).includes('DPM++ 2M'));
    await page.fill('#prompt', 'a lighthouse at dusk, oil painting');
    await setNumber(page, 'width', 64);
    await setNumber(page, 'height', 64);
    await setNumber(page, 'steps', 6);
    await setNumber(page, 'seed', 4242);
    await page.focus('#prompt');
    await page.keyboard.press('Control+Enter');
    await page.waitForSelector('#gallery button img');
    const infotext = await page.textContent('#infotext');
    assert.match(infotext ?? '', /^a lighthouse at dusk, oil painting\nSteps: 6, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 4242, Size: 64x64, /);
    const size = await page.$eval('#current', (el) => {
      const img = el as unknown as { naturalWidth: number; naturalHeight: number };
      return [img.naturalWidth, img.naturalHeight];
    });
    assert.deepEqual(size, [64, 64]);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    assert.match(download.suggestedFilename(), /^00000-4242\.png$/);
    const file = join(ARTIFACTS, 'web-ui-download.png');
    await download.saveAs(file);
    assert.equal(decodePng(readFileSync(file)).text.parameters, infotext, 'the downloaded PNG carries its parameters');

    await page.click('#dice');
    assert.equal(await page.inputValue('#seed'), '-1');
    await page.click('#reuse-seed');
    assert.equal(await page.inputValue('#seed'), '4242');
    await page.screenshot({ path: join(ARTIFACTS, 'web-ui.png'), fullPage: true });
    assert.deepEqual((page as Page & { problems: string[] }).problems, []);
    await page.context().close();
  });

  it('shows live progress with previews, and Interrupt keeps what was reached', async () => {
    const page = await openPage();
    await page.fill('#prompt', 'a long one');
    await setNumber(page, 'width', 128);
    await setNumber(page, 'height', 128);
    await setNumber(page, 'steps', 150);
    await page.click('#generate');
    await page.waitForSelector('#current.preview');
    await page.waitForFunction("/Sampling step \\d+ of 150/.test(document.querySelector('#progress-text').textContent)");
    assert.equal(await page.isVisible('#progress'), true);
    await page.screenshot({ path: join(ARTIFACTS, 'web-ui-progress.png') });
    await page.click('#interrupt');
    await page.waitForSelector('#gallery button img');
    assert.match(await page.textContent('#error') ?? '', /Interrupted/);
    await page.waitForSelector('#progress', { state: 'hidden' });
    assert.equal(await page.isEnabled('#generate'), true);
    await page.context().close();
  });

  it('takes an init image by drag and drop for img2img, with its denoising strength', async () => {
    const page = await openPage();
    await page.click('#tab-img2img');
    const png = readFileSync(join('test', 'fixtures', 'images', 'rgb8.png')).toString('base64');
    // What a browser hands the page when a file is dropped on it.
    const dataTransfer = await page.evaluateHandle((b64) => {
      const web = globalThis as unknown as { DataTransfer: new () => { items: { add(f: unknown): void } }; File: new (parts: unknown[], name: string, o: object) => unknown };
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new web.DataTransfer();
      dt.items.add(new web.File([bytes], 'init.png', { type: 'image/png' }));
      return dt;
    }, png);
    await page.dispatchEvent('#dropzone', 'drop', { dataTransfer });
    await page.waitForSelector('#init-preview:not([hidden])');
    await page.fill('#denoising_strength', '0.6');
    await page.fill('#prompt', 'the same, but blue');
    await setNumber(page, 'width', 64);
    await setNumber(page, 'height', 64);
    await setNumber(page, 'steps', 5);
    await page.keyboard.press('Control+Enter');
    await page.waitForSelector('#gallery button img');
    assert.match(await page.textContent('#infotext') ?? '', /^the same, but blue\nSteps: 5, .*Denoising strength: 0\.6/);
    await page.screenshot({ path: join(ARTIFACTS, 'web-ui-img2img.png'), fullPage: true });
    await page.context().close();
  });
});
