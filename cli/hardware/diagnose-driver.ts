import { cudaVersionForDriver, MINOR_COMPAT_FLOOR, toolkitRelease, type DriverPlatform } from './cuda-tables.js';
import { compareVersions, majorOf, versionAtLeast } from './versions.js';

export interface DriverInfo {
  /** "535.129.03"; null when unknown. */
  version: string | null;
  /** Newest CUDA the driver runs ("12.2", nvidia-smi's banner); null when unknown. */
  cudaVersion: string | null;
}

/**
 * Whether programs built with `toolkit` run on this driver:
 * - yes: the driver supports that CUDA version (or newer);
 * - minor-compat: an older driver of the same CUDA major, which runs them through CUDA minor
 *   version compatibility as long as they carry native code for the GPU (ours do: the engine
 *   is built for the GPU's own architecture) — the driver cannot JIT newer PTX;
 * - no: a driver of an older CUDA major ("CUDA driver version is insufficient");
 * - unknown: nothing is known about the driver.
 */
export type DriverSupport = 'yes' | 'minor-compat' | 'no' | 'unknown';

export function driverCudaVersion(driver: DriverInfo, platform: DriverPlatform): string | null {
  return driver.cudaVersion ?? (driver.version ? cudaVersionForDriver(driver.version, platform) : null);
}

export function driverSupportsToolkit(toolkit: string, driver: DriverInfo, platform: DriverPlatform): DriverSupport {
  const supported = driverCudaVersion(driver, platform);
  if (!supported) return 'unknown';
  if (compareVersions(toolkit, supported) <= 0) return 'yes';
  const floor = MINOR_COMPAT_FLOOR[majorOf(toolkit)]?.[platform];
  const sameMajor = majorOf(toolkit) === majorOf(supported);
  if (sameMajor && floor && (!driver.version || versionAtLeast(driver.version, floor))) return 'minor-compat';
  return 'no';
}

/** The driver a toolkit asks for (its release's GA row), for messages; null for unknown toolkits. */
export function requiredDriver(toolkit: string, platform: DriverPlatform): string | null {
  return toolkitRelease(toolkit)?.minDriver[platform] ?? null;
}
