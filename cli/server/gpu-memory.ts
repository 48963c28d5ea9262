import { createExec } from '../hardware/exec.js';
import { probeNvidiaSmi } from '../hardware/probe-nvidia-smi.js';

/** Total memory of the first NVIDIA GPU in bytes as nvidia-smi reports it, or null (no nvidia-smi, no GPU, timeout). */
export async function firstGpuMemoryBytes(env: NodeJS.ProcessEnv): Promise<number | null> {
  const facts = await probeNvidiaSmi({ exec: createExec(), env, platform: process.platform, timeoutMs: 15_000 });
  const mib = facts.gpus[0]?.memoryTotalMiB;
  return typeof mib === 'number' && mib > 0 ? mib * 1024 * 1024 : null;
}
