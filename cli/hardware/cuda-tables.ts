/**
 * What NVIDIA publishes about CUDA toolkits, as data the decisions read.
 *
 * Sources (checked when these rows were written):
 * - Minimum drivers: CUDA Toolkit Release Notes, table "CUDA Toolkit and Corresponding Driver
 *   Versions" (docs.nvidia.com/cuda/cuda-toolkit-release-notes), the GA row of each minor
 *   version; the Linux values equal the driver bundled in the runfile installers
 *   (e.g. cuda_12.4.0_550.54.14_linux.run). Since 13.0 the Windows toolkit no longer ships a
 *   display driver and the notes give no Windows minimum; we use the R580 branch, the floor of
 *   CUDA 13.x in "CUDA Compatibility → Minor Version Compatibility" (13.x ≥ 580, 12.x ≥ 525,
 *   11.x ≥ 450).
 * - Architectures: each release's notes ("Deprecated/Dropped Features", new architectures),
 *   i.e. what `nvcc --list-gpu-arch` prints: CUDA 11.0 dropped sm_30 (Kepler GK10x), CUDA 12.0
 *   dropped sm_35/37 (Kepler), CUDA 13.0 dropped sm_50–sm_72 (Maxwell, Pascal, Volta);
 *   11.1 added sm_86 (Ampere), 11.8 sm_89/sm_90 (Ada, Hopper), 12.8 sm_100/sm_120 (Blackwell),
 *   12.9 sm_103/sm_121.
 * - Download pages: developer.nvidia.com/cuda-X-Y-Z-download-archive, the last update of each
 *   minor version.
 */
import { compareVersions, majorOf, versionAtLeast } from './versions.js';

export interface ToolkitRelease {
  /** major.minor, e.g. "12.4". */
  version: string;
  /** Minimum driver for this toolkit's full feature set (the GA row of the release notes). */
  minDriver: { linux: string; windows: string };
  /** Oldest and newest compute capability nvcc can compile native code for. */
  arch: { min: string; max: string };
  /** Download page of its last update. */
  download: string;
}

const archive = (update: string) => `https://developer.nvidia.com/cuda-${update.replaceAll('.', '-')}-download-archive`;
export const CUDA_ARCHIVE_URL = 'https://developer.nvidia.com/cuda-toolkit-archive';
export const CUDA_DOWNLOADS_URL = 'https://developer.nvidia.com/cuda-downloads';
export const NVIDIA_DRIVERS_URL = 'https://www.nvidia.com/Download/index.aspx';

/** Oldest first. CUDA 12.7 does not exist. */
export const TOOLKIT_RELEASES: readonly ToolkitRelease[] = [
  { version: '11.0', minDriver: { linux: '450.51.05', windows: '451.48' }, arch: { min: '3.5', max: '8.0' }, download: CUDA_ARCHIVE_URL },
  { version: '11.1', minDriver: { linux: '455.23', windows: '456.38' }, arch: { min: '3.5', max: '8.6' }, download: archive('11.1.1') },
  { version: '11.2', minDriver: { linux: '460.27.03', windows: '460.82' }, arch: { min: '3.5', max: '8.6' }, download: archive('11.2.2') },
  { version: '11.3', minDriver: { linux: '465.19.01', windows: '465.89' }, arch: { min: '3.5', max: '8.6' }, download: archive('11.3.1') },
  { version: '11.4', minDriver: { linux: '470.42.01', windows: '471.11' }, arch: { min: '3.5', max: '8.6' }, download: archive('11.4.4') },
  { version: '11.5', minDriver: { linux: '495.29.05', windows: '496.04' }, arch: { min: '3.5', max: '8.6' }, download: archive('11.5.2') },
  { version: '11.6', minDriver: { linux: '510.39.01', windows: '511.23' }, arch: { min: '3.5', max: '8.6' }, download: archive('11.6.2') },
  { version: '11.7', minDriver: { linux: '515.43.04', windows: '516.01' }, arch: { min: '3.5', max: '8.6' }, download: archive('11.7.1') },
  { version: '11.8', minDriver: { linux: '520.61.05', windows: '520.06' }, arch: { min: '3.5', max: '9.0' }, download: archive('11.8.0') },
  { version: '12.0', minDriver: { linux: '525.60.13', windows: '527.41' }, arch: { min: '5.0', max: '9.0' }, download: archive('12.0.1') },
  { version: '12.1', minDriver: { linux: '530.30.02', windows: '531.14' }, arch: { min: '5.0', max: '9.0' }, download: archive('12.1.1') },
  { version: '12.2', minDriver: { linux: '535.54.03', windows: '536.25' }, arch: { min: '5.0', max: '9.0' }, download: archive('12.2.2') },
  { version: '12.3', minDriver: { linux: '545.23.06', windows: '545.84' }, arch: { min: '5.0', max: '9.0' }, download: archive('12.3.2') },
  { version: '12.4', minDriver: { linux: '550.54.14', windows: '551.61' }, arch: { min: '5.0', max: '9.0' }, download: archive('12.4.1') },
  { version: '12.5', minDriver: { linux: '555.42.02', windows: '555.85' }, arch: { min: '5.0', max: '9.0' }, download: archive('12.5.1') },
  { version: '12.6', minDriver: { linux: '560.28.03', windows: '560.76' }, arch: { min: '5.0', max: '9.0' }, download: archive('12.6.3') },
  { version: '12.8', minDriver: { linux: '570.26', windows: '570.65' }, arch: { min: '5.0', max: '12.0' }, download: archive('12.8.1') },
  { version: '12.9', minDriver: { linux: '575.51.03', windows: '576.02' }, arch: { min: '5.0', max: '12.1' }, download: archive('12.9.1') },
  { version: '13.0', minDriver: { linux: '580.65.06', windows: '580' }, arch: { min: '7.5', max: '12.1' }, download: archive('13.0.2') },
];

/**
 * The driver floor of each CUDA major under minor version compatibility: a program built with
 * any X.y toolkit runs on a driver of at least this branch, provided it carries native code
 * (SASS) for the GPU, because such a driver cannot JIT-compile newer PTX.
 */
export const MINOR_COMPAT_FLOOR: Readonly<Record<number, { linux: string; windows: string }>> = {
  11: { linux: '450.80.02', windows: '452.39' },
  12: { linux: '525.60.13', windows: '528.33' },
  13: { linux: '580', windows: '580' },
};

/** The engine's CUDA code is C++17, which nvcc accepts from CUDA 11.0. */
export const MIN_ENGINE_TOOLKIT = '11.0';

export type DriverPlatform = 'linux' | 'windows';

export function driverPlatform(platform: NodeJS.Platform): DriverPlatform {
  return platform === 'win32' ? 'windows' : 'linux';
}

/**
 * The release row for `version` (major.minor). A minor release newer than the table (e.g. 13.3)
 * inherits the newest row of its major: same architectures, same driver branch floor.
 */
export function toolkitRelease(version: string): ToolkitRelease | null {
  const exact = TOOLKIT_RELEASES.find((r) => compareVersions(r.version, version) === 0);
  if (exact) return exact;
  const sameMajor = TOOLKIT_RELEASES.filter((r) => majorOf(r.version) === majorOf(version));
  const newest = sameMajor.at(-1);
  if (!newest || compareVersions(version, newest.version) < 0) return null;
  const floor = MINOR_COMPAT_FLOOR[majorOf(version)] ?? newest.minDriver;
  return { ...newest, version, minDriver: { ...floor }, download: CUDA_DOWNLOADS_URL };
}

/** Whether nvcc `toolkit` can compile native code for compute capability `cc`. */
export function toolkitTargetsArch(toolkit: string, cc: string): boolean {
  const release = toolkitRelease(toolkit);
  if (!release) return compareVersions(toolkit, TOOLKIT_RELEASES.at(-1)!.version) > 0 && versionAtLeast(cc, '7.5');
  return versionAtLeast(cc, release.arch.min) && compareVersions(cc, release.arch.max) <= 0;
}

/** The newest CUDA version a driver supports, from the table, when nvidia-smi did not say. */
export function cudaVersionForDriver(driver: string, platform: DriverPlatform): string | null {
  let best: string | null = null;
  for (const release of TOOLKIT_RELEASES) {
    if (versionAtLeast(driver, release.minDriver[platform])) best = release.version;
  }
  return best;
}

/** "8.6" → "86": the CMAKE_CUDA_ARCHITECTURES / sm_XX spelling. */
export function cudaArchName(cc: string): string {
  return cc.replace('.', '');
}
