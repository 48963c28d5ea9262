import { readFileSync } from 'node:fs';
import { readSafetensorsHeader } from './checkpoint-files.js';

export interface StTensor {
  dtype: string;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

/**
 * A minimal .safetensors reader for test inputs (F32, I32, U8 only): the
 * fixtures' expected values must come from the reference files, never from
 * the code under test.
 */
export function readSafetensors(path: string): Map<string, StTensor> {
  const buf = readFileSync(path);
  const { headerLength, tensors } = readSafetensorsHeader(buf);
  const base = 8 + headerLength;
  const out = new Map<string, StTensor>();
  for (const [name, info] of tensors) {
    const [begin, end] = info.data_offsets;
    const bytes = buf.subarray(base + begin, base + end);
    const copy = new Uint8Array(bytes).buffer; // aligned copy
    let data: Float32Array | Int32Array | Uint8Array;
    if (info.dtype === 'F32') data = new Float32Array(copy);
    else if (info.dtype === 'I32') data = new Int32Array(copy);
    else if (info.dtype === 'U8') data = new Uint8Array(copy);
    else continue;
    out.set(name, { dtype: info.dtype, shape: info.shape, data });
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
