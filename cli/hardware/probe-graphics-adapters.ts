import { fileURLToPath } from 'node:url';
import type { Exec } from './exec.js';
import type { AdapterFacts, GraphicsAdapter } from './report.js';

export interface AdapterProbeInput {
  exec: Exec;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** The Node binary that runs the child (process.execPath). */
  node: string;
}

const CHILD = fileURLToPath(new URL('./graphics-adapters-child.js', import.meta.url));

interface RawController {
  vendor?: unknown;
  model?: unknown;
  name?: unknown;
  vram?: unknown;
}

export function adapterVendor(text: string): GraphicsAdapter['vendor'] {
  if (/nvidia/i.test(text)) return 'nvidia';
  if (/advanced micro devices|\bamd\b|\bati\b|radeon/i.test(text)) return 'amd';
  if (/intel/i.test(text)) return 'intel';
  if (/apple/i.test(text)) return 'apple';
  return 'other';
}

const SHORT_VENDOR: Partial<Record<GraphicsAdapter['vendor'], string>> = { nvidia: 'NVIDIA', amd: 'AMD', intel: 'Intel', apple: 'Apple' };

/** systeminformation's controllers → our adapters; drops empty entries, keeps order. */
export function parseAdapters(json: string): GraphicsAdapter[] | null {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return null;
  }
  if (!Array.isArray(raw)) return null;
  return (raw as RawController[]).flatMap((c) => {
    const vendor = typeof c.vendor === 'string' ? c.vendor.trim() : '';
    const model = typeof c.model === 'string' ? c.model.trim() : typeof c.name === 'string' ? c.name.trim() : '';
    const kind = adapterVendor(`${vendor} ${model}`);
    // "Advanced Micro Devices, Inc. [AMD/ATI]" reads better as "AMD".
    const maker = SHORT_VENDOR[kind] ?? vendor;
    const name = model.toLowerCase().startsWith(maker.toLowerCase()) ? model : `${maker} ${model}`.trim();
    if (!model && !vendor) return [];
    const vram = typeof c.vram === 'number' && c.vram > 0 ? c.vram : null;
    return [{ vendor: kind, name, vramMiB: vram }];
  });
}

/** Every graphics adapter the system lists (any vendor), via systeminformation in a child process. */
export async function probeGraphicsAdapters(input: AdapterProbeInput): Promise<AdapterFacts> {
  const result = await input.exec(input.node, [CHILD], { env: input.env, timeoutMs: input.timeoutMs });
  if (result.timedOut) return { status: 'timeout', adapters: [] };
  const adapters = result.exitCode === 0 ? parseAdapters(result.stdout.trim().split('\n').pop() ?? '') : null;
  return adapters ? { status: 'ok', adapters } : { status: 'failed', adapters: [] };
}
