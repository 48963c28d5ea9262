import type { CudaToolkit, DoctorFacts, NvidiaGpu } from '../../cli/hardware/report.js';

const GiB = 1024 ** 3;

/** A healthy Linux desktop without a GPU: every test changes just what it is about. */
export function baseFacts(): DoctorFacts {
  return {
    platform: { os: 'linux', arch: 'x64' },
    nvidia: { status: 'not-found', command: null, failure: null, output: null, driverVersion: null, cudaVersion: null, cudaVersionSource: null, gpus: [] },
    adapters: { status: 'ok', adapters: [] },
    cudaToolkit: { toolkits: [], buildUses: null, buildUsesReason: null, problems: [] },
    buildTools: {
      cmake: { found: true, path: '/usr/bin/cmake', version: '3.28.3' },
      compiler: { found: true, path: '/usr/bin/c++', version: '13.2.0', kind: 'g++', cpp17: true },
      buildRunner: { found: true, name: 'make', path: '/usr/bin/make', version: '4.3' },
      node: { version: '20.18.0', ok: true },
    },
    cpu: { model: 'AMD Ryzen 7 5800X', cores: 16, physicalCores: 8, arch: 'x64', simd: { avx2: true, avx512: false, avx512bf16: false, f16c: true, neon: false } },
    memory: { totalBytes: 32 * GiB, availableBytes: 24 * GiB },
    disk: { modelsDir: '/home/u/sd-setup/models', measuredPath: '/home/u', freeBytes: 200e9, requiredBytes: 5_343_741_824 },
    engine: { built: false, path: '/pkg/build/native/Release/sd_engine.node' },
  };
}

export function gpu(partial: Partial<NvidiaGpu> & Pick<NvidiaGpu, 'name'>): NvidiaGpu {
  return {
    index: 0,
    memoryTotalMiB: 8192,
    memoryFreeMiB: 7900,
    computeCapability: '8.6',
    computeCapabilitySource: 'nvidia-smi',
    pciBusId: '00000000:01:00.0',
    ...partial,
  };
}

/** Facts with a working driver and these GPUs. */
export function withNvidia(facts: DoctorFacts, driverVersion: string, cudaVersion: string | null, gpus: NvidiaGpu[]): DoctorFacts {
  facts.nvidia = {
    status: 'ok',
    command: '/usr/bin/nvidia-smi',
    failure: null,
    output: null,
    driverVersion,
    cudaVersion,
    cudaVersionSource: cudaVersion ? 'nvidia-smi' : null,
    gpus,
  };
  return facts;
}

/** Facts with these toolkits; the first is the one on PATH (what the build uses). */
export function withToolkits(facts: DoctorFacts, versions: string[], platform: 'linux' | 'win32' = 'linux'): DoctorFacts {
  const toolkits: CudaToolkit[] = versions.map((v, i) => {
    const root = platform === 'win32' ? `C:\\Program Files\\NVIDIA GPU Computing Toolkit\\CUDA\\v${v}` : `/usr/local/cuda-${v}`;
    return { version: v, release: `${v}.0`, nvcc: platform === 'win32' ? `${root}\\bin\\nvcc.exe` : `${root}/bin/nvcc`, aliases: [], root, foundBy: i === 0 ? ['PATH', 'search'] : ['search'] };
  });
  facts.cudaToolkit = { toolkits, buildUses: toolkits.length ? 0 : null, buildUsesReason: toolkits.length ? 'first nvcc on PATH' : null, problems: [] };
  return facts;
}
