import { combinedOutput, type Exec } from './exec.js';
import { envValue, findOnPath, pathFor, defaultIsFile } from './find-on-path.js';
import { computeCapabilityFromName } from './gpu-names.js';
import { cudaVersionForDriver, driverPlatform } from './cuda-tables.js';
import type { NvidiaFacts, NvidiaGpu } from './report.js';

export interface NvidiaProbeInput {
  exec: Exec;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  timeoutMs: number;
  isFile?: (file: string) => boolean;
}

/** The fields we ask for, in this order. compute_cap needs driver R510+; older ones reject it. */
export const QUERY_FIELDS = ['index', 'name', 'memory.total', 'memory.free', 'driver_version', 'compute_cap', 'pci.bus_id'] as const;

/**
 * Where nvidia-smi may be besides PATH. Linux drivers (and WSL) put it on PATH; on Windows
 * recent drivers install it in System32 (on PATH), older ones only under NVSMI.
 */
export function nvidiaSmiFallbacks(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string[] {
  if (platform !== 'win32') return [];
  const p = pathFor(platform);
  const programFiles = envValue(env, 'ProgramW6432', platform) ?? envValue(env, 'ProgramFiles', platform) ?? 'C:\\Program Files';
  const systemRoot = envValue(env, 'SystemRoot', platform) ?? 'C:\\Windows';
  return [p.join(systemRoot, 'System32', 'nvidia-smi.exe'), p.join(programFiles, 'NVIDIA Corporation', 'NVSMI', 'nvidia-smi.exe')];
}

export function locateNvidiaSmi(input: Omit<NvidiaProbeInput, 'exec' | 'timeoutMs'>): string | null {
  const isFile = input.isFile ?? defaultIsFile;
  const onPath = findOnPath('nvidia-smi', { env: input.env, platform: input.platform, isFile });
  return onPath ?? nvidiaSmiFallbacks(input.platform, input.env).find((f) => isFile(f)) ?? null;
}

/** Driver and CUDA versions from nvidia-smi's banner; both spellings (driver 610 renamed them). */
export function parseNvidiaSmiBanner(text: string): { driverVersion: string | null; cudaVersion: string | null } {
  const driver = /(?:Driver|KMD) Version:\s*(\d+(?:\.\d+)+)/.exec(text)?.[1] ?? null;
  const cuda = /CUDA(?: UMD)? Version:\s*(\d+\.\d+)/.exec(text)?.[1] ?? null;
  return { driverVersion: driver, cudaVersion: cuda };
}

function cell(value: string | undefined): string | null {
  const v = (value ?? '').trim();
  return v === '' || /^\[?(N\/A|Not Supported|Unknown Error|Insufficient Permissions)\]?$/i.test(v) ? null : v;
}

function integerCell(value: string | undefined): number | null {
  const v = cell(value);
  return v !== null && /^\d+$/.test(v) ? Number(v) : null;
}

/** Rows of `--query-gpu=<fields> --format=csv,noheader,nounits`. */
export function parseGpuQuery(text: string, fields: readonly string[]): Array<NvidiaGpu & { driverVersion: string | null }> {
  const gpus: Array<NvidiaGpu & { driverVersion: string | null }> = [];
  for (const line of text.split(/\r?\n/)) {
    const parts = line.split(',');
    if (parts.length !== fields.length) continue;
    const get = (field: string) => parts[fields.indexOf(field)];
    const index = integerCell(get('index'));
    const name = cell(get('name'));
    if (index === null || name === null) continue;
    const reported = fields.includes('compute_cap') ? cell(get('compute_cap')) : null;
    const fromName = reported === null ? computeCapabilityFromName(name) : null;
    gpus.push({
      index,
      name,
      memoryTotalMiB: integerCell(get('memory.total')),
      memoryFreeMiB: integerCell(get('memory.free')),
      computeCapability: reported ?? fromName,
      computeCapabilitySource: reported !== null ? 'nvidia-smi' : fromName !== null ? 'name-table' : null,
      pciBusId: cell(get('pci.bus_id')),
      driverVersion: cell(get('driver_version')),
    });
  }
  return gpus;
}

/** The field an older nvidia-smi rejected: `Field "compute_cap" is not a valid field to query.` */
export function rejectedField(text: string): string | null {
  return /Field "([^"]+)" is not a valid field to query/i.exec(text)?.[1] ?? null;
}

/** What kind of failure nvidia-smi's words (or exit code, see `man nvidia-smi`) describe. */
export function classifyNvidiaSmiFailure(text: string, exitCode: number | null): string {
  if (/couldn't communicate with the NVIDIA driver|NVIDIA driver is not loaded/i.test(text) || exitCode === 9) return 'driver-not-loaded';
  if (/Driver\/library version mismatch/i.test(text) || exitCode === 18) return 'version-mismatch';
  if (/No devices were found/i.test(text) || exitCode === 6) return 'no-devices';
  if (/GPU is lost|GPU has fallen off the bus/i.test(text) || exitCode === 15) return 'gpu-lost';
  if (/NVML|libnvidia-ml/i.test(text) || exitCode === 12) return 'nvml-error';
  return 'unknown';
}

function firstLines(text: string, count = 3): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, count)
    .join(' ');
}

/**
 * Asks nvidia-smi for the GPUs and for its banner (driver and CUDA version), both with a
 * timeout. A missing, failing or hanging nvidia-smi is reported in the facts, never thrown.
 */
export async function probeNvidiaSmi(input: NvidiaProbeInput): Promise<NvidiaFacts> {
  const facts: NvidiaFacts = {
    status: 'not-found',
    command: null,
    failure: null,
    output: null,
    driverVersion: null,
    cudaVersion: null,
    cudaVersionSource: null,
    gpus: [],
  };
  const smi = locateNvidiaSmi(input);
  if (!smi) return facts;
  facts.command = smi;
  const run = (args: string[]) => input.exec(smi, args, { env: input.env, timeoutMs: input.timeoutMs });

  let fields: string[] = [...QUERY_FIELDS];
  const query = () => run([`--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits']);
  let [banner, rows] = await Promise.all([run([]), query()]);
  // Older drivers reject fields they do not know; ask again without them (at most twice).
  for (let retry = 0; retry < 2 && rows.exitCode !== 0 && !rows.timedOut; retry++) {
    const field = rejectedField(combinedOutput(rows));
    if (!field || !fields.includes(field)) break;
    fields = fields.filter((f) => f !== field);
    rows = await query();
  }

  if (banner.notFound && rows.notFound) return facts;
  if (banner.timedOut || rows.timedOut) {
    facts.status = 'timeout';
    facts.failure = 'timeout';
    return facts;
  }
  const failed = [banner, rows].find((r) => r.exitCode !== 0);
  if (failed) {
    const text = combinedOutput(failed);
    facts.status = 'failed';
    facts.failure = classifyNvidiaSmiFailure(text, failed.exitCode);
    facts.output = firstLines(text) || `exit code ${failed.exitCode}`;
    return facts;
  }

  const gpus = parseGpuQuery(rows.stdout, fields);
  const fromBanner = parseNvidiaSmiBanner(banner.stdout);
  facts.status = 'ok';
  facts.driverVersion = fromBanner.driverVersion ?? gpus[0]?.driverVersion ?? null;
  if (fromBanner.cudaVersion) {
    facts.cudaVersion = fromBanner.cudaVersion;
    facts.cudaVersionSource = 'nvidia-smi';
  } else if (facts.driverVersion) {
    facts.cudaVersion = cudaVersionForDriver(facts.driverVersion, driverPlatform(input.platform));
    facts.cudaVersionSource = facts.cudaVersion ? 'driver-table' : null;
  }
  facts.gpus = gpus.map(({ driverVersion: _driver, ...gpu }) => gpu);
  if (facts.gpus.length === 0) {
    facts.status = 'failed';
    facts.failure = 'no-devices';
    facts.output = firstLines(rows.stdout) || 'nvidia-smi listed no GPUs';
  }
  return facts;
}
