import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCmakeVersion } from '../../../cli/hardware/probe-cmake.js';
import { cpuModel, flagsFromCpuinfo, simdFromFlags } from '../../../cli/hardware/probe-cpu.js';
import { parseNvccVersion, parseToolkitVersionFile } from '../../../cli/hardware/probe-cuda-toolkits.js';
import { parseCompilerVersion, parseMsvcVersion, parseVswhere, supportsCpp17 } from '../../../cli/hardware/probe-cxx-compiler.js';
import { parseAdapters } from '../../../cli/hardware/probe-graphics-adapters.js';
import { classifyNvidiaSmiFailure, parseGpuQuery, parseNvidiaSmiBanner, QUERY_FIELDS, rejectedField } from '../../../cli/hardware/probe-nvidia-smi.js';
import * as out from '../../helpers/hardware-outputs.js';

const NO_CC = QUERY_FIELDS.filter((f) => f !== 'compute_cap');

describe('nvidia-smi banner', () => {
  const cases: Array<[string, string, string | null, string | null]> = [
    ['R384 (no CUDA version yet)', out.BANNER_384, '384.130', null],
    ['R470, old layout', out.BANNER_470, '470.256.02', '11.4'],
    ['R535, new layout', out.BANNER_535_TWO_GPUS, '535.288.01', '12.2'],
    ['R550', out.BANNER_550, '550.54.15', '12.4'],
    ['R580 on the H100', out.BANNER_H100_580, '580.159.04', '13.0'],
    ['R610: KMD Version / CUDA UMD Version', out.BANNER_610, '610.43.02', '13.3'],
  ];
  for (const [what, text, driver, cuda] of cases) {
    it(what, () => assert.deepEqual(parseNvidiaSmiBanner(text), { driverVersion: driver, cudaVersion: cuda }));
  }
});

describe('nvidia-smi --query-gpu rows', () => {
  it('reads every field (H100 as captured)', () => {
    assert.deepEqual(parseGpuQuery(out.QUERY_H100_580, QUERY_FIELDS), [
      {
        index: 0,
        name: 'NVIDIA H100 80GB HBM3',
        memoryTotalMiB: 81559,
        memoryFreeMiB: 81079,
        computeCapability: '9.0',
        computeCapabilitySource: 'nvidia-smi',
        pciBusId: '00000000:00:06.0',
        driverVersion: '580.159.04',
      },
    ]);
  });

  it('falls back to the name table when compute_cap was not asked', () => {
    const [g] = parseGpuQuery(out.QUERY_930M_470_NO_CC, NO_CC);
    assert.deepEqual([g?.computeCapability, g?.computeCapabilitySource, g?.memoryTotalMiB], ['5.0', 'name-table', 2004]);
  });

  it('reads two GPUs in order', () => {
    assert.deepEqual(
      parseGpuQuery(out.QUERY_TWO_GPUS_535, QUERY_FIELDS).map((g) => [g.index, g.name, g.computeCapability]),
      [
        [0, 'NVIDIA GeForce GTX 1050', '6.1'],
        [1, 'NVIDIA RTX 4000 SFF Ada Generation', '8.9'],
      ],
    );
  });

  it('turns [N/A] into null and skips lines that are not rows', () => {
    const text = 'No devices were found\n0, NVIDIA GB10, [N/A], [N/A], 580.95.05, 12.1, 0000000F:01:00.0\n\n';
    const [g, ...rest] = parseGpuQuery(text, QUERY_FIELDS);
    assert.deepEqual(rest, []);
    assert.deepEqual([g?.memoryTotalMiB, g?.memoryFreeMiB, g?.computeCapability], [null, null, '12.1']);
  });

  it('names the field an old driver rejected (wording captured from nvidia-smi 580)', () => {
    assert.equal(rejectedField(out.SMI_COMPUTE_CAP_REJECTED), 'compute_cap');
    assert.equal(rejectedField('Field "bogus_field" is not a valid field to query.\n\n'), 'bogus_field');
    assert.equal(rejectedField(out.SMI_DRIVER_NOT_LOADED), null);
  });
});

describe('nvidia-smi failures', () => {
  const cases: Array<[string, string, number | null, string]> = [
    ['kernel module not loaded', out.SMI_DRIVER_NOT_LOADED, 9, 'driver-not-loaded'],
    ['same, known only by exit code', '', 9, 'driver-not-loaded'],
    ['updated without reboot', out.SMI_VERSION_MISMATCH, 18, 'version-mismatch'],
    ['no GPU', 'No devices were found\n', 6, 'no-devices'],
    ['fell off the bus', 'Unable to determine the device handle for GPU 0000:01:00.0: GPU is lost.  Reboot the system to recover this GPU\n', 15, 'gpu-lost'],
    ['NVML missing', 'NVIDIA-SMI couldn\'t find libnvidia-ml.so library in your system.\n', 12, 'nvml-error'],
    ['anything else', 'Segmentation fault\n', 139, 'unknown'],
  ];
  for (const [what, text, code, kind] of cases) {
    it(what, () => assert.equal(classifyNvidiaSmiFailure(text, code), kind));
  }
});

describe('nvcc and toolkit versions', () => {
  const cases: Array<[string, string, string]> = [
    [out.NVCC_11_4, '11.4', '11.4.152'],
    [out.NVCC_12_2, '12.2', '12.2.140'],
    [out.NVCC_12_4, '12.4', '12.4.131'],
    [out.NVCC_12_9, '12.9', '12.9.86'],
    [out.NVCC_13_0, '13.0', '13.0.88'],
  ];
  for (const [text, version, release] of cases) {
    it(`nvcc ${release}`, () => assert.deepEqual(parseNvccVersion(text), { version, release }));
  }
  it('is null for something else', () => assert.equal(parseNvccVersion('bash: nvcc: command not found'), null));
  it('reads version.json and version.txt', () => {
    assert.equal(parseToolkitVersionFile('{"cuda":{"name":"CUDA SDK","version":"12.4.1"},"cuda_cudart":{"version":"12.4.127"}}'), '12.4.1');
    assert.equal(parseToolkitVersionFile('CUDA Version 10.2.89\n'), '10.2.89');
    assert.equal(parseToolkitVersionFile(''), null);
  });
});

describe('build tools', () => {
  it('reads cmake versions', () => {
    assert.equal(parseCmakeVersion(out.CMAKE_3_28), '3.28.3');
    assert.equal(parseCmakeVersion(out.CMAKE_3_16), '3.16.3');
    assert.equal(parseCmakeVersion('cmake version 4.4.3\n\nCMake suite maintained and supported by Kitware (kitware.com/cmake).\n'), '4.4.3');
  });

  const compilers: Array<[string, string, string, boolean]> = [
    ['Ubuntu c++ (GCC 13)', out.CXX_GCC_13, 'g++ 13.2.0', true],
    ['Ubuntu 24.04 c++ on the GPU machine', 'c++ (Ubuntu 13.3.0-6ubuntu2~24.04.1) 13.3.0\nCopyright (C) 2023 Free Software Foundation, Inc.\n', 'g++ 13.3.0', true],
    ['RHEL 8 g++ 8.5', out.GXX_GCC_8, 'g++ 8.5.0', false],
    ['clang 18', out.CLANG_18, 'clang++ 18.1.3', true],
    ['Apple clang 15', out.APPLE_CLANG_15, 'clang++ 15.0.0', true],
    ['clang 9', 'clang version 9.0.1-12\nTarget: x86_64-pc-linux-gnu\n', 'clang++ 9.0.1', false],
  ];
  for (const [what, text, expected, cpp17] of compilers) {
    it(what, () => {
      const parsed = parseCompilerVersion(text);
      assert.equal(`${parsed.kind} ${parsed.version}`, expected);
      assert.equal(supportsCpp17(parsed.kind, parsed.version), cpp17);
    });
  }

  it('reads the MSVC banner and vswhere', () => {
    assert.equal(parseMsvcVersion(out.MSVC_CL_BANNER), '19.38.33133');
    assert.equal(supportsCpp17('msvc', '19.38.33133'), true);
    assert.equal(supportsCpp17('msvc', '19.16.27045'), false); // VS 2017
    const vs2022 = '[{"instanceId":"a1b2","installationPath":"C:\\\\Program Files\\\\Microsoft Visual Studio\\\\2022\\\\BuildTools","installationVersion":"17.8.34330.188","displayName":"Visual Studio Build Tools 2022"}]';
    assert.deepEqual(parseVswhere(vs2022), { path: 'C:\\Program Files\\Microsoft Visual Studio\\2022\\BuildTools', version: '19.30' });
    assert.equal(parseVswhere('[]'), null);
  });
});

describe('CPU', () => {
  it('reads flags from /proc/cpuinfo (x86 and arm64)', () => {
    assert.equal(flagsFromCpuinfo('processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 f16c\nbugs\t\t: spectre_v1\n'), 'fpu sse avx2 avx512f avx512_bf16 f16c');
    assert.equal(flagsFromCpuinfo('processor\t: 0\nFeatures\t: fp asimd evtstrm aes\n'), 'fp asimd evtstrm aes');
  });
  it('knows the SIMD the engine dispatches on', () => {
    assert.deepEqual(simdFromFlags('fpu sse avx2 avx512f avx512_bf16 f16c', 'x64'), { avx2: true, avx512: true, avx512bf16: true, f16c: true, neon: false });
    assert.deepEqual(simdFromFlags('fpu sse sse2 ssse3 sse4_1 sse4_2 avx', 'x64'), { avx2: false, avx512: false, avx512bf16: false, f16c: false, neon: false });
    assert.equal(simdFromFlags('', 'arm64').neon, true);
  });
  it('names the model once', () => {
    assert.equal(cpuModel({ manufacturer: 'Intel', brand: 'Xeon® Processor' }), 'Intel Xeon® Processor');
    assert.equal(cpuModel({ manufacturer: 'AMD', brand: 'AMD Ryzen 7 5800X 8-Core Processor' }), 'AMD Ryzen 7 5800X 8-Core Processor');
  });
});

describe('graphics adapters from systeminformation', () => {
  it('shortens vendors and classifies them', () => {
    const json = JSON.stringify([
      { vendor: 'Intel Corporation', model: 'CometLake-S GT2 [UHD Graphics 630]', vram: null },
      { vendor: 'Advanced Micro Devices, Inc. [AMD/ATI]', model: 'Ellesmere [Radeon RX 470/480/570/570X/580/580X/590]', vram: 4096 },
      { vendor: 'NVIDIA', model: 'NVIDIA GeForce RTX 3060', vram: 12288 },
      { vendor: '', model: '', vram: null },
    ]);
    assert.deepEqual(parseAdapters(json), [
      { vendor: 'intel', name: 'Intel CometLake-S GT2 [UHD Graphics 630]', vramMiB: null },
      { vendor: 'amd', name: 'AMD Ellesmere [Radeon RX 470/480/570/570X/580/580X/590]', vramMiB: 4096 },
      { vendor: 'nvidia', name: 'NVIDIA GeForce RTX 3060', vramMiB: 12288 },
    ]);
    assert.equal(parseAdapters('not json'), null);
  });
});
