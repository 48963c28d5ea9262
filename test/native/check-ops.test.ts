import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

// `sd-driver check-ops` runs attention's drivers against a float64 reference
// and the fused kernels against the unfused path, on odd shapes. Each
// instruction-set override picks a different driver; all of them must agree.
const driver = 'build/native/sd-driver';

interface OpCheck {
  op: string;
  case: string;
  driver: string;
  rel_l2: number;
  tolerance: number;
  pass: boolean;
}

function cpuFlags(): Set<string> {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    return new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

function checkOps(env: Record<string, string>): OpCheck[] {
  const r = spawnSync(driver, ['check-ops'], { encoding: 'utf8', env: { ...process.env, ...env } });
  const lines = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as OpCheck);
  const failed = lines.filter((l) => !l.pass).map((l) => `${l.op} ${l.case} (${l.driver}): rel_l2 ${l.rel_l2} > ${l.tolerance}`);
  assert.deepEqual(failed, [], r.stderr);
  assert.equal(r.status, 0, r.stderr);
  return lines;
}

function driversOf(lines: OpCheck[], op: string): Set<string> {
  return new Set(lines.filter((l) => l.op === op).map((l) => l.driver));
}

describe('CPU kernel variants against references (sd-driver check-ops)', { timeout: 300_000 }, () => {
  const flags = cpuFlags();
  assert.ok(existsSync(driver), `${driver} is not built (npm run build:native)`);

  it('the best kernels this CPU has', () => {
    const lines = checkOps({});
    assert.equal(lines.filter((l) => l.op === 'attention').length, 13);
    assert.equal(lines.filter((l) => l.op === 'attention-bf16').length, 13);
    assert.equal(lines.filter((l) => l.op === 'conv-upsampled').length, 3);
    assert.equal(lines.filter((l) => l.op === 'group-norm-consume').length, 2);
    assert.equal(lines.filter((l) => l.op === 'layer-norm').length, 3);
    assert.equal(lines.filter((l) => l.op === 'group-norm-silu').length, 2);
    assert.equal(lines.filter((l) => l.op === 'conv-bf16').length, 1);
    // Each shape twice: the default backend (Winograd where it applies) and the direct sum.
    assert.equal(lines.filter((l) => l.op === 'conv-f32').length, 8);
    for (const op of ['silu', 'gelu', 'geglu', 'softmax']) assert.equal(lines.filter((l) => l.op === op).length, 4, op);
    if (flags.has('avx512f')) assert.deepEqual(driversOf(lines, 'attention'), new Set(['f32-avx512']));
    if (flags.has('avx512f')) assert.ok(driversOf(lines, 'conv-f32').has('winograd-f4x4'));
    if (flags.has('amx_bf16') && flags.has('avx512_bf16')) assert.deepEqual(driversOf(lines, 'attention-bf16'), new Set(['bf16-amx']));
  });

  it('bf16 dot products without AMX (SD_AMX=0)', () => {
    const lines = checkOps({ SD_AMX: '0' });
    if (flags.has('avx512_bf16')) assert.deepEqual(driversOf(lines, 'attention-bf16'), new Set(['bf16-dot']));
  });

  for (const kernel of ['avx2', 'generic']) {
    it(`the portable driver (SD_GEMM_KERNEL=${kernel})`, () => {
      const lines = checkOps({ SD_GEMM_KERNEL: kernel });
      assert.deepEqual(driversOf(lines, 'attention'), new Set(['portable']));
      assert.deepEqual(driversOf(lines, 'attention-bf16'), new Set(['portable']));
      // Winograd's transforms exist for AVX-512 and AVX2; the generic kernel convolves directly.
      assert.equal(driversOf(lines, 'conv-f32').has('winograd-f4x4'), kernel === 'avx2');
    });
  }

  it('the direct 3x3 convolution (SD_WINOGRAD=0)', () => {
    const lines = checkOps({ SD_WINOGRAD: '0' });
    assert.equal(lines.filter((l) => l.op === 'conv-f32').length, 8);
    assert.ok(!driversOf(lines, 'conv-f32').has('winograd-f4x4'));
  });
});
