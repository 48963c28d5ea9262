import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/run-cli.js';
import { FakeMachine, findingById, findingIds } from '../helpers/fake-machine.js';
import * as out from '../helpers/hardware-outputs.js';
import type { DoctorReport } from '../../cli/hardware/report.js';

// Each test builds a made-up machine from real tool outputs (test/helpers/hardware-outputs.ts),
// runs the built CLI as a subprocess (`node dist/cli/main.js doctor --json`) with only those
// fakes on PATH, and checks the diagnosis and the recommended mode.

function machine(build: (m: FakeMachine) => void, options?: { buildTools?: boolean }): FakeMachine {
  const m = new FakeMachine(options);
  build(m);
  return m;
}

function withMachine(m: FakeMachine, check: (m: FakeMachine) => void | Promise<void>) {
  return async () => {
    try {
      await check(m);
    } finally {
      m.cleanup();
    }
  };
}

function assertVerdict(report: DoctorReport, expected: Partial<DoctorReport['verdict']>): void {
  const picked = Object.fromEntries(Object.keys(expected).map((k) => [k, report.verdict[k as keyof DoctorReport['verdict']]]));
  assert.deepEqual(picked, expected);
}

describe('doctor on fake machines', { timeout: 120_000 }, () => {
  it(
    'GeForce 930M 2 GB, driver 470, CUDA 11.4: GPU engine with --lowvram, architecture from the name table',
    withMachine(
      machine((m) => {
        m.nvidiaSmi({ banner: out.BANNER_470, queryWithoutComputeCap: out.QUERY_930M_470_NO_CC });
        m.toolkit('cuda-11.4', out.NVCC_11_4, { onPath: true });
        m.lspci(out.LSPCI_LAPTOP_930M);
      }),
      (m) => {
        const { code, report } = m.runDoctorJson();
        assert.equal(code, 0);
        assertVerdict(report, { engine: 'cuda', mode: 'lowvram', flags: ['--lowvram'], gpuIndex: 0, cudaArchitectures: '50', canGenerate: true });
        assert.equal(report.verdict.nvcc, `${m.toolkits}/cuda-11.4/bin/nvcc`);
        assert.deepEqual(
          { name: report.nvidia.gpus[0]?.name, cc: report.nvidia.gpus[0]?.computeCapability, source: report.nvidia.gpus[0]?.computeCapabilitySource },
          { name: 'NVIDIA GeForce 930M', cc: '5.0', source: 'name-table' },
        );
        assert.equal(report.nvidia.cudaVersion, '11.4');
        assert.equal(findingById(report, 'cuda.toolkit-ok').severity, 'ok');
        // The iGPU and the 930M are both listed by the system; the NVIDIA one is the engine's.
        assert.deepEqual(report.adapters.adapters.map((a) => a.vendor), ['intel', 'nvidia']);
      },
    ),
  );

  it(
    'GTX 1050 2 GB, driver 535, CUDA 12.2: --lowvram for sm_61',
    withMachine(
      machine((m) => {
        m.nvidiaSmi({ banner: out.BANNER_535_GTX1050, query: out.QUERY_GTX1050_535 });
        m.toolkit('cuda-12.2', out.NVCC_12_2, { onPath: true });
      }),
      (m) => {
        const { code, report } = m.runDoctorJson();
        assert.equal(code, 0);
        assertVerdict(report, { engine: 'cuda', mode: 'lowvram', flags: ['--lowvram'], gpuIndex: 0, cudaArchitectures: '61' });
        assert.equal(report.nvidia.gpus[0]?.computeCapabilitySource, 'nvidia-smi');
        assert.ok(!findingIds(report).includes('cuda.driver-older-than-toolkit'));
      },
    ),
  );

  it(
    'GTX 1050 with CUDA 12.4 on a 12.2 driver: works through minor version compatibility, with a warning',
    withMachine(
      machine((m) => {
        m.nvidiaSmi({ banner: out.BANNER_535_GTX1050, query: out.QUERY_GTX1050_535 });
        m.toolkit('cuda-12.4', out.NVCC_12_4, { onPath: true });
      }),
      (m) => {
        const { report } = m.runDoctorJson();
        assertVerdict(report, { engine: 'cuda', mode: 'lowvram' });
        const warn = findingById(report, 'cuda.driver-older-than-toolkit');
        assert.equal(warn.severity, 'warn');
        assert.match(warn.fix ?? '', /550\.54\.14/);
      },
    ),
  );

  it(
    'RTX 3060 12 GB, driver 550, CUDA 12.4: normal mode',
    withMachine(
      machine((m) => {
        m.nvidiaSmi({ banner: out.BANNER_550, query: out.QUERY_RTX3060_550 });
        m.toolkit('cuda-12.4', out.NVCC_12_4, { onPath: true });
      }),
      (m) => {
        const { code, report } = m.runDoctorJson();
        assert.equal(code, 0);
        assertVerdict(report, { engine: 'cuda', mode: 'normal', flags: [], gpuIndex: 0, cudaArchitectures: '86', afterFixes: null });
        assert.equal(report.nvidia.driverVersion, '550.54.15');
        assert.equal(report.nvidia.gpus[0]?.memoryTotalMiB, 12288);
      },
    ),
  );

  it(
    'H100 80 GB with driver 580 and CUDA 13.0 (as captured on the project GPU machine): normal mode, sm_90',
    withMachine(
      machine((m) => {
        m.nvidiaSmi({ banner: out.BANNER_H100_580, query: out.QUERY_H100_580 });
        m.toolkit('cuda-13.0', out.NVCC_13_0, { onPath: true });
      }),
      (m) => {
        // That machine sets CUDA_HOME to the same toolkit: one toolkit, found two ways.
        const { code, report } = m.runDoctorJson({ CUDA_HOME: `${m.toolkits}/cuda-13.0` });
        assert.equal(code, 0);
        assertVerdict(report, { engine: 'cuda', mode: 'normal', gpuIndex: 0, cudaArchitectures: '90' });
        assert.equal(report.cudaToolkit.toolkits.length, 1);
        assert.deepEqual(report.cudaToolkit.toolkits[0]?.foundBy, ['PATH', 'CUDA_HOME', 'search']);
        assert.equal(report.nvidia.cudaVersion, '13.0');
      },
    ),
  );

  it(
    'two GPUs: picks the one with more VRAM and builds for both architectures',
    withMachine(
      machine((m) => {
        m.nvidiaSmi({ banner: out.BANNER_535_TWO_GPUS, query: out.QUERY_TWO_GPUS_535 });
        m.toolkit('cuda-12.2', out.NVCC_12_2, { onPath: true });
      }),
      (m) => {
        const { report } = m.runDoctorJson();
        assertVerdict(report, { engine: 'cuda', mode: 'normal', gpuIndex: 1, cudaArchitectures: '61;89' });
        assert.equal(report.nvidia.gpus.length, 2);
        assert.match(report.verdict.summary, /RTX 4000 SFF Ada/);
      },
    ),
  );

  it(
    'broken driver ("couldn\'t communicate with the NVIDIA driver"): a finding with a fix, CPU engine, exit 0',
    withMachine(
      machine((m) => {
        m.nvidiaSmi({ failure: { output: out.SMI_DRIVER_NOT_LOADED, exitCode: 9 } });
        m.lspci(out.LSPCI_GTX1050);
      }),
      (m) => {
        const { code, report } = m.runDoctorJson();
        assert.equal(code, 0);
        assertVerdict(report, { engine: 'cpu', mode: 'cpu', gpuIndex: null, canGenerate: true });
        assert.equal(report.nvidia.status, 'failed');
        const f = findingById(report, 'gpu.driver-not-loaded');
        assert.deepEqual([f.severity, f.blocks], ['error', 'gpu']);
        assert.match(f.message, /couldn't communicate with the NVIDIA driver/);
        assert.match(f.fix ?? '', /reboot/);
      },
    ),
  );

  it(
    'no NVIDIA at all: names the AMD and Intel adapters and says the CPU is used, and how slow',
    withMachine(
      machine((m) => m.lspci(out.LSPCI_AMD_INTEL)),
      (m) => {
        const { code, report } = m.runDoctorJson();
        assert.equal(code, 0);
        assertVerdict(report, { engine: 'cpu', mode: 'cpu', afterFixes: null });
        assert.equal(report.nvidia.status, 'not-found');
        const f = findingById(report, 'gpu.no-nvidia');
        assert.match(f.message, /Radeon RX 470\/480\/570/);
        assert.match(f.message, /UHD Graphics 630/);
        assert.match(f.message, /CPU/);
        assert.match(findingById(report, 'cpu.speed').message, /per 512×512 image/);
      },
    ),
  );

  it(
    'toolkit newer than the driver (CUDA 12.4 on driver 470): driver too old, with both ways out',
    withMachine(
      machine((m) => {
        m.nvidiaSmi({ banner: out.BANNER_470, queryWithoutComputeCap: out.QUERY_GTX1050_470_NO_CC });
        m.toolkit('cuda-12.4', out.NVCC_12_4, { onPath: true });
      }),
      (m) => {
        const { code, report } = m.runDoctorJson();
        assert.equal(code, 0);
        assertVerdict(report, { engine: 'cpu', mode: 'cpu' });
        const f = findingById(report, 'cuda.driver-too-old');
        assert.deepEqual([f.severity, f.blocks], ['error', 'gpu']);
        assert.match(f.message, /CUDA 12\.4 needs NVIDIA driver 550\.54\.14 or newer/);
        assert.match(f.fix ?? '', /550\.54\.14/);
        assert.match(f.fix ?? '', /install CUDA 11\.4/);
        assert.deepEqual(
          { engine: report.verdict.afterFixes?.engine, mode: report.verdict.afterFixes?.mode, archs: report.verdict.afterFixes?.cudaArchitectures },
          { engine: 'cuda', mode: 'lowvram', archs: '61' },
        );
      },
    ),
  );

  it(
    'CUDA 13 with a Maxwell card (930M): "install CUDA 12.x, or use the CPU build"',
    withMachine(
      machine((m) => {
        m.nvidiaSmi({ banner: out.BANNER_580_930M, query: out.QUERY_930M_580 });
        m.toolkit('cuda-13.0', out.NVCC_13_0, { onPath: true });
      }),
      (m) => {
        const { code, report } = m.runDoctorJson();
        assert.equal(code, 0);
        assertVerdict(report, { engine: 'cpu', mode: 'cpu', nvcc: null });
        const f = findingById(report, 'cuda.toolkit-cannot-target-gpu');
        assert.deepEqual([f.severity, f.blocks], ['error', 'gpu']);
        assert.match(f.message, /CUDA 13\.0 cannot build for NVIDIA GeForce 930M, sm_50 \(Maxwell\): CUDA 13\.0 builds for sm_75 to sm_121 only/);
        assert.match(f.fix ?? '', /^install CUDA 12\.9 .*, or use the CPU build$/);
        assert.equal(f.link, 'https://developer.nvidia.com/cuda-12-9-1-download-archive');
        assert.equal(report.verdict.afterFixes?.mode, 'lowvram');
      },
    ),
  );

  it(
    'CUDA 13.0 first on PATH and 12.9 installed too: lists both, says which the build takes, builds with 12.9',
    withMachine(
      machine((m) => {
        m.nvidiaSmi({ banner: out.BANNER_580_930M, query: out.QUERY_930M_580 });
        m.toolkit('cuda-13.0', out.NVCC_13_0, { onPath: true });
        m.toolkit('cuda-12.9', out.NVCC_12_9);
      }),
      (m) => {
        const { report } = m.runDoctorJson();
        assert.deepEqual(report.cudaToolkit.toolkits.map((t) => t.version), ['13.0', '12.9']);
        assert.deepEqual([report.cudaToolkit.buildUses, report.cudaToolkit.buildUsesReason], [0, 'first nvcc on PATH']);
        assertVerdict(report, { engine: 'cuda', mode: 'lowvram', cudaArchitectures: '50', nvcc: `${m.toolkits}/cuda-12.9/bin/nvcc` });
        const f = findingById(report, 'cuda.toolkit-cannot-target-gpu');
        assert.equal(f.severity, 'warn');
        assert.match(f.fix ?? '', /CUDACXX=.*cuda-12\.9\/bin\/nvcc/);
        assert.match(findingById(report, 'cuda.toolkits').message, /CUDA 13\.0\.88 .*← the build uses this one \(first nvcc on PATH\); CUDA 12\.9\.86/);
      },
    ),
  );

  it(
    'no toolkit but a good GPU: exactly which CUDA to install for this driver, with the link',
    withMachine(
      machine((m) => m.nvidiaSmi({ banner: out.BANNER_550, query: out.QUERY_RTX3060_550 })),
      (m) => {
        const { code, report } = m.runDoctorJson();
        assert.equal(code, 0);
        assertVerdict(report, { engine: 'cpu', mode: 'cpu' });
        assert.deepEqual(report.cudaToolkit.toolkits, []);
        const f = findingById(report, 'cuda.toolkit-missing');
        assert.match(f.fix ?? '', /^install CUDA 12\.4 for NVIDIA GeForce RTX 3060/);
        assert.equal(f.link, 'https://developer.nvidia.com/cuda-12-4-1-download-archive');
        assert.deepEqual(
          { mode: report.verdict.afterFixes?.mode, archs: report.verdict.afterFixes?.cudaArchitectures },
          { mode: 'normal', archs: '86' },
        );
      },
    ),
  );

  it(
    'a hung nvidia-smi is a finding after the timeout, not a hang',
    withMachine(
      machine((m) => m.nvidiaSmi({ hangSeconds: 12 })),
      (m) => {
        const { code, report, ms } = m.runDoctorJson({ SD_SETUP_PROBE_TIMEOUT_MS: '1000' });
        assert.equal(code, 0);
        assert.ok(ms < 11_000, `doctor took ${ms} ms`);
        assert.equal(report.nvidia.status, 'timeout');
        assert.match(findingById(report, 'gpu.nvidia-smi-timeout').message, /did not answer within 1 s/);
        assertVerdict(report, { engine: 'cpu', mode: 'cpu' });
      },
    ),
  );
});

describe('doctor in-process (runCli)', { timeout: 60_000 }, () => {
  it(
    'reports the RTX 3060 machine through the injected environment',
    withMachine(
      machine((m) => {
        m.nvidiaSmi({ banner: out.BANNER_550, query: out.QUERY_RTX3060_550 });
        m.toolkit('cuda-12.4', out.NVCC_12_4, { onPath: true });
      }),
      async (m) => {
        const r = await runCli(['doctor', '--json', '--models-dir', m.modelsDir], { env: m.env() });
        assert.equal(r.code, 0, r.stderr);
        const report = JSON.parse(r.stdout) as DoctorReport;
        assertVerdict(report, { engine: 'cuda', mode: 'normal', cudaArchitectures: '86' });
      },
    ),
  );

  it(
    'exits 1 when nothing can build the engine, and says so in the readable report',
    withMachine(
      machine((m) => m.nvidiaSmi({ banner: out.BANNER_550, query: out.QUERY_RTX3060_550 }), { buildTools: false }),
      async (m) => {
        const r = await runCli(['doctor', '--models-dir', m.modelsDir], { env: m.env() });
        assert.equal(r.code, 1);
        assert.match(r.stdout, /✖ CMake not found/);
        assert.match(r.stdout, /✖ no C\+\+17 compiler found/);
        assert.match(r.stdout, /→ sudo apt install build-essential/);
        assert.match(r.stdout, /Result: ✖ cannot generate yet: CMake not found/);
      },
    ),
  );

  it(
    'exits 1 on a CMake older than the engine needs (Ubuntu 20.04\'s 3.16)',
    withMachine(
      machine((m) => m.tool('cmake', { stdout: out.CMAKE_3_16 })),
      async (m) => {
        const r = await runCli(['doctor', '--json', '--models-dir', m.modelsDir], { env: m.env() });
        assert.equal(r.code, 1);
        const f = findingById(JSON.parse(r.stdout) as DoctorReport, 'build.cmake-too-old');
        assert.match(f.message, /CMake 3\.16\.3 at .*: the engine needs 3\.18 or newer/);
      },
    ),
  );

  it(
    'only warns about missing build tools once the engine is built',
    withMachine(
      machine((m) => m.engineBuilt(), { buildTools: false }),
      async (m) => {
        const r = await runCli(['doctor', '--json', '--models-dir', m.modelsDir], { env: m.env() });
        assert.equal(r.code, 0);
        const report = JSON.parse(r.stdout) as DoctorReport;
        assert.deepEqual([report.engine.built, findingById(report, 'build.cmake-missing').severity, report.verdict.canGenerate], [true, 'warn', true]);
      },
    ),
  );

  it('rejects an empty --models-dir', async () => {
    const r = await runCli(['doctor', '--models-dir', '']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--models-dir needs a folder/);
  });
});
