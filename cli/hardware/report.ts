/**
 * The report of `sd-setup doctor`, exactly what `--json` prints (README "doctor --json").
 * Stable: fields are only ever added; a removal or a change of meaning bumps SCHEMA_VERSION.
 * Units: VRAM in MiB (nvidia-smi's unit), RAM and disk in bytes. Unknown values are null.
 */
export const SCHEMA_VERSION = 1;

export type Severity = 'ok' | 'warn' | 'error';
/** What a finding stops: nothing, the CUDA engine (the CPU engine still works), or everything. */
export type Blocks = 'nothing' | 'gpu' | 'everything';
export type MemoryMode = 'normal' | 'medvram' | 'lowvram' | 'cpu';
export type Engine = 'cuda' | 'cpu';

export interface Finding {
  /** Stable identifier, e.g. "cuda.toolkit-cannot-target-gpu"; see README for the list. */
  id: string;
  severity: Severity;
  blocks: Blocks;
  /** One line: what is true. */
  message: string;
  /** One line: what to do about it; null when nothing needs doing. */
  fix: string | null;
  /** A page that helps with the fix (a download page), or null. */
  link: string | null;
}

export interface NvidiaGpu {
  /** nvidia-smi's index (the CUDA device order with CUDA_DEVICE_ORDER=PCI_BUS_ID). */
  index: number;
  name: string;
  memoryTotalMiB: number | null;
  memoryFreeMiB: number | null;
  /** "8.6"; null when neither nvidia-smi nor the name table knows it. */
  computeCapability: string | null;
  computeCapabilitySource: 'nvidia-smi' | 'name-table' | null;
  pciBusId: string | null;
}

export type ProbeStatus = 'ok' | 'not-found' | 'failed' | 'timeout';

export interface NvidiaFacts {
  /** not-found: no nvidia-smi; failed: it ran and reported an error; timeout: it hung. */
  status: ProbeStatus;
  /** The nvidia-smi that was run. */
  command: string | null;
  /** Kind of failure: driver-not-loaded, version-mismatch, no-devices, gpu-lost, nvml-error, unknown. */
  failure: string | null;
  /** nvidia-smi's own words (first lines) when it failed. */
  output: string | null;
  /** "535.129.03" (the kernel-mode driver, "KMD Version" from driver 610 on). */
  driverVersion: string | null;
  /** Newest CUDA the driver runs ("CUDA Version" / "CUDA UMD Version" in the banner), "12.2". */
  cudaVersion: string | null;
  /** Whether cudaVersion came from nvidia-smi's banner or the driver table. */
  cudaVersionSource: 'nvidia-smi' | 'driver-table' | null;
  gpus: NvidiaGpu[];
}

export interface GraphicsAdapter {
  vendor: 'nvidia' | 'amd' | 'intel' | 'apple' | 'other';
  /** As the system names it, e.g. "Intel Corporation HD Graphics 520". */
  name: string;
  vramMiB: number | null;
}

export interface AdapterFacts {
  status: ProbeStatus;
  adapters: GraphicsAdapter[];
}

export interface CudaToolkit {
  /** "12.4" */
  version: string;
  /** "12.4.131" as nvcc prints it, or the version file's. */
  release: string | null;
  /** The nvcc that was run. */
  nvcc: string;
  /** Other nvcc paths that turned out to be this same toolkit (symlinks, wrappers). */
  aliases: string[];
  /** The toolkit folder (the parent of bin/), when known. */
  root: string | null;
  /** How it was found: "CUDACXX", "PATH", "CUDA_PATH", "CUDA_HOME", "CUDA_PATH_V12_4", "search". */
  foundBy: string[];
}

export interface CudaToolkitFacts {
  toolkits: CudaToolkit[];
  /** Index into toolkits of the one the engine build would use, or null (none found by it). */
  buildUses: number | null;
  /** Why the build picks it: "CUDACXX", "first nvcc on PATH" or "CUDA_PATH". */
  buildUsesReason: string | null;
  /** nvcc commands that exist but failed or hung (path: what happened). */
  problems: string[];
}

export interface ToolFacts {
  found: boolean;
  path: string | null;
  version: string | null;
}

export interface CompilerFacts extends ToolFacts {
  /** g++, clang++, msvc or unknown. */
  kind: 'g++' | 'clang++' | 'msvc' | 'unknown' | null;
  /** Whether this version compiles the engine's C++17 (g++ ≥ 9, clang ≥ 10, MSVC 2019+). */
  cpp17: boolean;
}

export interface BuildToolFacts {
  cmake: ToolFacts;
  compiler: CompilerFacts;
  /** make or ninja (not needed on Windows, where cmake-js drives Visual Studio). */
  buildRunner: ToolFacts & { name: string | null };
  node: { version: string; ok: boolean };
}

export interface CpuFacts {
  model: string | null;
  /** Logical processors. */
  cores: number;
  physicalCores: number | null;
  arch: string;
  simd: { avx2: boolean; avx512: boolean; avx512bf16: boolean; f16c: boolean; neon: boolean };
}

export interface MemoryFacts {
  totalBytes: number | null;
  availableBytes: number | null;
}

export interface DiskFacts {
  /** Where models go (--models-dir, default ~/sd-setup/models). */
  modelsDir: string;
  /** The existing folder measured (the models folder or its nearest existing parent). */
  measuredPath: string | null;
  freeBytes: number | null;
  requiredBytes: number;
}

export interface EngineFacts {
  /** Whether the native engine is already built, so build tools are only needed to rebuild it. */
  built: boolean;
  path: string;
}

export interface Recommendation {
  engine: Engine;
  mode: MemoryMode;
  /** AUTOMATIC1111-style flags for the mode, e.g. ["--lowvram"]; [] for normal and cpu. */
  flags: string[];
  /** The NVIDIA GPU to run on (nvidia-smi index); null for the CPU engine. */
  gpuIndex: number | null;
  /** CMAKE_CUDA_ARCHITECTURES for the build, e.g. "50" or "61;89"; null for the CPU engine. */
  cudaArchitectures: string | null;
  /** The nvcc the build should use (CMAKE_CUDA_COMPILER); null for the CPU engine. */
  nvcc: string | null;
  /** Load the checkpoint tensor by tensor in half precision, for machines with little RAM. */
  halfPrecisionLoad: boolean;
}

export interface Verdict extends Recommendation {
  /** False when an "everything" finding stands: then doctor exits with code 1. */
  canGenerate: boolean;
  /** One line for people. */
  summary: string;
  /** What the GPU would give once the GPU findings are fixed; null when it already does (or never can). */
  afterFixes: Recommendation | null;
}

/** Everything the probes found; diagnose() turns it into a report without touching the machine. */
export interface DoctorFacts {
  platform: { os: NodeJS.Platform; arch: string };
  nvidia: NvidiaFacts;
  adapters: AdapterFacts;
  cudaToolkit: CudaToolkitFacts;
  buildTools: BuildToolFacts;
  cpu: CpuFacts;
  memory: MemoryFacts;
  disk: DiskFacts;
  engine: EngineFacts;
}

/** The facts as found, with what they mean (the `--json` output). */
export interface DoctorReport extends DoctorFacts {
  schemaVersion: typeof SCHEMA_VERSION;
  tool: { name: 'sd-setup'; version: string };
  createdAt: string;
  verdict: Verdict;
  findings: Finding[];
}
