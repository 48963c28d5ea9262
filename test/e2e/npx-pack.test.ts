import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

// Proves `npx sd-setup` works from what npm would publish, not from this checkout:
// pack the project, then run the tarball's bin through npx in an empty folder.
describe('npx from the packed tarball', { timeout: 300_000 }, () => {
  let work = '';
  let tarball = '';

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'sd-setup-pack-'));
    const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { encoding: 'utf8' });
    tarball = join(work, out.trim().split('\n').pop()!);
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  function npx(args: string[]): { stdout: string; status: number } {
    try {
      const stdout = execFileSync('npx', ['--yes', `--package=${tarball}`, 'sd-setup', ...args], {
        cwd: work,
        encoding: 'utf8',
        env: { ...process.env, npm_config_update_notifier: 'false' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return { stdout, status: 0 };
    } catch (error) {
      const e = error as { stdout?: string; status?: number };
      return { stdout: e.stdout ?? '', status: e.status ?? 1 };
    }
  }

  it('prints the version', () => {
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    const r = npx(['--version']);
    assert.equal(r.status, 0);
    assert.equal(r.stdout.trim(), version);
  });
});
