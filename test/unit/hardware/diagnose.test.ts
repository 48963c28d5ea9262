import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diagnose } from '../../../cli/hardware/diagnose.js';
import { estimateCpuSpeed } from '../../../cli/hardware/diagnose-host.js';
import { recommendMemoryMode } from '../../../cli/hardware/recommend-memory-mode.js';
import type { DoctorFacts, DoctorReport, MemoryMode } from '../../../cli/hardware/report.js';
import { baseFacts, gpu, withNvidia, withToolkits } from '../../helpers/doctor-facts.js';

const GiB = 1024 ** 3;
const context = { toolVersion: '0.0.0-test', createdAt: '2026-01-01T00:00:00.000Z', timeoutMs: 15_000 };

function run(facts: DoctorFacts): DoctorReport {
  return diagnose(facts, context);
}

function finding(report: DoctorReport, id: string) {
  const f = report.findings.find((x) => x.id === id);
  assert.ok(f, `no ${id} in ${report.findings.map((x) => x.id).join(', ')}`);
  return f;
}

describe('memory mode', () => {
  const byVram: Array<[vram: number | null, mode: MemoryMode]> = [
    [81559, 'normal'], // H100
    [12288, 'normal'], // RTX 3060
    [6144, 'normal'], // 6 GB cards
    [5632, 'normal'],
    [5631, 'medvram'],
    [4096, 'medvram'], // 4 GB: where webui users reach for --medvram
    [4042, 'medvram'], // GTX 1050 Ti as nvidia-smi counts it
    [3584, 'medvram'],
    [3072, 'lowvram'], // GTX 1060 3 GB
    [2048, 'lowvram'], // GTX 1050 2 GB
    [2004, 'lowvram'], // GeForce 930M
    [1999, 'lowvram'],
    [1536, 'lowvram'],
    [1535, 'cpu'], // below what even --lowvram needs
    [1024, 'cpu'],
  ];
  for (const [vram, mode] of byVram) {
    it(`${vram} MiB → ${mode}`, () => {
      const choice = recommendMemoryMode({ gpu: { vramTotalMiB: vram }, ramTotalBytes: 16 * GiB, ramAvailableBytes: 12 * GiB });
      assert.equal(choice.mode, mode);
      assert.deepEqual(choice.flags, mode === 'medvram' ? ['--medvram'] : mode === 'lowvram' ? ['--lowvram'] : []);
    });
  }
  it('no usable GPU → cpu; a GPU of unknown size → lowvram', () => {
    assert.equal(recommendMemoryMode({ gpu: null, ramTotalBytes: 16 * GiB, ramAvailableBytes: 12 * GiB }).mode, 'cpu');
    assert.equal(recommendMemoryMode({ gpu: { vramTotalMiB: null }, ramTotalBytes: 16 * GiB, ramAvailableBytes: 12 * GiB }).mode, 'lowvram');
  });
  const byRam: Array<[total: number | null, available: number | null, half: boolean]> = [
    [4 * GiB, 3 * GiB, true], // the 4 GB laptop
    [7.7 * GiB, 6.5 * GiB, true],
    [16 * GiB, 12 * GiB, false],
    [16 * GiB, 4 * GiB, true], // plenty installed, little free now
    [null, null, false],
  ];
  for (const [total, available, half] of byRam) {
    it(`RAM ${total === null ? '?' : (total / GiB).toFixed(1)} GB total, ${available === null ? '?' : (available / GiB).toFixed(1)} GB free → half-precision load ${half}`, () => {
      assert.equal(recommendMemoryMode({ gpu: { vramTotalMiB: 2048 }, ramTotalBytes: total, ramAvailableBytes: available }).halfPrecisionLoad, half);
    });
  }
});

describe('how slow the CPU engine is', () => {
  const cpu = (cores: number, physical: number | null, avx2: boolean, avx512 = false) => ({ ...baseFacts().cpu, cores, physicalCores: physical, simd: { avx2, avx512, avx512bf16: false, f16c: avx2, neon: false } });
  it('is about a minute or more on a modern 8-core desktop', () => assert.match(estimateCpuSpeed(cpu(16, 8, true)), /^roughly a minute or more/));
  it('is several minutes on a 4-core laptop with AVX2', () => assert.match(estimateCpuSpeed(cpu(8, 4, true)), /^several minutes/));
  it('is many minutes on 2 cores or without AVX2', () => {
    assert.match(estimateCpuSpeed(cpu(2, 2, true, true)), /^many minutes/);
    assert.match(estimateCpuSpeed(cpu(8, 8, false)), /^many minutes/);
  });
});

describe('diagnose', () => {
  it('sends a healthy GPU machine to the GPU engine with its toolkit and architecture', () => {
    const report = run(withToolkits(withNvidia(baseFacts(), '550.54.15', '12.4', [gpu({ name: 'NVIDIA GeForce RTX 3060', memoryTotalMiB: 12288, memoryFreeMiB: 11909 })]), ['12.4']));
    assert.deepEqual(
      { engine: report.verdict.engine, mode: report.verdict.mode, archs: report.verdict.cudaArchitectures, nvcc: report.verdict.nvcc, can: report.verdict.canGenerate },
      { engine: 'cuda', mode: 'normal', archs: '86', nvcc: '/usr/local/cuda-12.4/bin/nvcc', can: true },
    );
    assert.equal(report.schemaVersion, 1);
  });

  it('warns when other programs hold much of the VRAM', () => {
    const report = run(withToolkits(withNvidia(baseFacts(), '550.54.15', '12.4', [gpu({ name: 'NVIDIA GeForce RTX 3060', memoryTotalMiB: 12288, memoryFreeMiB: 6000 })]), ['12.4']));
    assert.match(finding(report, 'gpu.vram-in-use').message, /other programs hold 6\.1 GB/);
  });

  it('says a 1 GB card is too small even for --lowvram', () => {
    const report = run(withToolkits(withNvidia(baseFacts(), '470.256.02', '11.4', [gpu({ name: 'NVIDIA GeForce GT 710', memoryTotalMiB: 1024, computeCapability: '3.5' })]), ['11.4']));
    const f = finding(report, 'gpu.unusable');
    assert.deepEqual([f.severity, f.blocks], ['error', 'gpu']);
    assert.match(f.message, /1024 MiB of VRAM/);
    assert.deepEqual([report.verdict.engine, report.verdict.afterFixes], ['cpu', null]);
  });

  it('says no toolkit builds for sm_30 (Kepler GK10x)', () => {
    const report = run(withNvidia(baseFacts(), '470.256.02', '11.4', [gpu({ name: 'GeForce GTX 680', memoryTotalMiB: 2048, computeCapability: '3.0' })]));
    assert.match(finding(report, 'gpu.unusable').message, /sm_30 \(Kepler\): no CUDA toolkit that can build this engine/);
    assert.equal(report.verdict.engine, 'cpu');
  });

  it('asks for a newer driver when the architecture is unknown', () => {
    const report = run(withNvidia(baseFacts(), '470.256.02', '11.4', [gpu({ name: 'NVIDIA Graphics Device', computeCapability: null, computeCapabilitySource: null })]));
    assert.match(finding(report, 'gpu.unusable').fix ?? '', /R510/);
  });

  it('keeps a second, unusable GPU out of the way', () => {
    const report = run(
      withToolkits(
        withNvidia(baseFacts(), '470.256.02', '11.4', [
          gpu({ index: 0, name: 'GeForce GTX 680', memoryTotalMiB: 4096, computeCapability: '3.0' }),
          gpu({ index: 1, name: 'NVIDIA GeForce GTX 1050', memoryTotalMiB: 2048, computeCapability: '6.1' }),
        ]),
        ['11.4'],
      ),
    );
    assert.deepEqual([finding(report, 'gpu.unusable').severity, report.verdict.gpuIndex, report.verdict.cudaArchitectures], ['warn', 1, '61']);
  });

  it('says a CUDA 10 toolkit is too old for the engine', () => {
    const report = run(withToolkits(withNvidia(baseFacts(), '470.256.02', '11.4', [gpu({ name: 'NVIDIA GeForce GTX 1050', memoryTotalMiB: 2048, computeCapability: '6.1' })]), ['10.2']));
    const f = finding(report, 'cuda.toolkit-too-old');
    assert.match(f.fix ?? '', /install CUDA 11\.4/);
  });

  it('sends an RTX 5090 with CUDA 12.4 to CUDA 12.8', () => {
    const report = run(withToolkits(withNvidia(baseFacts(), '570.86.10', '12.8', [gpu({ name: 'NVIDIA GeForce RTX 5090', memoryTotalMiB: 32607, computeCapability: '12.0' })]), ['12.4']));
    const f = finding(report, 'cuda.toolkit-cannot-target-gpu');
    assert.match(f.message, /sm_120 \(Blackwell\): CUDA 12\.4 builds for sm_50 to sm_90 only/);
    assert.match(f.fix ?? '', /^install CUDA 12\.8/);
  });

  it('on little RAM: half-precision streaming load, and a warning', () => {
    const facts = withToolkits(withNvidia(baseFacts(), '580.95.05', '13.0', [gpu({ name: 'NVIDIA GeForce 930M', memoryTotalMiB: 2004, computeCapability: '5.0' })]), ['12.9']);
    facts.memory = { totalBytes: 3.8 * GiB, availableBytes: 2.5 * GiB };
    const report = run(facts);
    assert.deepEqual([report.verdict.mode, report.verdict.halfPrecisionLoad, report.verdict.canGenerate], ['lowvram', true, true]);
    assert.equal(finding(report, 'memory.low').severity, 'warn');
  });

  it('blocks everything below 3 GB of RAM', () => {
    const facts = baseFacts();
    facts.memory = { totalBytes: 2 * GiB, availableBytes: 1 * GiB };
    const report = run(facts);
    assert.deepEqual([finding(report, 'memory.too-little').blocks, report.verdict.canGenerate], ['everything', false]);
  });

  it('says how much disk space is missing', () => {
    const facts = baseFacts();
    facts.disk = { ...facts.disk, freeBytes: 2_000_000_000, requiredBytes: 5_343_741_824 };
    const report = run(facts);
    const f = finding(report, 'disk.too-little');
    assert.match(f.message, /2 GB free .*: 3\.3 GB missing/);
    assert.match(f.fix ?? '', /--models-dir/);
    assert.equal(report.verdict.canGenerate, false);
    assert.match(report.verdict.summary, /^cannot generate yet/);
  });

  it('blocks on old build tools, but only warns once the engine is built', () => {
    const facts = baseFacts();
    facts.buildTools.cmake = { found: true, path: '/usr/bin/cmake', version: '3.16.3' };
    facts.buildTools.compiler = { found: true, path: '/usr/bin/g++', version: '8.5.0', kind: 'g++', cpp17: false };
    let report = run(facts);
    assert.deepEqual([finding(report, 'build.cmake-too-old').blocks, finding(report, 'build.compiler-too-old').blocks, report.verdict.canGenerate], ['everything', 'everything', false]);
    assert.match(finding(report, 'build.compiler-too-old').message, /needs g\+\+ 9 or newer/);
    facts.engine.built = true;
    report = run(facts);
    assert.deepEqual([finding(report, 'build.cmake-too-old').severity, report.verdict.canGenerate], ['warn', true]);
  });

  it('blocks on an old Node.js', () => {
    const facts = baseFacts();
    facts.buildTools.node = { version: '18.19.0', ok: false };
    assert.equal(finding(run(facts), 'build.node-too-old').blocks, 'everything');
  });
});
