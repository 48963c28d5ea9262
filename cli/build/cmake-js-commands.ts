import path from 'node:path';
import type { Engine } from '../hardware/report.js';

export interface EngineBuildPlan {
  backend: Engine;
  /** The package root: CMakeLists.txt, native/ and package.json (whose napi_versions tells cmake-js to use Node-API headers, no download). */
  sourceDir: string;
  buildDir: string;
  /** CMAKE_CUDA_ARCHITECTURES, e.g. "61" for a GTX 1050: the doctor's verdict, never CMakeLists.txt's default (75;90), which would not run on older GPUs. */
  cudaArchitectures: string | null;
  /** The nvcc the doctor chose (CMAKE_CUDA_COMPILER). */
  nvcc: string | null;
  /** Parallel compile jobs. */
  jobs: number;
  platform: NodeJS.Platform;
}

export interface CmakeJsCommands {
  /** Arguments after `node <cmake-js>`: configure always runs, so changed options (archs, nvcc) take effect in a kept build tree. */
  configure: string[];
  build: string[];
}

/**
 * The two cmake-js runs of an engine build. cmake-js picks the generator (Ninja when
 * installed, else make; Visual Studio on Windows) and adds the Node-API include paths.
 */
export function cmakeJsCommands(plan: EngineBuildPlan): CmakeJsCommands {
  const common = ['--directory', plan.sourceDir, '--out', plan.buildDir, '--config', 'Release'];
  const toolset: string[] = [];
  const defines = [`--CDSD_CUDA=${plan.backend === 'cuda' ? 'ON' : 'OFF'}`];
  if (plan.backend === 'cuda') {
    if (!plan.cudaArchitectures || !plan.nvcc) throw new Error('a CUDA build needs the GPU architectures and the nvcc to use');
    defines.push(`--CDSD_CUDA_ARCHS=${plan.cudaArchitectures}`);
    if (plan.platform === 'win32') {
      // Visual Studio generators choose the toolkit through the toolset (-T cuda=<root>),
      // not CMAKE_CUDA_COMPILER; the root is the folder above bin\nvcc.exe.
      toolset.push('--toolset', `cuda=${cudaRootOfNvcc(plan.nvcc, 'win32')}`);
    } else {
      defines.push(`--CDCMAKE_CUDA_COMPILER=${plan.nvcc}`);
    }
  }
  return {
    configure: ['configure', ...common, ...toolset, ...defines],
    build: ['build', ...common, ...toolset, ...defines, '--parallel', String(Math.max(1, Math.floor(plan.jobs)))],
  };
}

/** C:\...\CUDA\v12.4\bin\nvcc.exe -> C:\...\CUDA\v12.4 */
export function cudaRootOfNvcc(nvcc: string, platform: NodeJS.Platform): string {
  const paths = platform === 'win32' ? path.win32 : path.posix;
  return paths.dirname(paths.dirname(nvcc));
}

/**
 * Compile jobs for this machine: one per core, but no more than RAM allows
 * (a CUDA translation unit can take 1.5-2 GB in nvcc/cicc; an old laptop with
 * 8 GB and 8 threads would otherwise swap or be killed mid-build).
 */
export function defaultJobs(cores: number, ramTotalBytes: number | null, backend: Engine): number {
  const perJob = (backend === 'cuda' ? 2 : 1) * 1024 ** 3;
  const byRam = ramTotalBytes === null ? cores : Math.floor(ramTotalBytes / perJob);
  return Math.max(1, Math.min(cores, byRam));
}
