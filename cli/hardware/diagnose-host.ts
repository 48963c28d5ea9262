import { finding, formatBytes } from './findings.js';
import type { CpuFacts, DiskFacts, Finding, MemoryFacts } from './report.js';

const GiB = 1024 ** 3;
/** Below this, not even the half-precision weights (about 2 GB for SD 1.5) fit next to the OS. */
export const MIN_RAM_BYTES = 3 * GiB;
/** SD 1.5 (v1-5-pruned-emaonly.safetensors, 4.27 GB) plus room for the engine build and outputs. */
export const REQUIRED_DISK_BYTES = 4_270_000_000 + 1 * GiB;

/**
 * Roughly how long the CPU engine takes for one 512×512 image at 20 steps. Deliberately vague:
 * it depends on the cores, memory bandwidth and vector units (the engine dispatches to AVX-512
 * or AVX2 kernels), and we only want the order of magnitude.
 */
export function estimateCpuSpeed(cpu: CpuFacts): string {
  const cores = cpu.physicalCores ?? cpu.cores;
  const vector = cpu.simd.avx512 || cpu.simd.avx2 || cpu.simd.neon;
  if (vector && cores >= 8) return 'roughly a minute or more per 512×512 image at 20 steps';
  if (vector && cores >= 4) return 'several minutes per 512×512 image at 20 steps';
  return 'many minutes per 512×512 image at 20 steps, longer on an old laptop';
}

export function describeSimd(cpu: CpuFacts): string {
  const { simd } = cpu;
  const names = [
    simd.avx512 && (simd.avx512bf16 ? 'AVX-512 (with BF16)' : 'AVX-512'),
    simd.avx2 && 'AVX2',
    simd.f16c && 'F16C',
    simd.neon && 'NEON',
  ].filter(Boolean);
  return names.length ? names.join(', ') : 'no AVX2/AVX-512';
}

export function diagnoseCpu(cpu: CpuFacts, usesCpuEngine: boolean): Finding[] {
  const cores = cpu.physicalCores && cpu.physicalCores !== cpu.cores ? `${cpu.physicalCores} cores / ${cpu.cores} threads` : `${cpu.cores} cores`;
  const findings = [finding('cpu', 'ok', 'nothing', `CPU: ${cpu.model ?? 'unknown model'}, ${cores}, ${describeSimd(cpu)}`)];
  const x86 = cpu.arch === 'x64' || cpu.arch === 'ia32';
  if (x86 && !cpu.simd.avx2) {
    findings.push(finding('cpu.no-avx2', 'warn', 'nothing', 'this CPU has no AVX2: the CPU engine falls back to its slowest kernels'));
  }
  if (usesCpuEngine) {
    findings.push(finding('cpu.speed', 'warn', 'nothing', `on the CPU expect ${estimateCpuSpeed(cpu)}`));
  }
  return findings;
}

export function diagnoseMemory(memory: MemoryFacts, halfPrecisionLoad: boolean): Finding[] {
  const { totalBytes, availableBytes } = memory;
  if (totalBytes === null) return [finding('memory.unknown', 'warn', 'nothing', 'could not read the amount of RAM')];
  const amounts = `${formatBytes(totalBytes)} RAM${availableBytes === null ? '' : `, ${formatBytes(availableBytes)} available`}`;
  if (totalBytes < MIN_RAM_BYTES) {
    return [finding('memory.too-little', 'error', 'everything', `${amounts}: the engine needs about 4 GB of RAM (3 GB at the very least)`, 'use a machine with more RAM')];
  }
  if (halfPrecisionLoad) {
    return [
      finding(
        'memory.low',
        'warn',
        'nothing',
        `${amounts}: the checkpoint will be loaded tensor by tensor in half precision (about 2 GB instead of 4.3 GB)`,
        'close other programs before generating',
      ),
    ];
  }
  return [finding('memory', 'ok', 'nothing', amounts)];
}

export function diagnoseDisk(disk: DiskFacts): Finding[] {
  if (disk.freeBytes === null) {
    return [finding('disk.unknown', 'warn', 'nothing', `could not measure the free space for ${disk.modelsDir}`)];
  }
  const where = disk.measuredPath && disk.measuredPath !== disk.modelsDir ? `${disk.modelsDir} (measured at ${disk.measuredPath})` : disk.modelsDir;
  if (disk.freeBytes < disk.requiredBytes) {
    const missing = disk.requiredBytes - disk.freeBytes;
    return [
      finding(
        'disk.too-little',
        'error',
        'everything',
        `${formatBytes(disk.freeBytes)} free for models in ${where}; one SD 1.5 checkpoint needs ${formatBytes(disk.requiredBytes)} with working room: ${formatBytes(missing)} missing`,
        `free ${formatBytes(missing)} there, or choose another folder with --models-dir DIR`,
      ),
    ];
  }
  return [finding('disk', 'ok', 'nothing', `${formatBytes(disk.freeBytes)} free for models in ${where}`)];
}
