import type { MemoryMode } from './report.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/**
 * VRAM needed for each mode, on the total nvidia-smi reports (cards lose a little to the
 * firmware: "2 GB" shows as 1999–2048 MiB, "4 GB" as 4042–4096). Modelled on what AUTOMATIC1111
 * users run: 6 GB and up in normal mode, 4 GB with --medvram, 2 GB with --lowvram. Our lowvram
 * keeps the weights in system RAM and moves one block at a time, running SD 1.5 at 512×512 in
 * about 1–2 GB; below 1.5 GB even that does not fit.
 */
export const VRAM_THRESHOLDS_MIB = { normal: 5632, medvram: 3584, lowvram: 1536 } as const;

/** Below this much RAM the full-precision checkpoint (SD 1.5: 4.3 GB) does not fit next to the OS. */
export const HALF_PRECISION_BELOW = { totalBytes: 8 * GiB, availableBytes: 6 * GiB } as const;

export const MODE_FLAGS: Readonly<Record<MemoryMode, readonly string[]>> = {
  normal: [],
  medvram: ['--medvram'],
  lowvram: ['--lowvram'],
  cpu: [],
};

export interface MemoryModeInput {
  /** The GPU the engine will use (its total VRAM, null if unknown); null when it runs on the CPU. */
  gpu: { vramTotalMiB: number | null } | null;
  ramTotalBytes: number | null;
  ramAvailableBytes: number | null;
}

export interface MemoryModeChoice {
  mode: MemoryMode;
  flags: string[];
  halfPrecisionLoad: boolean;
  /** Why, in words. */
  reason: string;
}

export function modeForVram(vramTotalMiB: number): MemoryMode | null {
  if (vramTotalMiB >= VRAM_THRESHOLDS_MIB.normal) return 'normal';
  if (vramTotalMiB >= VRAM_THRESHOLDS_MIB.medvram) return 'medvram';
  if (vramTotalMiB >= VRAM_THRESHOLDS_MIB.lowvram) return 'lowvram';
  return null;
}

/** The memory mode for a GPU (or the CPU) and whether to stream the checkpoint in half precision. */
export function recommendMemoryMode(input: MemoryModeInput): MemoryModeChoice {
  const vram = input.gpu?.vramTotalMiB ?? null;
  // A GPU whose size nvidia-smi does not report (unified-memory parts say [N/A]): the mode that fits anything.
  const gpuMode = input.gpu === null ? null : vram === null ? 'lowvram' : modeForVram(vram);
  const mode: MemoryMode = gpuMode ?? 'cpu';
  const lowTotal = input.ramTotalBytes !== null && input.ramTotalBytes < HALF_PRECISION_BELOW.totalBytes;
  const lowAvailable = input.ramAvailableBytes !== null && input.ramAvailableBytes < HALF_PRECISION_BELOW.availableBytes;
  const gb = (mib: number) => `${(mib / 1024).toFixed(1)} GB`;
  const reason =
    input.gpu === null
      ? 'no usable NVIDIA GPU: the CPU engine'
      : vram === null
        ? 'VRAM size unknown: --lowvram, which fits any GPU'
        : gpuMode === null
          ? `${gb(vram)} of VRAM is below the ~1.5 GB even --lowvram needs: the CPU engine`
          : gpuMode === 'normal'
            ? `${gb(vram)} of VRAM holds the whole model`
            : gpuMode === 'medvram'
              ? `${gb(vram)} of VRAM: one model part on the GPU at a time (--medvram)`
              : `${gb(vram)} of VRAM: weights stay in RAM and move to the GPU block by block (--lowvram)`;
  return { mode, flags: [...MODE_FLAGS[mode]], halfPrecisionLoad: lowTotal || lowAvailable, reason };
}
