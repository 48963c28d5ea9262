/**
 * The typed contract of the native addon (native/addon/addon.cpp). Every
 * export is listed here with what it does and what it throws; nothing else in
 * the CLI touches the addon untyped.
 */

export interface ConformanceOptions {
  /** "ckpt" or "safetensors" (the fixture set's files) or a checkpoint path. Default "safetensors". */
  checkpoint?: string;
  /** "cpu" (default) or "cuda". */
  backend?: string;
  /** Weight storage precision: "f32" (default), "f16" or "bf16". */
  precision?: string;
  /** Only cases whose name or kind contains this. */
  filter?: string;
  /** Also compare debug trajectories. */
  debug?: boolean;
}

export interface ConformanceOutput {
  output: string;
  maxAbs: number;
  relL2: number;
  passed: boolean;
  note: string;
}

export interface ConformanceCase {
  name: string;
  kind: string;
  passed: boolean;
  notImplemented: boolean;
  message: string;
  seconds: number;
  /** The line the native driver prints for this case. */
  line: string;
  outputs: ConformanceOutput[];
}

export interface NativeBuildInfo {
  cuda: boolean;
}

export interface NativeAddon {
  /**
   * [async] Runs every case of a fixture directory (manifest.json format of
   * test/fixtures/README.md). Rejects when the directory or manifest is unreadable.
   */
  runConformance(
    dir: string,
    options?: ConformanceOptions,
    onCase?: (result: ConformanceCase) => void,
  ): Promise<{ passed: number; failed: number }>;
  buildInfo: NativeBuildInfo;
}
