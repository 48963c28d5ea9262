import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CONFIG_SCHEMA, type InstallConfig } from '../../cli/config/install-config.js';
import { UsageError, UserError } from '../../cli/errors.js';
import { diagnose } from '../../cli/hardware/diagnose.js';
import { planLaunch } from '../../cli/launch/launch-plan.js';
import { browserCommand } from '../../cli/launch/open-browser.js';
import { askerMode, createAsker, isCI } from '../../cli/setup/asker.js';
import { imageStats, looksLikeAPicture } from '../../cli/setup/image-stats.js';
import { cudaUnavailable, engineOptions } from '../../cli/setup/step-engine-choice.js';
import { recommendedMode } from '../../cli/setup/step-memory-mode.js';
import { wantedEngine } from '../../cli/setup/step-build.js';
import { baseFacts, gpu, withNvidia, withToolkits } from '../helpers/doctor-facts.js';

const streams = { input: new PassThrough(), output: new PassThrough() };
const report = (facts = baseFacts()) => diagnose(facts, { toolVersion: '0.1.0', createdAt: '2025-01-01T00:00:00.000Z', timeoutMs: 15_000 });
const gtx1050 = () => withToolkits(withNvidia(baseFacts(), '535.288.01', '12.2', [gpu({ name: 'NVIDIA GeForce GTX 1050', memoryTotalMiB: 2048, computeCapability: '6.1' })]), ['12.2']);

describe('how the install asks', () => {
  it('prompts only on a terminal, never under CI, and --yes never prompts', () => {
    const tty = { stdinIsTTY: true, stdoutIsTTY: true };
    assert.equal(askerMode({ yes: false, ...tty, env: {} }).mode, 'prompt');
    assert.equal(askerMode({ yes: true, ...tty, env: {} }).mode, 'defaults');
    assert.equal(askerMode({ yes: false, ...tty, env: { CI: 'true' } }).mode, 'never');
    assert.match(askerMode({ yes: false, ...tty, env: { CI: '1' } }).why, /CI is set/);
    assert.equal(askerMode({ yes: false, ...tty, env: { CI: 'false' } }).mode, 'prompt');
    assert.equal(askerMode({ yes: false, stdinIsTTY: false, stdoutIsTTY: true, env: {} }).mode, 'never');
    assert.equal(askerMode({ yes: false, stdinIsTTY: true, stdoutIsTTY: false, env: {} }).mode, 'never');
    assert.equal(isCI({ CI: '0' }), false);
    assert.equal(isCI({ CI: '' }), false);
  });

  it('without a terminal, names the flag that would answer the question', async () => {
    const asker = createAsker('never', streams, 'there is no terminal to ask on');
    const q = { flag: '--engine', message: 'Which engine?', choices: [{ value: 'cpu', name: 'CPU' }], default: 'cpu' };
    await assert.rejects(asker.select(q), (e: UsageError) => e instanceof UsageError && /^missing --engine/.test(e.message) && /no terminal/.test(e.message) && /--yes/.test(e.hint ?? ''));
    await assert.rejects(asker.input({ flag: '--dir', message: 'Install folder', default: '/x' }), /missing --dir/);
    assert.equal(await asker.confirm({ flag: '--open', message: 'Open?', default: true, unattended: false }), false);
  });

  it('with --yes, takes the recommended answer, and names the flag where there is none', async () => {
    const asker = createAsker('defaults', streams);
    assert.equal(await asker.select({ flag: '--engine', message: 'Which engine?', choices: [{ value: 'cuda', name: 'CUDA' }, { value: 'cpu', name: 'CPU' }], default: 'cuda' }), 'cuda');
    assert.equal(await asker.input({ flag: '--dir', message: 'Install folder', default: '/home/u/sd-setup' }), '/home/u/sd-setup');
    await assert.rejects(asker.password({ flag: '--hf-token', message: 'Token' }), (e: UsageError) => /missing --hf-token/.test(e.message) && /no recommended answer/.test(e.message));
    assert.equal(await asker.confirm({ flag: '--open', message: 'Open?', default: true, unattended: true }), true);
  });
});

describe('engine and memory mode choices', () => {
  it('recommends CUDA and lowvram for a 2 GB GTX 1050, with the reason', () => {
    const r = report(gtx1050());
    const options = engineOptions(r);
    assert.deepEqual(options.map((o) => [o.value, o.name, o.disabled]), [['cuda', 'CUDA (recommended)', undefined], ['cpu', 'CPU', undefined]]);
    assert.match(options[0]!.description!, /GTX 1050, 2\.0 GB.*sm_61/);
    const mode = recommendedMode(r);
    assert.equal(mode.mode, 'lowvram');
    assert.match(mode.reason, /^2\.0 GB of VRAM: .*--lowvram/);
    assert.deepEqual(wantedEngine(r, 'cuda'), { backend: 'cuda', cudaArchitectures: '61', nvcc: '/usr/local/cuda-12.2/bin/nvcc' });
    assert.deepEqual(wantedEngine(r, 'cpu'), { backend: 'cpu', cudaArchitectures: null, nvcc: null });
  });

  it('greys out CUDA with the fix when the toolkit is missing', () => {
    const facts = withNvidia(baseFacts(), '535.288.01', '12.2', [gpu({ name: 'NVIDIA GeForce GTX 1050', memoryTotalMiB: 2048, computeCapability: '6.1' })]);
    const r = report(facts);
    const [cuda, cpu] = engineOptions(r);
    assert.equal(cuda!.value, 'cuda');
    assert.match(cuda!.disabled!, /no CUDA toolkit/);
    assert.equal(cpu!.name, 'CPU (recommended)');
    assert.match(cudaUnavailable(r), /toolkit/);
  });

  it('offers only the CPU engine without an NVIDIA GPU', () => {
    const r = report();
    assert.deepEqual(engineOptions(r).map((o) => o.value), ['cpu']);
    assert.equal(cudaUnavailable(r), 'no NVIDIA GPU found');
    assert.equal(recommendedMode(r).mode, 'cpu');
  });
});

describe('the smoke test\'s picture check', () => {
  it('accepts varied pixels and rejects flat or nearly flat images', () => {
    const noise = Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 256);
    assert.ok(looksLikeAPicture(imageStats(noise)));
    assert.ok(!looksLikeAPicture(imageStats(new Uint8Array(64 * 64 * 3))));
    assert.ok(!looksLikeAPicture(imageStats(Uint8Array.from({ length: 12288 }, (_, i) => 128 + (i % 2)))));
  });
});

describe('opening the browser', () => {
  it('uses each platform\'s opener, passing the URL as one argument', () => {
    const url = 'http://127.0.0.1:7860/?a=1&b=2';
    assert.deepEqual(browserCommand(url, 'win32'), { file: 'rundll32', args: ['url.dll,FileProtocolHandler', url] });
    assert.deepEqual(browserCommand(url, 'darwin'), { file: 'open', args: [url] });
    assert.deepEqual(browserCommand(url, 'linux'), { file: 'xdg-open', args: [url] });
  });
});

describe('launch settings', () => {
  const root = mkdtempSync(join(tmpdir(), 'sd-launch-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const install = (backend: 'cpu' | 'cuda'): { dir: string; config: InstallConfig } => {
    const dir = join(root, `i-${backend}-${Math.random().toString(36).slice(2)}`);
    mkdirSync(join(dir, 'engine'), { recursive: true });
    writeFileSync(join(dir, 'engine', 'sd_engine.node'), 'engine bytes');
    const model = join(dir, 'own.safetensors');
    copyFileSync('assets/models/tiny-sd1.safetensors', model);
    utimesSync(model, 1_700_000_000, 1_700_000_000);
    const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
    return {
      dir,
      config: {
        schema: CONFIG_SCHEMA,
        writtenBy: '0.1.0',
        updatedAt: '2025-01-01T00:00:00.000Z',
        choices: { engine: backend, memoryMode: backend === 'cuda' ? 'lowvram' : 'cpu', model: { kind: 'file', path: model } },
        engine: { backend, addon: 'engine/sd_engine.node', sha256: sha(join(dir, 'engine', 'sd_engine.node')), sourceHash: 'x', cudaArchitectures: backend === 'cuda' ? '61' : null, builtAt: 'x', log: null, ...(backend === 'cuda' ? { gpu: { name: 'GTX 1050', memoryTotalMiB: 2048 } } : {}) },
        model: { id: null, path: model, sha256: sha(model), bytes: 12292262, mtimeMs: 1_700_000_000_000 },
        launch: { port: 7860, listen: false, openBrowser: true },
        completedAt: 'x',
      },
    };
  };

  it('starts from the saved settings', async () => {
    const { dir, config } = install('cuda');
    const plan = await planLaunch(dir, config);
    assert.deepEqual(
      { backend: plan.backend, mode: plan.mode, memoryMode: plan.memoryMode, host: plan.host, port: plan.port, openBrowser: plan.openBrowser, vramMiB: plan.vramMiB },
      { backend: 'cuda', mode: 'lowvram', memoryMode: 'lowvram', host: '127.0.0.1', port: 7860, openBrowser: true, vramMiB: 2048 },
    );
    assert.equal(plan.addonPath, join(dir, 'engine', 'sd_engine.node'));
  });

  it('lets a flag change a setting for one run', async () => {
    const { dir, config } = install('cuda');
    assert.equal((await planLaunch(dir, config, { memoryMode: 'medvram' })).memoryMode, 'medvram');
    const cpu = await planLaunch(dir, config, { memoryMode: 'cpu', port: 7861, listen: true, openBrowser: false });
    assert.deepEqual([cpu.backend, cpu.memoryMode, cpu.port, cpu.host, cpu.openBrowser], ['cpu', 'normal', 7861, '0.0.0.0', false]);
  });

  it('refuses a GPU mode for the CPU engine', async () => {
    const { dir, config } = install('cpu');
    await assert.rejects(planLaunch(dir, config, { memoryMode: 'lowvram' }), (e: UsageError) => e instanceof UsageError && /--lowvram needs the CUDA engine/.test(e.message));
    assert.equal((await planLaunch(dir, config)).backend, 'cpu');
  });

  it('checks the engine and the model instead of trusting the config', async () => {
    const a = install('cpu');
    writeFileSync(join(a.dir, 'engine', 'sd_engine.node'), 'another engine');
    await assert.rejects(planLaunch(a.dir, a.config), (e: UserError) => /not the one sd-setup built/.test(e.message) && /sd-setup build/.test(e.hint ?? ''));
    const b = install('cpu');
    utimesSync(b.config.model!.path, 1_800_000_000, 1_800_000_000);
    await assert.rejects(planLaunch(b.dir, b.config), /missing or changed since it was verified/);
    const c = install('cpu');
    const { memoryMode: _dropped, ...choices } = c.config.choices;
    await assert.rejects(planLaunch(c.dir, { ...c.config, choices }), (e: UserError) => /not finished/.test(e.message) && /npx sd-setup/.test(e.hint ?? ''));
  });
});
