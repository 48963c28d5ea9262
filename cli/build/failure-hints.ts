/**
 * What went wrong in a failed engine build (or a failed first run of a fresh
 * addon), recognised from the tools' own words, with what to do about it.
 * Ordered: the first pattern that matches wins, so specific causes come
 * before the generic ones they also produce (an nvcc failure also ends in
 * "ninja: build stopped").
 */
export interface FailureHint {
  id: string;
  /** One line: the cause. */
  message: string;
  /** One line: what to do. */
  hint: string;
}

interface Rule {
  id: string;
  pattern: RegExp;
  explain(match: RegExpExecArray, platform: NodeJS.Platform): { message: string; hint: string };
}

function compilerInstall(platform: NodeJS.Platform): string {
  if (platform === 'win32') return 'install Visual Studio 2022 Build Tools with "Desktop development with C++" (https://visualstudio.microsoft.com/visual-cpp-build-tools/), then open a new terminal';
  if (platform === 'darwin') return 'install the Xcode command line tools: xcode-select --install';
  return 'install a C++ compiler: sudo apt install build-essential (Debian/Ubuntu), sudo dnf install gcc-c++ make (Fedora), sudo pacman -S base-devel (Arch)';
}

function cmakeInstall(platform: NodeJS.Platform): string {
  if (platform === 'win32') return 'install CMake 3.18 or newer from https://cmake.org/download/ (tick "Add CMake to the PATH"), then open a new terminal';
  if (platform === 'darwin') return 'install CMake: brew install cmake (or https://cmake.org/download/)';
  return 'install CMake 3.18 or newer: sudo apt install cmake (Debian/Ubuntu), sudo dnf install cmake (Fedora); an old distribution can use pip install cmake';
}

const RULES: readonly Rule[] = [
  {
    id: 'no-disk-space',
    pattern: /No space left on device|There is not enough space on the disk|not enough space on the disk|error C1085/i,
    explain: () => ({ message: 'the disk filled up during the build', hint: 'free some space on the install folder\'s disk (the build needs about 1 GB), then run the same command again' }),
  },
  {
    id: 'out-of-memory',
    pattern: /Killed signal terminated program|virtual memory exhausted|cannot allocate memory|out of memory allocating|compiler is out of heap space|error C1060/i,
    explain: () => ({ message: 'the compiler ran out of memory (several compile jobs at once)', hint: 'close other programs and build with fewer jobs: add --jobs 1' }),
  },
  {
    id: 'nvcc-unsupported-gpu-arch',
    pattern: /nvcc fatal\s*:\s*(?:Unsupported gpu architecture '([^']+)'|Value '([^']+)' is not defined for option 'gpu-architecture')/,
    explain: (m) => ({
      message: `this CUDA toolkit cannot compile for the GPU's architecture (${m[1] ?? m[2]})`,
      hint: 'run "sd-setup doctor": it names the CUDA toolkit version that supports this GPU; or build the CPU engine (--engine cpu)',
    }),
  },
  {
    id: 'nvcc-unsupported-host-compiler',
    pattern: /#error\s+--\s+unsupported (GNU|clang|Microsoft Visual Studio) version!([^!\n]*!?)/,
    explain: (m, platform) => ({
      message: `nvcc refuses this ${m[1] === 'GNU' ? 'g++' : m[1]} version:${m[2]}`,
      hint:
        platform === 'win32'
          ? 'install a Visual Studio version this CUDA toolkit supports, or a newer CUDA toolkit (see "sd-setup doctor")'
          : 'install an older g++ the toolkit supports (e.g. sudo apt install g++-12) and build with CUDAHOSTCXX=/usr/bin/g++-12 in the environment, or install a newer CUDA toolkit',
    }),
  },
  {
    id: 'cuda-driver-too-old',
    pattern: /CUDA driver version is insufficient|cudaErrorInsufficientDriver|provided PTX was compiled with an unsupported toolchain|cudaErrorUnsupportedPtxVersion/,
    explain: () => ({
      message: 'the NVIDIA driver is older than the CUDA toolkit the engine was built with',
      hint: 'update the NVIDIA driver (https://www.nvidia.com/Download/index.aspx), or build with the older toolkit "sd-setup doctor" names, or use the CPU engine (--engine cpu)',
    }),
  },
  {
    id: 'cuda-no-kernel-image',
    pattern: /no kernel image is available for execution on the device|cudaErrorNoKernelImageForDevice/,
    explain: () => ({
      message: 'the engine was not compiled for this GPU\'s architecture',
      hint: 'rebuild it with "sd-setup build" (it compiles for the architecture "sd-setup doctor" reports)',
    }),
  },
  {
    id: 'cuda-toolkit-missing',
    pattern: /SD_CUDA=ON but no CUDA compiler|No CUDA toolset found|Failed to find nvcc|CMAKE_CUDA_COMPILER:[\s\S]{0,200}?is not a full path to an existing compiler tool/,
    explain: (_m, platform) => ({
      message: 'CMake could not use the CUDA toolkit',
      hint:
        platform === 'win32'
          ? 'reinstall the CUDA toolkit after Visual Studio (its Visual Studio integration is then installed), or build the CPU engine (--engine cpu)'
          : 'check the toolkit "sd-setup doctor" reports (its nvcc must run), or build the CPU engine (--engine cpu)',
    }),
  },
  {
    id: 'cmake-too-old',
    pattern: /CMake ([\d.]+) or higher is required\.\s+You are running version ([\d.]+)/,
    explain: (m, platform) => ({ message: `CMake ${m[2]} is too old: the engine needs ${m[1]} or newer`, hint: cmakeInstall(platform) }),
  },
  {
    id: 'no-cmake',
    pattern: /CMake executable is not found|spawn cmake(?:\.exe)? ENOENT|'cmake' is not recognized/,
    explain: (_m, platform) => ({ message: 'CMake is not installed (or not on PATH)', hint: cmakeInstall(platform) }),
  },
  {
    id: 'no-visual-studio',
    pattern: /could not find any instance of Visual Studio|Cannot find a Visual Studio|No suitable Visual Studio/i,
    explain: (_m, platform) => ({ message: 'no Visual Studio with the C++ tools was found', hint: compilerInstall(platform) }),
  },
  {
    id: 'no-compiler',
    pattern: /C\+\+ Compiler toolset is not available|No CMAKE_CXX_COMPILER could be found|CMAKE_CXX_COMPILER:[\s\S]{0,200}?is not a full path and was not found in the PATH|The C\+\+ compiler[\s\S]{0,200}?is not able to compile a simple test program/,
    explain: (_m, platform) => ({ message: 'no working C++ compiler was found', hint: compilerInstall(platform) }),
  },
  {
    id: 'no-build-tool',
    pattern: /CMake was unable to find a build program corresponding to "([^"]+)"/,
    explain: (m, platform) => ({
      message: `the build program for "${m[1]}" (make or ninja) is missing`,
      hint: platform === 'linux' ? 'sudo apt install build-essential (or ninja-build)' : compilerInstall(platform),
    }),
  },
  {
    id: 'addon-in-use',
    pattern: /LNK1104: cannot open file '[^']*sd_engine\.node'|Text file busy/,
    explain: () => ({ message: 'the engine file is in use by a running sd-setup', hint: 'stop "sd-setup launch" (and any other sd-setup) first, then build again' }),
  },
  {
    id: 'compile-error',
    pattern: /^.*(?:error:|error C\d{4}:|fatal error)[^\n]*$/m,
    explain: (m) => ({
      message: `the compiler stopped with an error: ${m[0].trim().slice(0, 200)}`,
      hint: 'run "sd-setup doctor" to check the compiler version; if it is supported, please report this with the build log',
    }),
  },
];

export function matchFailureHint(output: string, platform: NodeJS.Platform): FailureHint | undefined {
  for (const rule of RULES) {
    const match = rule.pattern.exec(output);
    if (match) return { id: rule.id, ...rule.explain(match, platform) };
  }
  return undefined;
}

export const FAILURE_HINT_IDS: readonly string[] = RULES.map((r) => r.id);
