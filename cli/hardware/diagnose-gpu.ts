import { cudaToolkitAdvice, type ToolkitAdvice } from './cuda-toolkit-advice.js';
import { CUDA_DOWNLOADS_URL, cudaArchName, driverPlatform, MIN_ENGINE_TOOLKIT, NVIDIA_DRIVERS_URL, toolkitRelease, toolkitTargetsArch } from './cuda-tables.js';
import { driverCudaVersion, driverSupportsToolkit, requiredDriver, type DriverInfo, type DriverSupport } from './diagnose-driver.js';
import { describeArch, finding, formatMiB } from './findings.js';
import { pathFor } from './find-on-path.js';
import { VRAM_THRESHOLDS_MIB } from './recommend-memory-mode.js';
import type { AdapterFacts, CudaToolkit, CudaToolkitFacts, Finding, NvidiaFacts, NvidiaGpu } from './report.js';
import { compareVersions, versionAtLeast } from './versions.js';

export interface GpuDiagnosisInput {
  nvidia: NvidiaFacts;
  adapters: AdapterFacts;
  cudaToolkit: CudaToolkitFacts;
  platform: NodeJS.Platform;
}

export interface GpuDiagnosis {
  findings: Finding[];
  /** The NVIDIA GPU the engine should run on (working driver, supported architecture, enough VRAM). */
  gpu: NvidiaGpu | null;
  /** Every such GPU, the chosen one included. */
  usableGpus: NvidiaGpu[];
  /** The nvcc to build with: it targets the GPU and the driver runs its output. Null: none installed. */
  nvcc: string | null;
  /** CMAKE_CUDA_ARCHITECTURES for the usable GPUs, e.g. "61;89". */
  cudaArchitectures: string | null;
}

/** Kepler GK10x (sm_30) and older: no toolkit that compiles C++17 (CUDA 11+) targets them. */
const MIN_COMPUTE_CAPABILITY = '3.5';

interface ToolkitFit {
  toolkit: CudaToolkit;
  targets: boolean;
  driver: DriverSupport;
  tooOld: boolean;
  usable: boolean;
}

/** Why a GPU cannot run the engine, or null when it can. */
function gpuUnusableReason(gpu: NvidiaGpu): { message: string; fix: string | null } | null {
  if (gpu.computeCapability === null) {
    return {
      message: `${gpu.name}: its compute capability is unknown (the driver is too old to report it and the name is not in our table)`,
      fix: 'update the NVIDIA driver (R510 or newer reports it)',
    };
  }
  if (compareVersions(gpu.computeCapability, MIN_COMPUTE_CAPABILITY) < 0) {
    return {
      message: `${gpu.name} is ${describeArch(gpu.computeCapability)}: no CUDA toolkit that can build this engine (CUDA ${MIN_ENGINE_TOOLKIT}+) supports it`,
      fix: null,
    };
  }
  if (gpu.memoryTotalMiB !== null && gpu.memoryTotalMiB < VRAM_THRESHOLDS_MIB.lowvram) {
    return { message: `${gpu.name} has ${gpu.memoryTotalMiB} MiB of VRAM, less than the ~1.5 GB even --lowvram needs`, fix: null };
  }
  return null;
}

function describeGpu(gpu: NvidiaGpu): string {
  const memory =
    gpu.memoryTotalMiB === null
      ? 'VRAM unknown'
      : `${formatMiB(gpu.memoryTotalMiB)} VRAM${gpu.memoryFreeMiB === null ? '' : ` (${formatMiB(gpu.memoryFreeMiB)} free)`}`;
  const arch = gpu.computeCapability ? `, ${describeArch(gpu.computeCapability)}` : '';
  const fromTable = gpu.computeCapabilitySource === 'name-table' ? ' — known from its name, this driver is too old to report it' : '';
  return `GPU ${gpu.index}: ${gpu.name}, ${memory}${arch}${fromTable}`;
}

function driverFailureFinding(nvidia: NvidiaFacts, adapters: AdapterFacts, platform: NodeJS.Platform, timeoutMs: string): Finding {
  const cards = adapters.adapters.filter((a) => a.vendor === 'nvidia').map((a) => a.name);
  const f = driverFailure(nvidia, platform, timeoutMs);
  return cards.length ? { ...f, message: `${cards.join(', ')}: ${f.message}` } : f;
}

function driverFailure(nvidia: NvidiaFacts, platform: NodeJS.Platform, timeoutMs: string): Finding {
  const linux = platform !== 'win32';
  const reinstall = linux
    ? "reinstall the driver with your distribution's package (e.g. sudo ubuntu-drivers install); with Secure Boot on, its kernel module must be signed"
    : 'reinstall the NVIDIA driver';
  const said = nvidia.output ? `: "${nvidia.output}"` : '';
  switch (nvidia.failure) {
    case 'timeout':
      return finding('gpu.nvidia-smi-timeout', 'error', 'gpu', `nvidia-smi did not answer within ${timeoutMs}: the NVIDIA driver seems hung`, `reboot; if it happens again, ${reinstall}`, NVIDIA_DRIVERS_URL);
    case 'driver-not-loaded':
      return finding('gpu.driver-not-loaded', 'error', 'gpu', `nvidia-smi is installed but cannot talk to the NVIDIA driver${said}`, linux ? `reboot; if that does not help (e.g. after a kernel update), ${reinstall}` : reinstall, NVIDIA_DRIVERS_URL);
    case 'version-mismatch':
      return finding('gpu.driver-version-mismatch', 'error', 'gpu', `the NVIDIA driver was updated but the old one is still loaded${said}`, 'reboot', null);
    case 'no-devices':
      return finding('gpu.no-devices', 'error', 'gpu', `the NVIDIA driver is installed but sees no GPU${said}`, 'check that the GPU is enabled (BIOS / hybrid-graphics setting) and seated; then reboot', null);
    case 'gpu-lost':
      return finding('gpu.gpu-lost', 'error', 'gpu', `the GPU stopped responding${said}`, 'reboot; if it happens again, check its power and cooling', null);
    default:
      return finding('gpu.nvidia-smi-failed', 'error', 'gpu', `nvidia-smi failed${said}`, reinstall, NVIDIA_DRIVERS_URL);
  }
}

function noNvidiaFinding(adapters: AdapterFacts): Finding {
  const nvidia = adapters.adapters.filter((a) => a.vendor === 'nvidia');
  if (nvidia.length > 0) {
    return finding(
      'gpu.nvidia-driver-missing',
      'error',
      'gpu',
      `${nvidia.map((a) => a.name).join(', ')} found, but no NVIDIA driver (nvidia-smi is missing)`,
      'install the NVIDIA driver, then run sd-setup doctor again',
      NVIDIA_DRIVERS_URL,
    );
  }
  const others = adapters.adapters.filter((a) => a.vendor !== 'nvidia');
  if (others.length > 0) {
    return finding('gpu.no-nvidia', 'warn', 'gpu', `no NVIDIA GPU: ${others.map((a) => a.name).join(', ')} cannot run this engine (it needs NVIDIA CUDA), so images are made on the CPU (speed below)`);
  }
  return finding('gpu.none', 'warn', 'gpu', 'no GPU found: images are made on the CPU (speed below)');
}

function toolkitLabel(t: CudaToolkit): string {
  return `CUDA ${t.release ?? t.version} (${t.root ?? t.nvcc})`;
}

function fitOf(toolkit: CudaToolkit, cc: string, driver: DriverInfo, platform: NodeJS.Platform): ToolkitFit {
  const targets = toolkitTargetsArch(toolkit.version, cc);
  const support = driverSupportsToolkit(toolkit.version, driver, driverPlatform(platform));
  const tooOld = !versionAtLeast(toolkit.version, MIN_ENGINE_TOOLKIT);
  return { toolkit, targets, driver: support, tooOld, usable: targets && !tooOld && support !== 'no' };
}

/** How to make the build pick another installed toolkit. */
function useToolkitFix(t: CudaToolkit, platform: NodeJS.Platform): string {
  const bin = pathFor(platform).dirname(t.nvcc);
  return platform === 'win32'
    ? `use the installed ${toolkitLabel(t)}: set CUDACXX=${t.nvcc} (or put ${bin} first in PATH)`
    : `use the installed ${toolkitLabel(t)}: export CUDACXX=${t.nvcc} (or put ${bin} first on PATH)`;
}

function installFix(advice: ToolkitAdvice | null, driver: DriverInfo, platform: NodeJS.Platform, gpuName: string): { fix: string; link: string | null } {
  if (!advice) return { fix: 'use the CPU build', link: null };
  const dp = driverPlatform(platform);
  const needsDriver = driverSupportsToolkit(advice.version, driver, dp) === 'no';
  const driverStep = needsDriver ? `update the NVIDIA driver to ${requiredDriver(advice.version, dp)} or newer, then ` : '';
  const newer = advice.withNewerDriver ? ` (or update the driver to ${advice.withNewerDriver.driver}+ and install CUDA ${advice.withNewerDriver.version})` : '';
  return { fix: `${driverStep}install CUDA ${advice.version} for ${gpuName}${newer}, or use the CPU build`, link: advice.link || CUDA_DOWNLOADS_URL };
}

/**
 * The NVIDIA side: is there a GPU the engine can use, does the driver work, and which CUDA
 * toolkit builds for it. Pure: works on probe facts only.
 */
export function diagnoseGpu(input: GpuDiagnosisInput, timeoutLabel: string): GpuDiagnosis {
  const { nvidia, cudaToolkit, platform } = input;
  const findings: Finding[] = [];
  const result: GpuDiagnosis = { findings, gpu: null, usableGpus: [], nvcc: null, cudaArchitectures: null };

  const noGpuToolkits = () => {
    if (cudaToolkit.toolkits.length === 0) return;
    const list = cudaToolkit.toolkits.map((t, i) => `${toolkitLabel(t)}${i === cudaToolkit.buildUses ? ` ← the build would use this one (${cudaToolkit.buildUsesReason})` : ''}`);
    findings.push(finding('cuda.toolkits', 'ok', 'nothing', `installed: ${list.join('; ')}; unused without a working NVIDIA GPU`));
    for (const problem of cudaToolkit.problems) findings.push(finding('cuda.toolkit-problem', 'warn', 'nothing', problem));
  };
  if (nvidia.status === 'not-found') {
    findings.push(noNvidiaFinding(input.adapters));
    noGpuToolkits();
    return result;
  }
  if (nvidia.status !== 'ok') {
    findings.push(driverFailureFinding(nvidia, input.adapters, platform, timeoutLabel));
    noGpuToolkits();
    return result;
  }

  const driver: DriverInfo = { version: nvidia.driverVersion, cudaVersion: nvidia.cudaVersion };
  const supportedCuda = driverCudaVersion(driver, driverPlatform(platform));
  findings.push(
    finding(
      'gpu.driver',
      'ok',
      'nothing',
      `NVIDIA driver ${nvidia.driverVersion ?? '(version unknown)'}${supportedCuda ? `, runs CUDA up to ${supportedCuda}${nvidia.cudaVersionSource === 'driver-table' ? ' (from the driver table)' : ''}` : ''}`,
    ),
  );

  const usable: NvidiaGpu[] = [];
  const unusable: Array<{ gpu: NvidiaGpu; reason: { message: string; fix: string | null } }> = [];
  for (const gpu of nvidia.gpus) {
    const reason = gpuUnusableReason(gpu);
    if (reason) unusable.push({ gpu, reason });
    else usable.push(gpu);
  }
  // The most VRAM wins; on a tie the lower index (usually the primary card).
  const chosen = [...usable].sort((a, b) => (b.memoryTotalMiB ?? 0) - (a.memoryTotalMiB ?? 0) || a.index - b.index)[0] ?? null;
  for (const gpu of nvidia.gpus) {
    const bad = unusable.find((u) => u.gpu === gpu);
    if (bad) {
      findings.push(finding('gpu.unusable', chosen ? 'warn' : 'error', chosen ? 'nothing' : 'gpu', bad.reason.message, bad.reason.fix ?? (chosen ? null : 'images are made on the CPU (speed below)')));
    } else {
      const pick = gpu === chosen && nvidia.gpus.length > 1 ? ' — the engine uses this one (most VRAM)' : '';
      findings.push(finding('gpu.nvidia', 'ok', 'nothing', `${describeGpu(gpu)}${pick}`));
    }
  }
  if (!chosen) {
    noGpuToolkits();
    return result;
  }
  result.gpu = chosen;
  result.usableGpus = usable;
  const cc = chosen.computeCapability!;

  if (chosen.memoryTotalMiB !== null && chosen.memoryFreeMiB !== null && chosen.memoryTotalMiB - chosen.memoryFreeMiB > 1024) {
    findings.push(
      finding(
        'gpu.vram-in-use',
        'warn',
        'nothing',
        `other programs hold ${formatMiB(chosen.memoryTotalMiB - chosen.memoryFreeMiB)} of ${chosen.name}'s VRAM right now`,
        'close them before generating if you get out-of-memory errors',
      ),
    );
  }

  // ---- CUDA toolkit -------------------------------------------------------------------
  const fits = cudaToolkit.toolkits.map((t) => fitOf(t, cc, driver, platform));
  const advice = cudaToolkitAdvice(cc, driver, driverPlatform(platform));
  const build = cudaToolkit.buildUses === null ? null : (fits[cudaToolkit.buildUses] ?? null);
  const best = fits.filter((f) => f.usable).sort((a, b) => (a.driver === 'yes' ? 0 : 1) - (b.driver === 'yes' ? 0 : 1))[0] ?? null;

  if (fits.length > 0) {
    const list = fits
      .map((f) => `${toolkitLabel(f.toolkit)}${f === build ? ` ← the build uses this one (${cudaToolkit.buildUsesReason})` : ''}`)
      .join('; ');
    findings.push(finding('cuda.toolkits', 'ok', 'nothing', `installed: ${list}`));
  }
  for (const problem of cudaToolkit.problems) findings.push(finding('cuda.toolkit-problem', 'warn', 'nothing', problem));

  if (fits.length === 0) {
    const { fix, link } = installFix(advice, driver, platform, chosen.name);
    findings.push(finding('cuda.toolkit-missing', 'error', 'gpu', 'no CUDA toolkit (nvcc) found: the GPU engine cannot be built', fix, link));
  } else if (build?.usable) {
    findings.push(finding('cuda.toolkit-ok', 'ok', 'nothing', `CUDA ${build.toolkit.version} builds for ${chosen.name}, ${describeArch(cc)}, and this driver runs it`));
  } else if (!build && best) {
    findings.push(
      finding(
        'cuda.toolkit-not-on-path',
        'warn',
        'nothing',
        `${toolkitLabel(best.toolkit)} fits this GPU but is not on PATH, CUDACXX or CUDA_PATH: sd-setup passes it to CMake itself, a plain CMake build would not find it`,
        useToolkitFix(best.toolkit, platform),
      ),
    );
  } else {
    // The toolkit the build would take does not fit; say why, and how to get one that does.
    const subject = build ?? fits[0]!;
    const t = subject.toolkit;
    const other = best && best !== subject ? best : null;
    const { fix: install, link } = installFix(advice, driver, platform, chosen.name);
    const severity = other ? 'warn' : 'error';
    const blocks = other ? 'nothing' : 'gpu';
    const instead = other ? ` (sd-setup builds with ${toolkitLabel(other.toolkit)} instead)` : '';
    const fix = other ? useToolkitFix(other.toolkit, platform) : install;
    if (subject.tooOld) {
      findings.push(finding('cuda.toolkit-too-old', severity, blocks, `CUDA ${t.version} is too old for this engine (its CUDA C++17 needs CUDA ${MIN_ENGINE_TOOLKIT} or newer)${instead}`, fix, other ? null : link));
    } else if (!subject.targets) {
      const range = toolkitRelease(t.version)?.arch;
      const span = range ? `CUDA ${t.version} builds for sm_${cudaArchName(range.min)} to sm_${cudaArchName(range.max)} only` : `CUDA ${t.version} does not support it`;
      findings.push(finding('cuda.toolkit-cannot-target-gpu', severity, blocks, `CUDA ${t.version} cannot build for ${chosen.name}, ${describeArch(cc)}: ${span}${instead}`, fix, other ? null : link));
    } else {
      const dp = driverPlatform(platform);
      const needed = requiredDriver(t.version, dp);
      findings.push(
        finding(
          'cuda.driver-too-old',
          severity,
          blocks,
          `CUDA ${t.version} needs NVIDIA driver ${needed ?? 'a newer driver'}${needed ? ' or newer' : ''}; this one (${nvidia.driverVersion ?? 'unknown'}) runs CUDA up to ${supportedCuda ?? 'an older version'}${instead}`,
          other ? fix : `update the NVIDIA driver${needed ? ` to ${needed}+` : ''}${advice ? `, or install CUDA ${advice.version} (it matches this driver)` : ''}`,
          other ? null : NVIDIA_DRIVERS_URL,
        ),
      );
    }
  }

  const chosenFit = build && build.usable ? build : best;
  if (chosenFit?.driver === 'minor-compat') {
    const dp = driverPlatform(platform);
    findings.push(
      finding(
        'cuda.driver-older-than-toolkit',
        'warn',
        'nothing',
        `CUDA ${chosenFit.toolkit.version} is newer than this driver's CUDA ${supportedCuda}: it works through minor version compatibility because the engine is compiled for ${describeArch(cc)} itself`,
        `update the NVIDIA driver to ${requiredDriver(chosenFit.toolkit.version, dp) ?? 'a newer one'} or newer when convenient`,
        NVIDIA_DRIVERS_URL,
      ),
    );
  }
  const archToolkit = chosenFit?.toolkit.version ?? advice?.version ?? null;
  const archs = [...new Set(usable.map((g) => g.computeCapability!).filter((c) => !archToolkit || toolkitTargetsArch(archToolkit, c)))]
    .sort(compareVersions)
    .map(cudaArchName);
  result.cudaArchitectures = archs.length ? archs.join(';') : null;
  result.nvcc = chosenFit?.toolkit.nvcc ?? null;
  return result;
}
