import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import { describe, it } from 'node:test';
import type { DoctorReport } from '../../cli/hardware/report.js';

// The real `doctor` on the machine running the tests, checked against what the machine says
// through other means (os, /proc/cpuinfo, running nvcc and nvidia-smi here). On the
// development box that is: no GPU, nvcc 13.0, 2 cores, AVX-512.

function run(command: string, args: string[]): { ok: boolean; stdout: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  return { ok: r.status === 0, stdout: r.stdout ?? '' };
}

describe('doctor on this machine', { timeout: 120_000 }, () => {
  const started = Date.now();
  const result = spawnSync(process.execPath, ['dist/cli/main.js', 'doctor', '--json', '--models-dir', os.tmpdir()], { encoding: 'utf8', timeout: 90_000 });
  const seconds = (Date.now() - started) / 1000;
  const report = JSON.parse(result.stdout) as DoctorReport;

  it('exits 0 exactly when it can generate', (t) => {
    t.diagnostic(`doctor took ${seconds.toFixed(1)} s; summary: ${report.verdict.summary}`);
    assert.equal(result.status, report.verdict.canGenerate ? 0 : 1, result.stderr);
  });

  it('finds the GPUs nvidia-smi lists here (none on the development box)', (t) => {
    const list = run('nvidia-smi', ['-L']);
    const gpus = list.ok ? list.stdout.split('\n').filter((l) => l.startsWith('GPU ')).length : 0;
    t.diagnostic(`nvidia-smi -L: ${gpus} GPU(s)`);
    assert.equal(report.nvidia.gpus.length, gpus);
    if (gpus === 0) assert.equal(report.verdict.engine, 'cpu');
  });

  it('finds the nvcc on PATH and its version (13.0 on the development box)', (t) => {
    const nvcc = run('nvcc', ['--version']);
    const release = /release (\d+\.\d+)/.exec(nvcc.stdout)?.[1] ?? null;
    t.diagnostic(`nvcc on PATH: ${release ?? 'none'}`);
    if (!release) {
      assert.equal(report.cudaToolkit.buildUsesReason === 'first nvcc on PATH', false);
      return;
    }
    const used = report.cudaToolkit.toolkits[report.cudaToolkit.buildUses ?? -1];
    assert.equal(used?.version, release);
    assert.equal(report.cudaToolkit.buildUsesReason, process.env.CUDACXX ? 'CUDACXX' : 'first nvcc on PATH');
  });

  it('counts the cores and sees AVX2 / AVX-512 as /proc/cpuinfo lists them', (t) => {
    t.diagnostic(`${report.cpu.cores} cores, avx2 ${report.cpu.simd.avx2}, avx512 ${report.cpu.simd.avx512}`);
    assert.equal(report.cpu.cores, os.cpus().length);
    if (existsSync('/proc/cpuinfo')) {
      const flags = readFileSync('/proc/cpuinfo', 'utf8');
      assert.equal(report.cpu.simd.avx512, /\bavx512f\b/.test(flags));
      assert.equal(report.cpu.simd.avx2, /\bavx2\b/.test(flags));
    }
  });

  it('reads RAM and free disk close to what the OS says', async () => {
    assert.ok(Math.abs((report.memory.totalBytes ?? 0) - os.totalmem()) < os.totalmem() * 0.01);
    const fs = await statfs(os.tmpdir());
    const free = fs.bavail * fs.bsize;
    assert.ok(Math.abs((report.disk.freeBytes ?? 0) - free) < Math.max(free * 0.05, 1e9), `${report.disk.freeBytes} vs ${free}`);
  });

  it('finds the cmake on PATH', () => {
    const version = /cmake version (\S+)/.exec(run('cmake', ['--version']).stdout)?.[1] ?? null;
    assert.equal(report.buildTools.cmake.version, version);
  });
});
