import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Exec, ExecResult } from '../../../cli/hardware/exec.js';
import { findOnPath } from '../../../cli/hardware/find-on-path.js';
import { diagnoseGpu } from '../../../cli/hardware/diagnose-gpu.js';
import { cudaSearchDirs, probeCudaToolkits, toolkitRootVariables } from '../../../cli/hardware/probe-cuda-toolkits.js';
import { probeCxxCompiler, vswherePath } from '../../../cli/hardware/probe-cxx-compiler.js';
import { nvidiaSmiFallbacks, probeNvidiaSmi } from '../../../cli/hardware/probe-nvidia-smi.js';
import * as out from '../../helpers/hardware-outputs.js';
import { baseFacts, gpu, withNvidia, withToolkits } from '../../helpers/doctor-facts.js';

// Only Linux runs here, so Windows paths, names and lookups are checked with an injected file
// system and Exec: the same code paths a Windows machine takes.

const CUDA_DIR = 'C:\\Program Files\\NVIDIA GPU Computing Toolkit\\CUDA';
const ok = (stdout: string, stderr = ''): ExecResult => ({ exitCode: 0, stdout, stderr, notFound: false, timedOut: false });
const missing: ExecResult = { exitCode: null, stdout: '', stderr: '', notFound: true, timedOut: false };

/** An Exec that answers by executable path and records what it ran. */
function fakeExec(answers: Record<string, (args: readonly string[]) => ExecResult>, calls: string[] = []): Exec {
  return async (file, args) => {
    calls.push([file, ...args].join(' '));
    return answers[file]?.(args) ?? missing;
  };
}

describe('Windows lookups', () => {
  it('finds nvcc.exe on Path through PATHEXT, with Windows separators and case-insensitive variables', () => {
    const files = new Set([`${CUDA_DIR}\\v12.4\\bin\\nvcc.exe`]);
    const env = { Path: `C:\\Windows\\System32;"${CUDA_DIR}\\v12.4\\bin"`, PATHEXT: '.COM;.EXE;.BAT;.CMD' };
    assert.equal(findOnPath('nvcc', { env, platform: 'win32', isFile: (f) => files.has(f) }), `${CUDA_DIR}\\v12.4\\bin\\nvcc.exe`);
    assert.equal(findOnPath('cl', { env, platform: 'win32', isFile: (f) => files.has(f) }), null);
  });

  it('looks for nvidia-smi.exe in System32 and the old NVSMI folder', () => {
    assert.deepEqual(nvidiaSmiFallbacks('win32', {}), ['C:\\Windows\\System32\\nvidia-smi.exe', 'C:\\Program Files\\NVIDIA Corporation\\NVSMI\\nvidia-smi.exe']);
    assert.deepEqual(nvidiaSmiFallbacks('win32', { SystemRoot: 'D:\\WINDOWS', ProgramW6432: 'D:\\Programs' }), [
      'D:\\WINDOWS\\System32\\nvidia-smi.exe',
      'D:\\Programs\\NVIDIA Corporation\\NVSMI\\nvidia-smi.exe',
    ]);
    assert.deepEqual(nvidiaSmiFallbacks('linux', {}), []);
  });

  it('searches the CUDA installer folder, or what SD_SETUP_CUDA_SEARCH_PATH says', () => {
    assert.deepEqual(cudaSearchDirs('win32', {}), [CUDA_DIR]);
    assert.deepEqual(cudaSearchDirs('win32', { ProgramFiles: 'E:\\Apps' }), ['E:\\Apps\\NVIDIA GPU Computing Toolkit\\CUDA']);
    assert.deepEqual(cudaSearchDirs('win32', { SD_SETUP_CUDA_SEARCH_PATH: 'C:\\a;D:\\b' }), ['C:\\a', 'D:\\b']);
    assert.deepEqual(cudaSearchDirs('linux', {}), ['/usr/local', '/opt', '/usr/lib/nvidia-cuda-toolkit']);
    assert.deepEqual(cudaSearchDirs('linux', { SD_SETUP_CUDA_SEARCH_PATH: '' }), []);
  });

  it('reads the variables the CUDA installer sets, newest version first', () => {
    const env = { CUDA_PATH: `${CUDA_DIR}\\v12.4`, CUDA_PATH_V11_8: `${CUDA_DIR}\\v11.8`, CUDA_PATH_V12_4: `${CUDA_DIR}\\v12.4`, OTHER: 'x' };
    assert.deepEqual(toolkitRootVariables(env, 'win32'), ['CUDA_PATH', 'CUDA_PATH_V12_4', 'CUDA_PATH_V11_8']);
  });

  it('finds two installed toolkits and says the build takes CUDA_PATH', async () => {
    const nvcc124 = `${CUDA_DIR}\\v12.4\\bin\\nvcc.exe`;
    const nvcc118 = `${CUDA_DIR}\\v11.8\\bin\\nvcc.exe`;
    const files = new Set([nvcc124, nvcc118]);
    const facts = await probeCudaToolkits({
      platform: 'win32',
      env: { Path: 'C:\\Windows\\System32', CUDA_PATH: `${CUDA_DIR}\\v12.4`, CUDA_PATH_V12_4: `${CUDA_DIR}\\v12.4`, CUDA_PATH_V11_8: `${CUDA_DIR}\\v11.8` },
      timeoutMs: 1000,
      exec: fakeExec({ [nvcc124]: () => ok(out.NVCC_12_4), [nvcc118]: () => ok(out.NVCC_11_4.replaceAll('11.4', '11.8')) }),
      isFile: (f) => files.has(f),
      listDir: (d) => (d === CUDA_DIR ? ['v11.8', 'v12.4', 'extras'] : []),
      realpath: (f) => f,
    });
    assert.deepEqual(
      facts.toolkits.map((t) => [t.version, t.nvcc, t.root, t.foundBy]),
      [
        ['12.4', nvcc124, `${CUDA_DIR}\\v12.4`, ['CUDA_PATH', 'CUDA_PATH_V12_4', 'search']],
        ['11.8', nvcc118, `${CUDA_DIR}\\v11.8`, ['CUDA_PATH_V11_8', 'search']],
      ],
    );
    assert.deepEqual([facts.buildUses, facts.buildUsesReason], [0, 'CUDA_PATH']);
  });

  it('runs nvidia-smi.exe from System32 when it is not on Path', async () => {
    const smi = 'C:\\Windows\\System32\\nvidia-smi.exe';
    const calls: string[] = [];
    const facts = await probeNvidiaSmi({
      platform: 'win32',
      env: { Path: 'C:\\Tools' },
      timeoutMs: 1000,
      isFile: (f) => f === smi,
      exec: fakeExec({ [smi]: (args) => ok(args.length === 0 ? out.BANNER_550 : out.QUERY_RTX3060_550) }, calls),
    });
    assert.equal(facts.status, 'ok');
    assert.equal(facts.command, smi);
    assert.equal(facts.gpus[0]?.name, 'NVIDIA GeForce RTX 3060');
    assert.ok(calls.includes(`${smi} --query-gpu=index,name,memory.total,memory.free,driver_version,compute_cap,pci.bus_id --format=csv,noheader,nounits`));
  });

  it('finds MSVC: cl.exe on Path (Developer prompt), else Visual Studio through vswhere', async () => {
    const cl = 'C:\\BuildTools\\VC\\Tools\\MSVC\\14.38.33130\\bin\\Hostx64\\x64\\cl.exe';
    const inPrompt = await probeCxxCompiler({
      platform: 'win32',
      env: { PATH: 'C:\\BuildTools\\VC\\Tools\\MSVC\\14.38.33130\\bin\\Hostx64\\x64' },
      timeoutMs: 1000,
      isFile: (f) => f === cl,
      exec: fakeExec({ [cl]: () => ({ ...ok(''), stderr: out.MSVC_CL_BANNER, exitCode: 0 }) }),
    });
    assert.deepEqual(inPrompt, { found: true, path: cl, version: '19.38.33133', kind: 'msvc', cpp17: true });

    const vswhere = vswherePath({}, 'win32');
    assert.equal(vswhere, 'C:\\Program Files (x86)\\Microsoft Visual Studio\\Installer\\vswhere.exe');
    const json = (version: string) => `[{"installationPath":"C:\\\\VS","installationVersion":"${version}"}]`;
    const viaVswhere = (version: string) =>
      probeCxxCompiler({ platform: 'win32', env: {}, timeoutMs: 1000, isFile: () => false, exec: fakeExec({ [vswhere]: () => ok(json(version)) }) });
    assert.deepEqual(await viaVswhere('17.8.34330.188'), { found: true, path: 'C:\\VS', version: '19.30', kind: 'msvc', cpp17: true });
    assert.equal((await viaVswhere('15.9.28307.2094')).cpp17, false); // VS 2017
    const none = await probeCxxCompiler({ platform: 'win32', env: {}, timeoutMs: 1000, isFile: () => false, exec: fakeExec({}) });
    assert.equal(none.found, false);
  });

  it('quotes the Windows minimum driver and uses set, not export, in fixes', () => {
    const facts = withToolkits(withNvidia(baseFacts(), '527.41', '12.0', [gpu({ name: 'NVIDIA GeForce RTX 3060' })]), ['12.4', '11.8'], 'win32');
    facts.cudaToolkit.toolkits[1]!.foundBy = ['CUDA_PATH_V11_8'];
    const result = diagnoseGpu({ nvidia: facts.nvidia, adapters: facts.adapters, cudaToolkit: facts.cudaToolkit, platform: 'win32' }, '15 s');
    const f = result.findings.find((x) => x.id === 'cuda.driver-too-old');
    assert.match(f?.message ?? '', /CUDA 12\.4 needs NVIDIA driver 551\.61 or newer; this one \(527\.41\) runs CUDA up to 12\.0/);
    assert.match(f?.fix ?? '', /set CUDACXX=C:\\Program Files\\NVIDIA GPU Computing Toolkit\\CUDA\\v11\.8\\bin\\nvcc\.exe/);
    assert.equal(result.nvcc, `${CUDA_DIR}\\v11.8\\bin\\nvcc.exe`);
  });
});
