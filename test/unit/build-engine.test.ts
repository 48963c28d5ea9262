import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import path from 'node:path';
import { parseBuildLine } from '../../cli/build/build-progress.js';
import { cmakeJsCommands, cudaRootOfNvcc, defaultJobs } from '../../cli/build/cmake-js-commands.js';
import { buildLogName, enginePaths } from '../../cli/build/engine-paths.js';
import { FAILURE_HINT_IDS, matchFailureHint } from '../../cli/build/failure-hints.js';

const GiB = 1024 ** 3;

describe('cmake-js command lines', () => {
  const base = { sourceDir: '/pkg', buildDir: '/home/u/sd-setup/engine/build-cpu', jobs: 2, platform: 'linux' as const };

  it('builds the CPU engine with CUDA off, configuring every time', () => {
    const c = cmakeJsCommands({ ...base, backend: 'cpu', cudaArchitectures: null, nvcc: null });
    assert.deepEqual(c.configure, ['configure', '--directory', '/pkg', '--out', base.buildDir, '--config', 'Release', '--CDSD_CUDA=OFF']);
    assert.deepEqual(c.build.slice(-3), ['--CDSD_CUDA=OFF', '--parallel', '2']);
    assert.equal(c.build[0], 'build');
  });

  it("passes the doctor's architectures and nvcc to a CUDA build (never CMakeLists.txt's 75;90 default)", () => {
    const c = cmakeJsCommands({ ...base, backend: 'cuda', cudaArchitectures: '61', nvcc: '/usr/local/cuda-12.4/bin/nvcc' });
    for (const args of [c.configure, c.build]) {
      assert.ok(args.includes('--CDSD_CUDA=ON'));
      assert.ok(args.includes('--CDSD_CUDA_ARCHS=61'));
      assert.ok(args.includes('--CDCMAKE_CUDA_COMPILER=/usr/local/cuda-12.4/bin/nvcc'));
    }
  });

  it('selects the toolkit through the Visual Studio toolset on Windows', () => {
    const nvcc = 'C:\\Program Files\\NVIDIA GPU Computing Toolkit\\CUDA\\v12.4\\bin\\nvcc.exe';
    const c = cmakeJsCommands({ ...base, platform: 'win32', backend: 'cuda', cudaArchitectures: '50;61', nvcc });
    const at = c.configure.indexOf('--toolset');
    assert.equal(c.configure[at + 1], 'cuda=C:\\Program Files\\NVIDIA GPU Computing Toolkit\\CUDA\\v12.4');
    assert.ok(c.configure.includes('--CDSD_CUDA_ARCHS=50;61'));
    assert.ok(!c.configure.some((a) => a.startsWith('--CDCMAKE_CUDA_COMPILER')));
    assert.equal(cudaRootOfNvcc('/opt/cuda/bin/nvcc', 'linux'), '/opt/cuda');
  });

  it('refuses a CUDA build without architectures or nvcc', () => {
    assert.throws(() => cmakeJsCommands({ ...base, backend: 'cuda', cudaArchitectures: null, nvcc: '/x/nvcc' }), /architectures/);
  });

  it('limits compile jobs by RAM (2 GB per CUDA job, 1 GB per C++ job)', () => {
    assert.equal(defaultJobs(8, 8 * GiB, 'cuda'), 4);
    assert.equal(defaultJobs(8, 8 * GiB, 'cpu'), 8);
    assert.equal(defaultJobs(2, 64 * GiB, 'cuda'), 2);
    assert.equal(defaultJobs(4, 1.5 * GiB, 'cuda'), 1);
    assert.equal(defaultJobs(4, null, 'cpu'), 4);
  });
});

describe('engine paths', () => {
  it('keeps one build tree per backend and installs one addon', () => {
    const p = enginePaths('/home/u/sd-setup', 'cuda', path.posix);
    assert.equal(p.buildDir, '/home/u/sd-setup/engine/build-cuda');
    assert.equal(p.builtAddon, '/home/u/sd-setup/engine/build-cuda/Release/sd_engine.node');
    assert.equal(p.installedAddon, '/home/u/sd-setup/engine/sd_engine.node');
  });

  it('uses Windows paths on Windows', () => {
    const p = enginePaths('C:\\Users\\Ann\\sd-setup', 'cpu', path.win32);
    assert.equal(p.builtAddon, 'C:\\Users\\Ann\\sd-setup\\engine\\build-cpu\\Release\\sd_engine.node');
    assert.equal(p.logsDir, 'C:\\Users\\Ann\\sd-setup\\logs');
  });

  it('names logs without characters Windows forbids', () => {
    assert.equal(buildLogName(new Date('2025-03-01T10:22:05.123Z')), 'build-2025-03-01T10-22-05.log');
  });
});

describe('build progress', () => {
  it('reads ninja counts and names the file being compiled', () => {
    assert.deepEqual(parseBuildLine('[12/61] Building CXX object CMakeFiles/sd_engine_core.dir/native/model/unet.cpp.o'), {
      phase: 'compile',
      percent: 19,
      done: 12,
      total: 61,
      activity: 'compiling native/model/unet.cpp',
    });
    assert.equal(parseBuildLine('[61/61] Linking CXX shared library Release/sd_engine.node')?.activity, 'linking sd_engine.node');
    assert.equal(parseBuildLine('[3/40] Building CUDA object CMakeFiles/sd_engine_cuda.dir/native/ops/cuda/gemm.cu.o')?.activity, 'compiling native/ops/cuda/gemm.cu');
  });

  it('reads make percentages', () => {
    const p = parseBuildLine('[ 45%] Building CXX object CMakeFiles/sd_engine_core.dir/native/io/inflate.cpp.o');
    assert.equal(p?.percent, 45);
    assert.equal(p?.activity, 'compiling native/io/inflate.cpp');
  });

  it('reads MSBuild file lines and CMake configure lines; ignores the rest', () => {
    assert.deepEqual(parseBuildLine('  unet.cpp'), { phase: 'compile', percent: undefined, activity: 'compiling unet.cpp' });
    assert.equal(parseBuildLine('-- The CXX compiler identification is GNU 12.2.0')?.phase, 'configure');
    assert.equal(parseBuildLine('-- Build files have been written to: /x')?.activity, 'configured');
    assert.equal(parseBuildLine('info TOOL Using Ninja generator, because ninja is available.'), undefined);
    assert.equal(parseBuildLine(''), undefined);
  });
});

// Each text is what the tool prints (CMake 3.2x, GCC 12, nvcc 11/12, MSVC, cmake-js 8, glibc).
const FAILURES: Record<string, { text: string; platform?: NodeJS.Platform; hint: RegExp }> = {
  'no-compiler': {
    text: 'CMake Error at CMakeLists.txt:10 (project):\n  No CMAKE_CXX_COMPILER could be found.\n\n  Tell CMake where to find the compiler by setting either the environment\n  variable "CXX" or the CMake cache entry CMAKE_CXX_COMPILER to the full path\n  to the compiler, or to the compiler name if it is in the PATH.\n-- Configuring incomplete, errors occurred!',
    hint: /sudo apt install build-essential/,
  },
  'no-visual-studio': {
    text: 'CMake Error at CMakeLists.txt:10 (project):\n  Generator\n\n    Visual Studio 17 2022\n\n  could not find any instance of Visual Studio.',
    platform: 'win32',
    hint: /Visual Studio 2022 Build Tools with "Desktop development with C\+\+"/,
  },
  'no-cmake': {
    text: "ERR! OMG CMake executable is not found. Please use your system's package manager to install it, or you can get installers from there: http://cmake.org.",
    hint: /sudo apt install cmake/,
  },
  'cmake-too-old': {
    text: 'CMake Error at CMakeLists.txt:8 (cmake_minimum_required):\n  CMake 3.18 or higher is required.  You are running version 3.16.3',
    platform: 'darwin',
    hint: /brew install cmake/,
  },
  'nvcc-unsupported-gpu-arch': {
    text: "[1/40] Building CUDA object CMakeFiles/sd_engine_cuda.dir/native/ops/cuda/gemm.cu.o\nFAILED: CMakeFiles/sd_engine_cuda.dir/native/ops/cuda/gemm.cu.o\nnvcc fatal   : Unsupported gpu architecture 'compute_35'\nninja: build stopped: subcommand failed.",
    hint: /sd-setup doctor.*--engine cpu/,
  },
  'nvcc-unsupported-host-compiler': {
    text: "/usr/local/cuda/bin/../targets/x86_64-linux/include/crt/host_config.h:143:2: error: #error -- unsupported GNU version! gcc versions later than 12 are not supported! The nvcc flag '-allow-unsupported-compiler' can be used to override this version check",
    hint: /CUDAHOSTCXX=\/usr\/bin\/g\+\+-12/,
  },
  'cuda-driver-too-old': {
    text: 'could not load the model: CUDA backend unavailable: CUDA driver version is insufficient for CUDA runtime version (is the NVIDIA driver installed and new enough?)',
    hint: /update the NVIDIA driver/,
  },
  'cuda-no-kernel-image': { text: 'CUDA error: no kernel image is available for execution on the device', hint: /sd-setup build/ },
  'no-disk-space': { text: '/usr/bin/ld: final link failed: No space left on device\ncollect2: error: ld returned 1 exit status', hint: /free some space/ },
  'out-of-memory': { text: 'c++: fatal error: Killed signal terminated program cc1plus\ncompilation terminated.', hint: /--jobs 1/ },
  'addon-in-use': {
    text: "LINK : fatal error LNK1104: cannot open file 'C:\\Users\\Ann\\sd-setup\\engine\\build-cpu\\Release\\sd_engine.node'",
    platform: 'win32',
    hint: /stop "sd-setup launch"/,
  },
  'no-build-tool': { text: 'CMake Error: CMake was unable to find a build program corresponding to "Unix Makefiles".  CMAKE_MAKE_PROGRAM is not set.', hint: /build-essential/ },
  'cuda-toolkit-missing': { text: 'CMake Error at CMakeLists.txt:60 (message):\n  SD_CUDA=ON but no CUDA compiler (nvcc) was found.', hint: /--engine cpu/ },
  'compile-error': { text: "native/model/unet.cpp:12:5: error: 'foo' was not declared in this scope", hint: /report/ },
};

describe('build failure hints', () => {
  for (const [id, { text, platform, hint }] of Object.entries(FAILURES)) {
    it(`recognises ${id}`, () => {
      const found = matchFailureHint(text, platform ?? 'linux');
      assert.equal(found?.id, id);
      assert.match(found!.hint, hint);
    });
  }

  it("recognises cmake-js's own check for g++/clang++", () => {
    const text = "ERROR OMG C++ Compiler toolset is not available. Install proper compiler toolset with your package manager, eg. 'sudo apt-get install g++'.";
    assert.equal(matchFailureHint(text, 'linux')?.id, 'no-compiler');
  });

  it('covers every rule with a real text', () => {
    assert.deepEqual([...FAILURE_HINT_IDS].sort(), Object.keys(FAILURES).sort());
  });

  it('prefers the specific cause over the generic compiler error it also produces', () => {
    const text = `${FAILURES['nvcc-unsupported-host-compiler']!.text}\nninja: build stopped: subcommand failed.`;
    assert.equal(matchFailureHint(text, 'linux')?.id, 'nvcc-unsupported-host-compiler');
    assert.match(matchFailureHint(text, 'linux')!.message, /gcc versions later than 12 are not supported!$/);
  });

  it('names the architecture nvcc rejected', () => {
    assert.match(matchFailureHint("nvcc fatal   : Value 'sm_30' is not defined for option 'gpu-architecture'", 'linux')!.message, /sm_30/);
  });

  it('says nothing about a log it does not understand', () => {
    assert.equal(matchFailureHint('-- Configuring done\n-- Generating done', 'linux'), undefined);
  });
});
