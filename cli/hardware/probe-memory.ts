import os from 'node:os';
import si from 'systeminformation';
import type { MemoryFacts } from './report.js';
import { withTimeout } from './with-timeout.js';

export interface MemoryProbeInput {
  timeoutMs: number;
  /** Default: systeminformation's mem() ("available" counts reclaimable cache, unlike os.freemem). */
  readMemory?: () => Promise<{ total: number; available: number }>;
}

export async function probeMemory(input: MemoryProbeInput): Promise<MemoryFacts> {
  const read = input.readMemory ?? (() => si.mem());
  const mem = await withTimeout<{ total: number; available: number } | null>(read(), input.timeoutMs, null);
  return {
    totalBytes: mem?.total || os.totalmem() || null,
    availableBytes: mem?.available || os.freemem() || null,
  };
}
