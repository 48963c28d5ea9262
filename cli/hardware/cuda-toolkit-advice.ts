import { driverCudaVersion, requiredDriver, type DriverInfo } from './diagnose-driver.js';
import { MIN_ENGINE_TOOLKIT, TOOLKIT_RELEASES, toolkitRelease, toolkitTargetsArch, type DriverPlatform } from './cuda-tables.js';
import { compareVersions, versionAtLeast } from './versions.js';

export interface ToolkitAdvice {
  /** The CUDA version to install, "12.9". */
  version: string;
  /** Its download page. */
  link: string;
  /** When a newer toolkit would fit the GPU after a driver update: which, and the driver it needs. */
  withNewerDriver: { version: string; driver: string; link: string } | null;
}

/**
 * Kepler's last driver branch is R470 (CUDA 11.4); Maxwell, Pascal and Volta end with R580,
 * which already runs every toolkit that still targets them.
 */
function newestCudaForGpuDriver(cc: string): string | null {
  return compareVersions(cc, '5.0') < 0 ? '11.4' : null;
}

/** Toolkit versions to choose from: the table, plus the driver's own version when it is a newer minor of a known major (13.3). */
function knownVersions(driverCuda: string | null): string[] {
  const versions = TOOLKIT_RELEASES.map((r) => r.version);
  if (driverCuda && !versions.includes(driverCuda) && toolkitRelease(driverCuda)) versions.push(driverCuda);
  return versions.sort(compareVersions);
}

/**
 * Exactly which CUDA toolkit to install for this GPU and driver: the newest that can build for
 * the GPU's architecture and that the installed driver runs without caveats. Null when no
 * toolkit able to build the engine (CUDA 11+) supports the GPU (e.g. Kepler GK10x, sm_30).
 */
export function cudaToolkitAdvice(computeCapability: string, driver: DriverInfo, platform: DriverPlatform): ToolkitAdvice | null {
  const driverCuda = driverCudaVersion(driver, platform);
  const gpuCap = newestCudaForGpuDriver(computeCapability);
  const forGpu = knownVersions(driverCuda).filter(
    (v) => versionAtLeast(v, MIN_ENGINE_TOOLKIT) && toolkitTargetsArch(v, computeCapability) && (!gpuCap || compareVersions(v, gpuCap) <= 0),
  );
  const newestForGpu = forGpu.at(-1);
  if (!newestForGpu) return null;
  const forDriver = driverCuda ? forGpu.filter((v) => compareVersions(v, driverCuda) <= 0) : forGpu;
  const pick = forDriver.at(-1) ?? newestForGpu;
  const link = (v: string) => toolkitRelease(v)?.download ?? '';
  const newer =
    compareVersions(newestForGpu, pick) > 0
      ? { version: newestForGpu, driver: requiredDriver(newestForGpu, platform) ?? '', link: link(newestForGpu) }
      : null;
  return { version: pick, link: link(pick), withNewerDriver: newer };
}
