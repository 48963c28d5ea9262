import { readFileSync } from 'node:fs';
import os from 'node:os';
import si from 'systeminformation';
import type { CpuFacts } from './report.js';
import { withTimeout } from './with-timeout.js';

export interface RawCpu {
  manufacturer: string;
  brand: string;
  cores: number;
  physicalCores: number;
  /** Space-separated CPU flags, as /proc/cpuinfo lists them. */
  flags: string;
}

export interface CpuProbeInput {
  arch: string;
  platform: NodeJS.Platform;
  timeoutMs: number;
  /** Default: systeminformation's cpu(), which includes the flags. */
  readCpu?: () => Promise<RawCpu>;
  /** Default: /proc/cpuinfo on Linux (null elsewhere). */
  readCpuinfo?: () => string | null;
}

/** The "flags" line of /proc/cpuinfo (x86) or "Features" (arm64). */
export function flagsFromCpuinfo(text: string): string | null {
  return /^(?:flags|Features)\s*:\s*(.*)$/m.exec(text)?.[1]?.trim() ?? null;
}

function readProcCpuinfo(): string | null {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return null;
  }
}

/** The SIMD extensions the engine's CPU kernels dispatch on, from a flag list. */
export function simdFromFlags(flags: string, arch: string): CpuFacts['simd'] {
  const set = new Set(flags.toLowerCase().split(/[\s,]+/).filter(Boolean));
  return {
    avx2: set.has('avx2'),
    avx512: set.has('avx512f'),
    avx512bf16: set.has('avx512_bf16') || set.has('avx512bf16'),
    f16c: set.has('f16c'),
    // Advanced SIMD is part of every arm64 CPU.
    neon: arch === 'arm64' || set.has('neon') || set.has('asimd'),
  };
}

/** "Intel Xeon® Processor" from systeminformation's manufacturer and brand. */
export function cpuModel(raw: Pick<RawCpu, 'manufacturer' | 'brand'>): string | null {
  const brand = raw.brand.trim();
  const maker = raw.manufacturer.trim();
  if (!brand) return maker || null;
  return maker && !brand.toLowerCase().startsWith(maker.toLowerCase()) ? `${maker} ${brand}` : brand;
}

export async function probeCpu(input: CpuProbeInput): Promise<CpuFacts> {
  const read = input.readCpu ?? (() => si.cpu());
  const raw = await withTimeout<RawCpu | null>(read(), input.timeoutMs, null);
  const fallbackCores = os.cpus().length || 1;
  // On Linux the kernel's own list, read directly: systeminformation may shell out for it.
  const cpuinfo = input.platform === 'linux' ? (input.readCpuinfo ?? readProcCpuinfo)() : null;
  const flags = (cpuinfo ? flagsFromCpuinfo(cpuinfo) : null) || raw?.flags || '';
  return {
    model: raw ? cpuModel(raw) : (os.cpus()[0]?.model.trim() ?? null),
    cores: raw?.cores || fallbackCores,
    physicalCores: raw?.physicalCores || null,
    arch: input.arch,
    simd: simdFromFlags(flags, input.arch),
  };
}
