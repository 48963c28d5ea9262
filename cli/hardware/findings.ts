import type { Blocks, Finding, Severity } from './report.js';

export function finding(
  id: string,
  severity: Severity,
  blocks: Blocks,
  message: string,
  fix: string | null = null,
  link: string | null = null,
): Finding {
  return { id, severity, blocks, message, fix, link };
}

/** "12 GB", "2 GB", "79.6 GB" from MiB (VRAM as nvidia-smi counts it). */
export function formatMiB(mib: number): string {
  return `${Number((mib / 1024).toFixed(1))} GB`;
}

/** "4.3 GB" from bytes (decimal, like download sizes and disk tools). */
export function formatBytes(bytes: number): string {
  return `${Number((bytes / 1e9).toFixed(1))} GB`;
}

/** The architecture's family name for a compute capability, as NVIDIA markets it. */
export function architectureName(cc: string): string {
  const [major = 0, minor = 0] = cc.split('.').map(Number);
  if (major <= 2) return 'Fermi';
  if (major === 3) return 'Kepler';
  if (major === 5) return 'Maxwell';
  if (major === 6) return 'Pascal';
  if (major === 7) return minor >= 5 ? 'Turing' : 'Volta';
  if (major === 8) return minor === 9 ? 'Ada' : 'Ampere';
  if (major === 9) return 'Hopper';
  return 'Blackwell';
}

/** "sm_50 (Maxwell)" */
export function describeArch(cc: string): string {
  return `sm_${cc.replace('.', '')} (${architectureName(cc)})`;
}
