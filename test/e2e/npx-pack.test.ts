import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DoctorReport } from '../../cli/hardware/report.js';
import { REPORT_KEYS } from '../helpers/report-schema.js';

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

  it('runs doctor --json, whose output has the documented schema', () => {
    const r = npx(['doctor', '--json', '--models-dir', work]);
    const report = JSON.parse(r.stdout) as DoctorReport;
    assert.equal(r.status, report.verdict.canGenerate ? 0 : 1);
    assert.equal(report.schemaVersion, 1);
    assert.deepEqual(Object.keys(report).sort(), [...REPORT_KEYS].sort());
    assert.ok(['cuda', 'cpu'].includes(report.verdict.engine));
    assert.ok(['normal', 'medvram', 'lowvram', 'cpu'].includes(report.verdict.mode));
    assert.ok(report.findings.length > 0);
    for (const f of report.findings) {
      assert.ok(['ok', 'warn', 'error'].includes(f.severity), f.id);
      assert.ok(['nothing', 'gpu', 'everything'].includes(f.blocks), f.id);
      assert.equal(typeof f.message, 'string');
    }
    // The graphics probe runs a separate script; it must be inside the package.
    assert.equal(report.adapters.status, 'ok');
  });

  it('prints the version', () => {
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    const r = npx(['--version']);
    assert.equal(r.status, 0);
    assert.equal(r.stdout.trim(), version);
  });

  it('ships the model catalogue (sd-setup download lists it)', () => {
    const r = npx(['download', '--dir', join(work, 'models')]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /sd-v1-5 .*\n.*v1-5-pruned-emaonly\.safetensors/);
  });
});
