import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

// Damaged and hostile checkpoints must each fail with a JS exception carrying a
// clear message. The loads run in a child process (test/native/corruption-child.ts),
// so a crash in the native code shows up here as a failed exit instead of
// killing the test runner. The damage is seeded: SD_FUZZ_SEED=N reproduces a
// run, SD_FUZZ_SCALE=K multiplies the random iterations.
describe('corrupt and hostile checkpoints', { timeout: 600_000 }, () => {
  it('are all refused cleanly (child process, seeded)', () => {
    const seed = Number(process.env.SD_FUZZ_SEED ?? 20240611);
    const scale = Number(process.env.SD_FUZZ_SCALE ?? 1);
    const dir = mkdtempSync(join(tmpdir(), 'sd-fuzz-'));
    try {
      const child = spawnSync(
        process.execPath,
        ['dist/test/native/corruption-child.js', '--seed', String(seed), '--scale', String(scale), '--dir', dir],
        { encoding: 'utf8', timeout: 540_000, maxBuffer: 64 << 20 },
      );
      const lastCase = child.stderr.trim().split('\n').filter((l) => l.startsWith('case ')).pop() ?? '(none)';
      assert.equal(child.signal, null, `the child died from ${child.signal} during ${lastCase} (seed ${seed})`);
      assert.equal(child.status, 0, `the child exited with ${child.status} during ${lastCase} (seed ${seed}):\n${child.stderr.slice(-4000)}`);
      const summary = JSON.parse(child.stdout.trim().split('\n').pop()!) as {
        cases: number;
        rejected: number;
        loaded: number;
        problems: string[];
        groups: Record<string, { cases: number; rejected: number }>;
      };
      assert.deepEqual(summary.problems, [], `seed ${seed}`);
      assert.ok(summary.cases >= 300, `only ${summary.cases} cases ran`);
      // Groups whose every case must be refused (the child checks each one); the
      // random-byte groups may legitimately still load (e.g. a changed letter in a name).
      for (const group of ['hostile pickle', 'zip structure', 'truncation', 'safetensors header lies', 'zip directory fields', 'ckpt data bytes', 'deflate sizes']) {
        const g = summary.groups[group];
        assert.ok(g && g.cases > 0, `no cases in ${group}`);
        assert.equal(g.rejected, g.cases, group);
      }
      for (const group of ['safetensors header bytes', 'pickle bytes (CRC fixed)', 'mini pickle bytes', 'deflate stream bytes']) {
        const g = summary.groups[group];
        assert.ok(g && g.cases > 0, `no cases in ${group}`);
        assert.ok(g.rejected > 0, `${group}: not one of ${g.cases} damaged files was refused`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
