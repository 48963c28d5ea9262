/**
 * Independent writers and readers for the checkpoint formats, used to build
 * test inputs (valid variants and corrupt ones) without going through the
 * engine: safetensors headers, zip archives (stored/deflated, data
 * descriptors, zip64), and torch.save-style pickles.
 */
import { crc32, deflateRawSync, type ZlibOptions } from 'node:zlib';

// ---- safetensors --------------------------------------------------------------

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export interface SafetensorsHeader {
  headerLength: number;
  metadata: Record<string, string> | undefined;
  tensors: Map<string, SafetensorsEntry>;
}

export function readSafetensorsHeader(file: Buffer): SafetensorsHeader {
  const headerLength = Number(file.readBigUInt64LE(0));
  const json = JSON.parse(file.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  const tensors = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> | undefined;
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') metadata = value as Record<string, string>;
    else tensors.set(name, value as SafetensorsEntry);
  }
  return { headerLength, metadata, tensors };
}

/** IEEE half -> number, written independently of the engine's conversion. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** A safetensors file from a header object (any JSON, valid or not) and the data section. */
export function buildSafetensors(header: unknown, data: Buffer): Buffer {
  let text = typeof header === 'string' ? header : JSON.stringify(header);
  text += ' '.repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(text)));
  return Buffer.concat([len, Buffer.from(text, 'utf8'), data]);
}

const elementSize: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** A safetensors file of zero-filled tensors (for shape-only tests). */
export function zeroSafetensors(tensors: { name: string; dtype: string; shape: number[] }[], metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * (elementSize[t.dtype] ?? 4);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  return buildSafetensors(header, Buffer.alloc(offset));
}

// ---- zip --------------------------------------------------------------------

export interface ZipEntryIn {
  name: string;
  data: Buffer;
  /** Deflate with these zlib options; stored when absent. */
  deflate?: ZlibOptions;
  /** Flag bit 3: zero CRC/sizes in the local header, a data descriptor after the data (what torch.save writes). */
  dataDescriptor?: boolean;
  /** Zip64 extra fields in both headers even for small entries. */
  zip64?: boolean;
}

export interface ZipOptions {
  comment?: string;
  /** Zip64 end-of-directory records even when not needed. */
  zip64?: boolean;
  /** Pad stored data to 64 bytes with an "FB" extra field, like torch.save. */
  align?: boolean;
}

export interface ZipEntryOut {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  dataOffset: number;
  /** Offset of this entry's central directory record. */
  centralOffset: number;
}

export interface ZipLayout {
  file: Buffer;
  entries: ZipEntryOut[];
  centralOffset: number;
  eocdOffset: number;
  zip64EocdOffset?: number;
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return b;
}
function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}
function u64(v: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
}

export function buildZip(entries: ZipEntryIn[], options: ZipOptions = {}): ZipLayout {
  const parts: Buffer[] = [];
  let pos = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    pos += b.length;
  };
  const out: ZipEntryOut[] = [];
  for (const e of entries) {
    const method = e.deflate ? 8 : 0;
    const payload = e.deflate ? deflateRawSync(e.data, e.deflate) : e.data;
    const crc = crc32(e.data);
    const name = Buffer.from(e.name, 'utf8');
    const zip64Extra = e.zip64 ? Buffer.concat([u16(1), u16(16), u64(e.data.length), u64(payload.length)]) : Buffer.alloc(0);
    let extra = zip64Extra;
    if (options.align) {
      const before = pos + 30 + name.length + zip64Extra.length + 4;
      const pad = (64 - (before % 64)) % 64;
      extra = Buffer.concat([zip64Extra, u16(0x4246), u16(pad), Buffer.alloc(pad, 'Z')]);
    }
    const localOffset = pos;
    const flags = (e.dataDescriptor ? 0x08 : 0) | 0x800;
    push(
      Buffer.concat([
        u32(0x04034b50),
        u16(e.zip64 ? 45 : 20),
        u16(flags),
        u16(method),
        u16(0),
        u16(0),
        u32(e.dataDescriptor ? 0 : crc),
        u32(e.dataDescriptor ? 0 : e.zip64 ? 0xffffffff : payload.length),
        u32(e.dataDescriptor ? 0 : e.zip64 ? 0xffffffff : e.data.length),
        u16(name.length),
        u16(extra.length),
        name,
        extra,
      ]),
    );
    const dataOffset = pos;
    push(payload);
    if (e.dataDescriptor) {
      push(e.zip64 ? Buffer.concat([u32(0x08074b50), u32(crc), u64(payload.length), u64(e.data.length)])
        : Buffer.concat([u32(0x08074b50), u32(crc), u32(payload.length), u32(e.data.length)]));
    }
    out.push({ name: e.name, method, crc, compressedSize: payload.length, size: e.data.length, localOffset, dataOffset, centralOffset: 0 });
  }
  const centralOffset = pos;
  entries.forEach((e, i) => {
    const o = out[i]!;
    o.centralOffset = pos;
    const name = Buffer.from(e.name, 'utf8');
    const extra = e.zip64 ? Buffer.concat([u16(1), u16(24), u64(o.size), u64(o.compressedSize), u64(o.localOffset)]) : Buffer.alloc(0);
    push(
      Buffer.concat([
        u32(0x02014b50),
        u16(45),
        u16(e.zip64 ? 45 : 20),
        u16((e.dataDescriptor ? 0x08 : 0) | 0x800),
        u16(o.method),
        u16(0),
        u16(0),
        u32(o.crc),
        u32(e.zip64 ? 0xffffffff : o.compressedSize),
        u32(e.zip64 ? 0xffffffff : o.size),
        u16(name.length),
        u16(extra.length),
        u16(0),
        u16(0),
        u16(0),
        u32(0),
        u32(e.zip64 ? 0xffffffff : o.localOffset),
        name,
        extra,
      ]),
    );
  });
  const centralSize = pos - centralOffset;
  let zip64EocdOffset: number | undefined;
  if (options.zip64) {
    zip64EocdOffset = pos;
    push(
      Buffer.concat([
        u32(0x06064b50),
        u64(44),
        u16(45),
        u16(45),
        u32(0),
        u32(0),
        u64(entries.length),
        u64(entries.length),
        u64(centralSize),
        u64(centralOffset),
      ]),
    );
    push(Buffer.concat([u32(0x07064b50), u32(0), u64(zip64EocdOffset), u32(1)]));
  }
  const comment = Buffer.from(options.comment ?? '', 'utf8');
  const eocdOffset = pos;
  push(
    Buffer.concat([
      u32(0x06054b50),
      u16(0),
      u16(0),
      u16(options.zip64 ? 0xffff : entries.length),
      u16(options.zip64 ? 0xffff : entries.length),
      u32(options.zip64 ? 0xffffffff : centralSize),
      u32(options.zip64 ? 0xffffffff : centralOffset),
      u16(comment.length),
      comment,
    ]),
  );
  const layout: ZipLayout = { file: Buffer.concat(parts), entries: out, centralOffset, eocdOffset };
  if (zip64EocdOffset !== undefined) layout.zip64EocdOffset = zip64EocdOffset;
  return layout;
}

/** The entries of a (well-formed, non-zip64) zip, read from its central directory. */
export function readZipEntries(file: Buffer): { name: string; data: Buffer; centralOffset: number; localOffset: number }[] {
  const eocd = file.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = file.readUInt16LE(eocd + 10);
  let pos = file.readUInt32LE(eocd + 16);
  const out = [];
  for (let i = 0; i < count; i++) {
    const method = file.readUInt16LE(pos + 10);
    const csize = file.readUInt32LE(pos + 20);
    const nameLen = file.readUInt16LE(pos + 28);
    const extraLen = file.readUInt16LE(pos + 30);
    const commentLen = file.readUInt16LE(pos + 32);
    const localOffset = file.readUInt32LE(pos + 42);
    const name = file.subarray(pos + 46, pos + 46 + nameLen).toString('utf8');
    if (method !== 0) throw new Error(`readZipEntries: ${name} is compressed`);
    const dataOffset = localOffset + 30 + file.readUInt16LE(localOffset + 26) + file.readUInt16LE(localOffset + 28);
    out.push({ name, data: file.subarray(dataOffset, dataOffset + csize), centralOffset: pos, localOffset });
    pos += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

// ---- pickles ----------------------------------------------------------------

/** Builds pickle bytes opcode by opcode (protocol 2, what torch.save writes). */
export class PickleBuilder {
  private parts: Buffer[] = [];

  raw(...bytes: (number | Buffer | string)[]): this {
    for (const b of bytes) {
      if (typeof b === 'number') this.parts.push(Buffer.from([b]));
      else if (typeof b === 'string') this.parts.push(Buffer.from(b, 'latin1'));
      else this.parts.push(b);
    }
    return this;
  }
  proto(): this {
    return this.raw(0x80, 2);
  }
  mark(): this {
    return this.raw('(');
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.raw('X', u32(b.length), b);
  }
  int(v: number): this {
    if (v >= 0 && v < 256) return this.raw('K', v);
    if (v >= 0 && v < 65536) return this.raw('M', u16(v));
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    return this.raw('J', b);
  }
  global(module: string, name: string): this {
    return this.raw('c', `${module}\n${name}\n`);
  }
  tuple(...items: ((p: PickleBuilder) => void)[]): this {
    this.mark();
    for (const item of items) item(this);
    return this.raw('t');
  }
  ints(values: number[]): this {
    if (values.length === 0) return this.raw(')');
    this.mark();
    for (const v of values) this.int(v);
    return this.raw('t');
  }
  /** `_rebuild_tensor_v2(('storage', torch.<storageType>, key, 'cpu', numel), offset, shape, stride, False, OrderedDict())` */
  tensor(t: { storageType: string; key: string; numel: number; offset?: number; shape: number[]; stride?: number[] }): this {
    const stride = t.stride ?? contiguousStrides(t.shape);
    this.global('torch._utils', '_rebuild_tensor_v2').mark();
    this.mark().str('storage').global('torch', t.storageType).str(t.key).str('cpu').int(t.numel).raw('t', 'Q');
    this.int(t.offset ?? 0).ints(t.shape).ints(stride).raw(0x89);
    this.global('collections', 'OrderedDict').raw(')', 'R');
    return this.raw('t', 'R');
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export function contiguousStrides(shape: number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1]! * shape[d + 1]!;
  return strides;
}

export interface MiniTensor {
  name: string;
  values: Float32Array;
  shape: number[];
}

/** `{"state_dict": OrderedDict(name -> tensor)}` pickled like torch.save, one FloatStorage per tensor. */
export function statedictPickle(tensors: MiniTensor[]): Buffer {
  const p = new PickleBuilder().proto().raw('}').str('global_step').int(7).raw('s').str('state_dict');
  p.global('collections', 'OrderedDict').raw(')', 'R').mark();
  tensors.forEach((t, i) => {
    p.str(t.name).tensor({ storageType: 'FloatStorage', key: String(i), numel: t.values.length, shape: t.shape });
  });
  return p.raw('u', 's', '.').bytes();
}

/** A small but complete torch.save-style .ckpt from float32 tensors, with a custom pickle if given. */
export function miniCheckpoint(tensors: MiniTensor[], options: { pickle?: Buffer; entry?: Partial<ZipEntryIn>; zip?: ZipOptions } = {}): ZipLayout {
  const entries: ZipEntryIn[] = [{ name: 'archive/data.pkl', data: options.pickle ?? statedictPickle(tensors), ...options.entry }];
  tensors.forEach((t, i) => {
    entries.push({ name: `archive/data/${i}`, data: Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength), ...options.entry });
  });
  entries.push({ name: 'archive/version', data: Buffer.from('3\n') });
  return buildZip(entries, options.zip ?? { align: true });
}

/** Deterministic PRNG (mulberry32) so corrupt files reproduce from a seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
