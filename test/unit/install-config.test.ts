import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { configPath, readInstallConfig, resolveStoredPath, storedPath, writeInstallConfig } from '../../cli/config/config-file.js';
import { CONFIG_SCHEMA, type InstallConfig } from '../../cli/config/install-config.js';
import { findInstallDir, lastInstallNotePath, rememberInstallDir } from '../../cli/config/install-location.js';
import { parseInstallConfig } from '../../cli/config/parse-install-config.js';
import { UserError } from '../../cli/errors.js';
import { defaultAddonPath, resolveAddonPath } from '../../cli/binding/load-addon.js';

const root = mkdtempSync(join(tmpdir(), 'sd-config-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const dir = join(root, `d${n++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

const complete: InstallConfig = {
  schema: CONFIG_SCHEMA,
  writtenBy: '0.1.0',
  updatedAt: '2025-01-01T00:00:00.000Z',
  choices: { model: { kind: 'catalogue', id: 'sd-v1-5' }, engine: 'cuda', memoryMode: 'lowvram' },
  engine: {
    backend: 'cuda',
    addon: 'engine/sd_engine.node',
    sha256: 'a'.repeat(64),
    sourceHash: 'b'.repeat(64),
    cudaArchitectures: '61',
    builtAt: '2025-01-01T00:00:00.000Z',
    log: 'logs/build-2025-01-01T00-00-00.log',
  },
  smokeTest: { addonSha256: 'a'.repeat(64), backend: 'cuda', passedAt: '2025-01-01T00:00:00.000Z', seconds: 0.8 },
  model: { id: 'sd-v1-5', path: 'models/v1-5-pruned-emaonly.safetensors', sha256: 'c'.repeat(64), bytes: 4265146304 },
  launch: { port: 7860, listen: false, openBrowser: true },
  completedAt: '2025-01-01T00:00:00.000Z',
};

describe('install config', () => {
  it('round-trips through the file, leaving no draft behind', async () => {
    const dir = fresh();
    await writeInstallConfig(dir, complete);
    assert.deepEqual(await readInstallConfig(dir), complete);
    assert.deepEqual(readdirSync(dir), ['sd-setup.json']);
  });

  it('is absent, not an error, before the first install', async () => {
    assert.equal(await readInstallConfig(fresh()), undefined);
  });

  it('names the field that is wrong', () => {
    const bad = (patch: object) => () => parseInstallConfig({ ...structuredClone(complete), ...patch });
    assert.throws(bad({ choices: { engine: 'rocm' } }), /choices\.engine must be one of cuda, cpu/);
    assert.throws(bad({ launch: { port: 70000, listen: false, openBrowser: false } }), /launch\.port/);
    assert.throws(bad({ engine: { ...complete.engine, sha256: 5 } }), /engine\.sha256/);
    assert.throws(bad({ model: { ...complete.model, path: '' } }), /model\.path/);
    assert.throws(bad({ choices: { model: { kind: 'url', url: 'http://x' } } }), /choices\.model\.sha256/);
    assert.throws(() => parseInstallConfig([]), /JSON object/);
  });

  it('turns a damaged file into a UserError that says how to recover', async () => {
    const dir = fresh();
    writeFileSync(configPath(dir), '{"schema": 1, "writtenBy": "0.1.0", "updatedAt": "x", "choi');
    await assert.rejects(readInstallConfig(dir), (e: UserError) => e instanceof UserError && /is damaged/.test(e.message) && /finished steps are checked and kept/.test(e.hint ?? ''));
  });

  it('refuses a config from a newer sd-setup, asking for an update', async () => {
    const dir = fresh();
    writeFileSync(configPath(dir), JSON.stringify({ ...complete, schema: CONFIG_SCHEMA + 1, writtenBy: '9.0.0' }));
    await assert.rejects(readInstallConfig(dir), (e: UserError) => /newer sd-setup \(9\.0\.0\)/.test(e.message) && /sd-setup@latest/.test(e.hint ?? ''));
  });

  it('keeps paths inside the install folder relative, on POSIX and Windows', () => {
    assert.equal(storedPath('/home/u/sd', '/home/u/sd/engine/sd_engine.node', path.posix), 'engine/sd_engine.node');
    assert.equal(storedPath('/home/u/sd', '/data/models/x.safetensors', path.posix), '/data/models/x.safetensors');
    assert.equal(storedPath('/home/u/sd', '/home/u/sd-other/x', path.posix), '/home/u/sd-other/x');
    assert.equal(storedPath('C:\\Users\\Ann\\sd', 'C:\\Users\\Ann\\sd\\engine\\sd_engine.node', path.win32), 'engine/sd_engine.node');
    assert.equal(storedPath('C:\\Users\\Ann\\sd', 'D:\\models\\x.ckpt', path.win32), 'D:\\models\\x.ckpt');
    assert.equal(resolveStoredPath('C:\\Users\\Ann\\sd', 'engine/sd_engine.node', path.win32), 'C:\\Users\\Ann\\sd\\engine\\sd_engine.node');
    assert.equal(resolveStoredPath('/home/u/sd', 'models/a.safetensors', path.posix), '/home/u/sd/models/a.safetensors');
    assert.equal(resolveStoredPath('/home/u/sd', '/data/a.ckpt', path.posix), '/data/a.ckpt');
  });
});

describe('install location', () => {
  it('keeps the last-install note in each platform\'s settings folder', () => {
    assert.equal(lastInstallNotePath({ APPDATA: 'C:\\Users\\Ann\\AppData\\Roaming' }, 'win32', 'C:\\Users\\Ann'), 'C:\\Users\\Ann\\AppData\\Roaming\\sd-setup\\last-install.json');
    assert.equal(lastInstallNotePath({ USERPROFILE: 'C:\\Users\\Ann' }, 'win32', 'C:\\Users\\Ann'), 'C:\\Users\\Ann\\AppData\\Roaming\\sd-setup\\last-install.json');
    assert.equal(lastInstallNotePath({}, 'darwin', '/Users/ann'), '/Users/ann/Library/Application Support/sd-setup/last-install.json');
    assert.equal(lastInstallNotePath({}, 'linux', '/home/ann'), '/home/ann/.config/sd-setup/last-install.json');
    assert.equal(lastInstallNotePath({ XDG_CONFIG_HOME: '/cfg' }, 'linux', '/home/ann'), '/cfg/sd-setup/last-install.json');
  });

  it('finds the install: --dir, then SD_SETUP_HOME, then the last install, then ~/sd-setup', async () => {
    const home = fresh();
    const env: NodeJS.ProcessEnv = { HOME: home, XDG_CONFIG_HOME: join(home, 'cfg') };
    assert.deepEqual(findInstallDir({ env, cwd: '/work' }), { dir: join(home, 'sd-setup'), source: 'default' });
    assert.deepEqual(findInstallDir({ flag: 'here', env, cwd: '/work' }), { dir: '/work/here', source: '--dir' });
    assert.deepEqual(findInstallDir({ flag: '~/x', env, cwd: '/work' }), { dir: join(home, 'x'), source: '--dir' });

    const elsewhere = join(home, 'big-disk', 'sd');
    await rememberInstallDir(elsewhere, env);
    // A note whose folder has no install is ignored.
    assert.equal(findInstallDir({ env, cwd: '/work' }).source, 'default');
    await writeInstallConfig(elsewhere, complete);
    assert.deepEqual(findInstallDir({ env, cwd: '/work' }), { dir: elsewhere, source: 'last install' });
    assert.equal(JSON.parse(readFileSync(lastInstallNotePath(env), 'utf8')).installDir, elsewhere);
    assert.deepEqual(findInstallDir({ env: { ...env, SD_SETUP_HOME: '/srv/sd' }, cwd: '/work' }), { dir: '/srv/sd', source: 'SD_SETUP_HOME' });
  });
});

describe('which engine the loader picks', () => {
  it('SD_SETUP_ADDON, else the engine the install recorded, else the checkout build', async () => {
    const home = fresh();
    const install = join(home, 'sd');
    const env: NodeJS.ProcessEnv = { HOME: home, SD_SETUP_HOME: install };
    assert.equal(resolveAddonPath(env), defaultAddonPath());
    await writeInstallConfig(install, complete);
    // Recorded but missing: not picked.
    assert.equal(resolveAddonPath(env), defaultAddonPath());
    mkdirSync(join(install, 'engine'));
    writeFileSync(join(install, 'engine', 'sd_engine.node'), '');
    assert.equal(resolveAddonPath(env), join(install, 'engine', 'sd_engine.node'));
    assert.equal(resolveAddonPath({ ...env, SD_SETUP_ADDON: '/custom/sd_engine.node' }), '/custom/sd_engine.node');
  });
});
