/**
 * The corruption fuzzer, run in a child process by checkpoint-corruption.test.ts
 * so that a crash in the native loader fails the test instead of killing the
 * runner. Every case writes a damaged or hostile checkpoint (seeded, so a
 * failure reproduces with the same --seed) and loads it with
 * inspectCheckpoint({verify: true}); a case marked mustFail must reject, and
 * every rejection must be an Error with a clear message naming the file.
 *
 *   node dist/test/native/corruption-child.js --seed N --scale K --dir DIR
 *
 * Prints one JSON summary line on stdout; "case <n> <label>" lines on stderr
 * before each load show where a crash happened.
 */
import { closeSync, copyFileSync, ftruncateSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { loadAddon } from '../../cli/binding/load-addon.js';
import {
  buildSafetensors,
  buildZip,
  miniCheckpoint,
  PickleBuilder,
  prng,
  readSafetensorsHeader,
  readZipEntries,
  statedictPickle,
  type MiniTensor,
  type ZipEntryOut,
} from '../helpers/checkpoint-files.js';

interface Summary {
  cases: number;
  rejected: number;
  loaded: number;
  problems: string[];
  groups: Record<string, { cases: number; rejected: number }>;
}

const args = new Map<string, string>();
for (let i = 2; i + 1 < process.argv.length; i += 2) args.set(process.argv[i]!, process.argv[i + 1]!);
const seed = Number(args.get('--seed') ?? 1);
const scale = Number(args.get('--scale') ?? 1);
const dir = args.get('--dir');
if (!dir) throw new Error('--dir is required');

const addon = loadAddon();
const random = prng(seed);
const int = (n: number) => Math.floor(random() * n);
const summary: Summary = { cases: 0, rejected: 0, loaded: 0, problems: [], groups: {} };

// C++ internals leaking into a message mean an unchecked failure path.
const unclear = /std::|bad_alloc|basic_string|vector::|_M_|map::at|stoull|internal:/;

async function load(group: string, label: string, path: string, expect: { mustFail: boolean; match?: RegExp }): Promise<void> {
  const n = ++summary.cases;
  process.stderr.write(`case ${n} ${group}: ${label}\n`);
  const g = (summary.groups[group] ??= { cases: 0, rejected: 0 });
  g.cases++;
  try {
    await addon.inspectCheckpoint(path, { verify: true });
    summary.loaded++;
    if (expect.mustFail) summary.problems.push(`${group}: ${label}: loaded, but it must be refused`);
  } catch (error) {
    summary.rejected++;
    g.rejected++;
    const message = error instanceof Error ? error.message : String(error);
    const base = path.slice(path.lastIndexOf('/') + 1);
    if (!(error instanceof Error)) summary.problems.push(`${group}: ${label}: rejected with a non-Error ${message}`);
    else if (!message.includes(base)) summary.problems.push(`${group}: ${label}: message does not name the file: ${message}`);
    else if (unclear.test(message)) summary.problems.push(`${group}: ${label}: unclear message: ${message}`);
    else if (expect.match && !expect.match.test(message)) summary.problems.push(`${group}: ${label}: expected ${expect.match}, got: ${message}`);
  }
}

/** Writes `patch` over `path` at `offset`, runs `fn`, then restores the original bytes. */
async function patched(path: string, original: Buffer, offset: number, patch: Buffer, fn: () => Promise<void>): Promise<void> {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, patch, 0, patch.length, offset);
    await fn();
  } finally {
    writeSync(fd, original, offset, patch.length, offset);
    closeSync(fd);
  }
}

/** Truncates `path` to `length`, runs `fn`, then restores it. */
async function truncated(path: string, original: Buffer, length: number, fn: () => Promise<void>): Promise<void> {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, length);
    await fn();
  } finally {
    writeSync(fd, original, length, original.length - length, length);
    closeSync(fd);
  }
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}
function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
}

const mini: MiniTensor[] = [
  { name: 'model.diffusion_model.out.2.bias', values: new Float32Array([0.5, -1, 2, 4]), shape: [4] },
  { name: 'first_stage_model.quant_conv.weight', values: new Float32Array(24).map((_, i) => i / 8), shape: [2, 3, 2, 2] },
];

/** Rewrites an entry's declared sizes in both its headers (so they agree with each other). */
function setSizes(file: Buffer, e: ZipEntryOut, sizes: { compressed?: number; size?: number }): void {
  if (sizes.compressed !== undefined) {
    file.writeUInt32LE(sizes.compressed, e.centralOffset + 20);
    file.writeUInt32LE(sizes.compressed, e.localOffset + 18);
  }
  if (sizes.size !== undefined) {
    file.writeUInt32LE(sizes.size, e.centralOffset + 24);
    file.writeUInt32LE(sizes.size, e.localOffset + 22);
  }
}

function writeMini(name: string, bytes: Buffer): string {
  const path = join(dir!, name);
  writeFileSync(path, bytes);
  return path;
}

// ---- hostile pickles (each must be refused, naming what it is) ---------------

async function hostilePickles(): Promise<void> {
  const group = 'hostile pickle';
  const foreign: [string, string][] = [
    ['os', 'system'],
    ['posix', 'system'],
    ['builtins', 'eval'],
    ['builtins', 'exec'],
    ['__builtin__', 'getattr'],
    ['subprocess', 'Popen'],
    ['torch', 'load'],
    ['copyreg', '_reconstructor'],
    ['numpy', 'load'],
    ['webbrowser', 'open'],
  ];
  const prefix = () => new PickleBuilder().proto().raw('}').str('state_dict').global('collections', 'OrderedDict').raw(')', 'R');
  for (const [module, name] of foreign) {
    const escaped = `${module}.${name}`.replace(/\./g, '\\.');
    // GLOBAL + REDUCE hidden as a tensor's backward hooks, as a real attack would.
    const p = prefix().mark().str('x').global('torch._utils', '_rebuild_tensor_v2').mark();
    p.mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(4).raw('t', 'Q').int(0).ints([4]).ints([1]).raw(0x89);
    p.global(module, name).tuple((q) => q.str('echo pwned')).raw('R', 't', 'R', 'u', 's', '.');
    await load(group, `GLOBAL ${module}.${name}`, writeMini('evil.ckpt', miniCheckpoint(mini, { pickle: p.bytes() }).file), {
      mustFail: true,
      match: new RegExp(`references ${escaped}, which could run code`),
    });
    // STACK_GLOBAL spelling (protocol 4).
    const q = prefix().raw('s').str(module).str(name).raw(0x93).tuple((b) => b.str('id')).raw('R', '.');
    await load(group, `STACK_GLOBAL ${module}.${name}`, writeMini('evil.ckpt', miniCheckpoint(mini, { pickle: q.bytes() }).file), {
      mustFail: true,
      match: new RegExp(`references ${escaped}`),
    });
  }
  const cases: { label: string; pickle: Buffer; match: RegExp }[] = [
    { label: 'INST os.system', pickle: prefix().mark().str('ls').raw('i', 'os\nsystem\n', '.').bytes(), match: /references os\.system/ },
    { label: 'EXT1 extension code', pickle: prefix().raw(0x82, 1, '.').bytes(), match: /extension registry/ },
    { label: 'REDUCE on a string', pickle: prefix().str('os.system').raw(')', 'R', '.').bytes(), match: /REDUCE applied to a str/ },
    { label: 'REDUCE on a storage type', pickle: prefix().global('torch', 'FloatStorage').raw(')', 'R', '.').bytes(), match: /called directly/ },
    { label: 'NEWOBJ on _rebuild_tensor_v2', pickle: prefix().global('torch._utils', '_rebuild_tensor_v2').raw(')', 0x81, '.').bytes(), match: /NEWOBJ on torch\._utils\._rebuild_tensor_v2/ },
    { label: 'BUILD on a tuple', pickle: prefix().raw(')', '}', 'b', '.').bytes(), match: /BUILD on a tuple/ },
    { label: 'protocol 0 INT opcode', pickle: prefix().raw('I', '1\n', '.').bytes(), match: /text-protocol opcode/ },
    { label: 'unknown opcode', pickle: prefix().raw(0xff, '.').bytes(), match: /unknown opcode 0xff/ },
    { label: 'pickle protocol 9', pickle: Buffer.from([0x80, 9, 0x7d, 0x2e]), match: /pickle protocol 9/ },
    { label: 'no STOP', pickle: prefix().bytes(), match: /without a STOP/ },
    { label: 'memo read before write', pickle: prefix().raw('h', 7, '.').bytes(), match: /memo entry 7/ },
    { label: 'stack underflow', pickle: new PickleBuilder().proto().raw('R', '.').bytes(), match: /stack underflow/ },
    { label: 'string longer than the pickle', pickle: prefix().raw('X', u32(0xfffffff0), '.').bytes(), match: /over the limit|truncated/ },
    { label: '100-byte integer', pickle: prefix().raw(0x8b, u32(100), Buffer.alloc(100), '.').bytes(), match: /more than 64 bits/ },
    { label: 'invalid UTF-8', pickle: prefix().raw('X', u32(2), Buffer.from([0xc0, 0x80]), '.').bytes(), match: /not valid UTF-8/ },
    { label: 'a million MARKs', pickle: Buffer.concat([Buffer.from([0x80, 2]), Buffer.alloc(1_100_000, '('), Buffer.from('.')]), match: /stack is deeper/ },
    {
      label: 'state dict containing itself',
      pickle: new PickleBuilder().proto().raw('}', 'q', 0).str('state_dict').raw('h', 0, 's', '.').bytes(),
      match: /same dictionary appears twice/,
    },
    { label: 'a list at the root', pickle: new PickleBuilder().proto().raw(']', '.').bytes(), match: /holds a list/ },
    { label: 'no tensors', pickle: prefix().raw('s', '.').bytes(), match: /contains no tensors/ },
    {
      label: 'storage type replaced by OrderedDict',
      pickle: prefix().str('x').global('torch._utils', '_rebuild_tensor_v2').mark()
        .mark().str('storage').global('collections', 'OrderedDict').str('0').str('cpu').int(4).raw('t', 'Q')
        .int(0).ints([4]).ints([1]).raw(0x89, ')', 't', 'R', 's', 's', '.').bytes(),
      match: /storage type collections\.OrderedDict/,
    },
  ];
  const tensorCase = (label: string, t: Parameters<PickleBuilder['tensor']>[0], match: RegExp) => ({
    label,
    pickle: prefix().str('x').tensor(t).raw('s', 's', '.').bytes(),
    match,
  });
  cases.push(
    tensorCase('missing storage entry', { storageType: 'FloatStorage', key: '9', numel: 4, shape: [4] }, /missing entry archive\/data\/9/),
    tensorCase('storage size mismatch', { storageType: 'FloatStorage', key: '0', numel: 5, shape: [5] }, /holds 16 bytes, but its header says 5 elements/),
    tensorCase('view past the storage', { storageType: 'FloatStorage', key: '0', numel: 4, offset: 2, shape: [4] }, /reaches element 5 of a storage with 4/),
    tensorCase('stride past the storage', { storageType: 'FloatStorage', key: '0', numel: 4, shape: [2, 2], stride: [3, 1] }, /reaches element 4/),
    tensorCase('absurd shape', { storageType: 'FloatStorage', key: '0', numel: 4, shape: [2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1], stride: [1, 1, 1] }, /absurd/),
    tensorCase('mismatched storage type size', { storageType: 'DoubleStorage', key: '0', numel: 4, shape: [4] }, /holds 16 bytes, but its header says 4 elements of F64/),
  );
  for (const c of cases) {
    await load(group, c.label, writeMini('evil.ckpt', miniCheckpoint(mini, { pickle: c.pickle }).file), { mustFail: true, match: c.match });
  }
}

// ---- zip-level attacks ------------------------------------------------------

async function zipAttacks(): Promise<void> {
  const group = 'zip structure';
  const bomb = Buffer.alloc(64 << 20);
  const entriesWith = (data0: Buffer, deflate: boolean) => [
    { name: 'archive/data.pkl', data: statedictPickle(mini) },
    { name: 'archive/data/0', data: data0, ...(deflate ? { deflate: { level: 9 } } : {}) },
    { name: 'archive/data/1', data: Buffer.from(mini[1]!.values.buffer) },
    { name: 'archive/version', data: Buffer.from('3\n') },
  ];
  // A 64 MiB deflated entry declared as 16 bytes: inflation must stop at the declared size.
  {
    const z = buildZip(entriesWith(bomb, true));
    const file = Buffer.from(z.file);
    setSizes(file, z.entries[1]!, { size: 16 });
    await load(group, 'deflate bomb declared as 16 bytes', writeMini('bomb.ckpt', file), { mustFail: true, match: /more output than the declared size|bytes decoded/ });
  }
  {
    const z = buildZip(entriesWith(bomb, true));
    const file = Buffer.from(z.file);
    setSizes(file, z.entries[1]!, { size: 0xfffffffe });
    await load(group, 'deflate entry claiming 4 GiB from 64 KiB', writeMini('bomb.ckpt', file), { mustFail: true, match: /more than DEFLATE can \(a zip bomb\?\)/ });
  }
  await load(group, 'honest 64 MiB entry for a 4-element tensor', writeMini('bomb.ckpt', buildZip(entriesWith(bomb, true)).file), {
    mustFail: true,
    match: /holds 67108864 bytes, but its header says 4 elements/,
  });
  // Entry 0's data grown over entry 1's local header.
  {
    const z = buildZip(entriesWith(Buffer.from(mini[0]!.values.buffer), false));
    const e = z.entries[1]!;
    const file = Buffer.from(z.file);
    setSizes(file, e, { compressed: e.compressedSize + 40, size: e.size + 40 });
    await load(group, 'overlapping entries', writeMini('overlap.ckpt', file), { mustFail: true, match: /overlap/ });
  }
  // Zip64 records with absurd values.
  const z64 = buildZip(
    entriesWith(Buffer.from(mini[0]!.values.buffer), false).map((e) => ({ ...e, zip64: true })),
    { zip64: true },
  );
  const absurd: { label: string; offset: number; value: Buffer; match: RegExp }[] = [
    { label: 'zip64 entry count 2^60', offset: z64.zip64EocdOffset! + 32, value: u64(1n << 60n), match: /multi-part|claims/ },
    { label: 'zip64 entry counts 2^60', offset: z64.zip64EocdOffset! + 24, value: Buffer.concat([u64(1n << 60n), u64(1n << 60n)]), match: /claims 1152921504606846976 entries/ },
    { label: 'zip64 directory offset 2^63', offset: z64.zip64EocdOffset! + 48, value: u64(1n << 63n), match: /does not fit in the file/ },
    { label: 'zip64 directory size 2^62', offset: z64.zip64EocdOffset! + 40, value: u64(1n << 62n), match: /does not fit in the file/ },
    { label: 'zip64 record offset 2^63', offset: z64.eocdOffset - 20 + 8, value: u64(1n << 63n), match: /outside the file/ },
    { label: 'zip64 record size 2^62', offset: z64.zip64EocdOffset! + 4, value: u64(1n << 62n), match: /invalid size/ },
    { label: 'zip64 local offset 2^62', offset: z64.entries[1]!.centralOffset + 46 + 'archive/data/0'.length + 4 + 16, value: u64(1n << 62n), match: /no local header/ },
    { label: 'zip64 size 2^62', offset: z64.entries[1]!.centralOffset + 46 + 'archive/data/0'.length + 4, value: u64(1n << 62n), match: /different compressed|disagree/ },
    { label: 'zip64 sizes 2^62', offset: z64.entries[1]!.centralOffset + 46 + 'archive/data/0'.length + 4, value: Buffer.concat([u64(1n << 62n), u64(1n << 62n)]), match: /disagree|runs past/ },
  ];
  for (const a of absurd) {
    const file = Buffer.from(z64.file);
    a.value.copy(file, a.offset);
    await load(group, a.label, writeMini('zip64.ckpt', file), { mustFail: true, match: a.match });
  }
  // Headers a checkpoint never has.
  const plain = buildZip(entriesWith(Buffer.from(mini[0]!.values.buffer), false));
  const edits: { label: string; edit: (f: Buffer) => void; match: RegExp }[] = [
    { label: 'encrypted entry', edit: (f) => f.writeUInt16LE(0x0801, plain.entries[1]!.centralOffset + 8), match: /encrypted/ },
    { label: 'bzip2 entry', edit: (f) => f.writeUInt16LE(12, plain.entries[1]!.centralOffset + 10), match: /compression method 12/ },
    { label: 'local name differs', edit: (f) => f.write('X', plain.entries[1]!.localOffset + 30), match: /names a different file/ },
    { label: 'entry count too large', edit: (f) => f.writeUInt16LE(5, plain.eocdOffset + 10), match: /multi-part|too small|damaged/ },
    { label: 'entry count too small', edit: (f) => { f.writeUInt16LE(3, plain.eocdOffset + 8); f.writeUInt16LE(3, plain.eocdOffset + 10); }, match: /more data than its entries/ },
    { label: 'duplicate entry name', edit: (f) => { f.write('1', plain.entries[1]!.centralOffset + 46 + 13); f.write('1', plain.entries[1]!.localOffset + 30 + 13); }, match: /appears twice/ },
    { label: 'stored data CRC wrong', edit: (f) => f.writeUInt32LE(12345, plain.entries[1]!.centralOffset + 16), match: /CRC/ },
  ];
  for (const e of edits) {
    const file = Buffer.from(plain.file);
    e.edit(file);
    await load(group, e.label, writeMini('edit.ckpt', file), { mustFail: true, match: e.match });
  }
  const folders: { label: string; names: string[]; match: RegExp }[] = [
    { label: 'two data.pkl', names: ['a/data.pkl', 'b/data.pkl'], match: /more than one data\.pkl/ },
    { label: 'no data.pkl', names: ['archive/other.pkl'], match: /without <folder>\/data\.pkl/ },
  ];
  for (const f of folders) {
    const file = buildZip(f.names.map((name) => ({ name, data: statedictPickle(mini) }))).file;
    await load(group, f.label, writeMini('folders.ckpt', file), { mustFail: true, match: f.match });
  }
  const bigEndian = buildZip([...entriesWith(Buffer.from(mini[0]!.values.buffer), false), { name: 'archive/byteorder', data: Buffer.from('big') }]);
  await load(group, 'big-endian byteorder', writeMini('be.ckpt', bigEndian.file), { mustFail: true, match: /big-endian/ });
}

// ---- seeded damage to the fixture checkpoints ---------------------------------

async function fixtureDamage(): Promise<void> {
  const ckptOriginal = readFileSync('test/fixtures/tiny-sd1/model.ckpt');
  const stOriginal = readFileSync('test/fixtures/tiny-sd1/model.safetensors');
  const ckpt = join(dir!, 'damaged.ckpt');
  const st = join(dir!, 'damaged.safetensors');
  copyFileSync('test/fixtures/tiny-sd1/model.ckpt', ckpt);
  copyFileSync('test/fixtures/tiny-sd1/model.safetensors', st);

  for (let i = 0; i < 12 * scale; i++) {
    const length = i === 0 ? 0 : int(stOriginal.length);
    await truncated(st, stOriginal, length, () => load('truncation', `safetensors at ${length}`, st, { mustFail: true }));
  }
  for (let i = 0; i < 12 * scale; i++) {
    const length = i === 0 ? ckptOriginal.length - 1 : int(ckptOriginal.length);
    await truncated(ckpt, ckptOriginal, length, () => load('truncation', `ckpt at ${length}`, ckpt, { mustFail: true }));
  }

  // Random bytes of the safetensors header: may still be valid JSON naming valid tensors.
  const header = readSafetensorsHeader(stOriginal);
  for (let i = 0; i < 15 * scale; i++) {
    const offset = int(8 + header.headerLength);
    const value = Buffer.from([int(256)]);
    await patched(st, stOriginal, offset, value, () => load('safetensors header bytes', `byte ${offset} = ${value[0]}`, st, { mustFail: false }));
  }

  // Structured lies in the safetensors header.
  const json = JSON.parse(stOriginal.subarray(8, 8 + header.headerLength).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>;
  const data = stOriginal.subarray(8 + header.headerLength);
  const names = [...header.tensors.keys()];
  const lies: [string, (e: { dtype: string; shape: number[]; data_offsets: number[] }, other: { data_offsets: number[] }) => void][] = [
    ['end + 2', (e) => (e.data_offsets[1]! += 2)],
    ['begin > end', (e) => (e.data_offsets[0] = e.data_offsets[1]! + 1)],
    ['past the data', (e) => (e.data_offsets = [data.length + 2, data.length + 2 + (e.data_offsets[1]! - e.data_offsets[0]!)])],
    ['overlapping another tensor', (e, other) => (e.data_offsets = [other.data_offsets[0]!, other.data_offsets[0]! + (e.data_offsets[1]! - e.data_offsets[0]!)])],
    ['shape * 2', (e) => (e.shape[0] = e.shape.length ? e.shape[0]! * 2 + 1 : 3)],
    ['unknown dtype', (e) => (e.dtype = 'F8_E4M3')],
    ['negative offset', (e) => (e.data_offsets[0] = -8)],
    ['fractional offset', (e) => (e.data_offsets[1] = e.data_offsets[1]! + 0.5)],
    ['offset 1e300', (e) => (e.data_offsets[1] = 1e300)],
    ['shape with a string', (e) => ((e.shape as unknown[]).push('2'))],
    ['nine dimensions', (e) => (e.shape = [1, 1, 1, 1, 1, 1, 1, 1, e.shape.reduce((a, b) => a * b, 1)])],
    ['missing data_offsets', (e) => delete (e as Partial<typeof e>).data_offsets],
  ];
  for (let i = 0; i < lies.length * scale; i++) {
    const [label, lie] = lies[i % lies.length]!;
    const copy = JSON.parse(JSON.stringify(json)) as typeof json;
    const name = names[int(names.length)]!;
    let other = names[int(names.length)]!;
    while (other === name || copy[other]!.data_offsets[1] === copy[other]!.data_offsets[0]) other = names[int(names.length)]!;
    lie(copy[name]!, copy[other]!);
    writeFileSync(st, buildSafetensors(copy, data));
    await load('safetensors header lies', `${label} (${name})`, st, { mustFail: true });
  }
  const headerText = stOriginal.subarray(8, 8 + header.headerLength).toString('utf8');
  const raw: [string, Buffer][] = [
    ['header length 2^63', Buffer.concat([u64(1n << 63n), stOriginal.subarray(8)])],
    ['header length past the end', Buffer.concat([u64(BigInt(stOriginal.length)), stOriginal.subarray(8)])],
    ['header length 1', Buffer.concat([u64(1n), stOriginal.subarray(8)])],
    ['header cut mid-JSON', Buffer.concat([u64(BigInt(header.headerLength - 100)), stOriginal.subarray(8)])],
    ['duplicate tensor name', buildSafetensors(headerText.replace('{', `{"betas": ${JSON.stringify(json.betas)},`), data)],
    ['metadata value not a string', buildSafetensors(JSON.stringify({ ...json, __metadata__: { sd_config: 5 } }), data)],
    ['header not an object', buildSafetensors('[1, 2, 3]', data)],
    ['deeply nested JSON', buildSafetensors(`{"x": ${'['.repeat(5000)}${']'.repeat(5000)}}`, data)],
  ];
  for (const [label, bytes] of raw) {
    writeFileSync(st, bytes);
    await load('safetensors header lies', label, st, { mustFail: true });
  }
  writeFileSync(st, stOriginal);

  // The zip directory of the fixture .ckpt: any change to these fields must be caught.
  const entries = readZipEntries(ckptOriginal);
  const eocd = ckptOriginal.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const fields: [string, number, number][] = [
    ['crc', 16, 4],
    ['compressed size', 20, 4],
    ['size', 24, 4],
    ['name length', 28, 2],
    ['method', 10, 2],
    ['local header offset', 42, 4],
  ];
  for (let i = 0; i < 24 * scale; i++) {
    // data.pkl and the storages are all read by a verified load (archive/version is not).
    const candidates = entries.filter((e) => !e.name.endsWith('/version'));
    const entry = candidates[i < 6 ? 0 : int(candidates.length)]!;
    const [label, at, size] = fields[i % fields.length]!;
    const offset = entry.centralOffset + at;
    const value = Buffer.alloc(size);
    do {
      for (let k = 0; k < size; k++) value[k] = int(256);
    } while (value.equals(ckptOriginal.subarray(offset, offset + size)));
    await patched(ckpt, ckptOriginal, offset, value, () => load('zip directory fields', `${entry.name} ${label} = ${value.toString('hex')}`, ckpt, { mustFail: true }));
  }
  // torch.save writes both end records (zip64 and classic); damage to either must show.
  const eocd64 = ckptOriginal.lastIndexOf(Buffer.from([0x50, 0x4b, 0x06, 0x06]));
  const endFields: [string, number, number][] = [
    ['entry count', eocd + 10, 2],
    ['directory size', eocd + 12, 4],
    ['directory offset', eocd + 16, 4],
    ['comment length', eocd + 20, 2],
    ['zip64 entry count', eocd64 + 32, 8],
    ['zip64 directory size', eocd64 + 40, 8],
    ['zip64 directory offset', eocd64 + 48, 8],
    ['zip64 locator offset', eocd - 20 + 8, 8],
  ];
  for (const [label, at, size] of endFields) {
    for (let i = 0; i < 2 * scale; i++) {
      const value = Buffer.alloc(size);
      do {
        for (let k = 0; k < size; k++) value[k] = int(256);
        if (size === 8 && i === 0) value.fill(0, 2); // a small wrong value as well as a huge one
      } while (value.equals(ckptOriginal.subarray(at, at + size)));
      await patched(ckpt, ckptOriginal, at, value, () => load('zip directory fields', `end record ${label} = ${value.toString('hex')}`, ckpt, { mustFail: true }));
    }
  }

  // Flipped bytes in the pickle and the tensor data: the CRC catches them.
  const pkl = entries.find((e) => e.name.endsWith('data.pkl'))!;
  const pklStart = pkl.data.byteOffset - ckptOriginal.byteOffset;
  for (let i = 0; i < 10 * scale; i++) {
    const offset = pklStart + int(pkl.data.length);
    const value = Buffer.from([ckptOriginal[offset]! ^ (1 << int(8))]);
    await patched(ckpt, ckptOriginal, offset, value, () => load('ckpt data bytes', `pickle byte ${offset - pklStart} flipped`, ckpt, { mustFail: true, match: /CRC/ }));
  }
  for (let i = 0; i < 10 * scale; i++) {
    const storages = entries.filter((e) => e.name.includes('/data/') && e.data.length > 0);
    const entry = storages[int(storages.length)]!;
    const offset = entry.data.byteOffset - ckptOriginal.byteOffset + int(entry.data.length);
    const value = Buffer.from([ckptOriginal[offset]! ^ (1 << int(8))]);
    await patched(ckpt, ckptOriginal, offset, value, () => load('ckpt data bytes', `${entry.name} byte flipped`, ckpt, { mustFail: true, match: /CRC/ }));
  }
  // The same pickle flips with the CRC fixed: now the pickle reader itself must cope.
  for (let i = 0; i < 40 * scale; i++) {
    const flips = 1 + int(3);
    const bytes = Buffer.from(pkl.data);
    for (let k = 0; k < flips; k++) bytes[int(bytes.length)] = int(256);
    const crc = Buffer.alloc(4);
    crc.writeUInt32LE(crc32(bytes));
    const fd = openSync(ckpt, 'r+');
    writeSync(fd, bytes, 0, bytes.length, pklStart);
    writeSync(fd, crc, 0, 4, pkl.centralOffset + 16);
    closeSync(fd);
    try {
      await load('pickle bytes (CRC fixed)', `${flips} random bytes`, ckpt, { mustFail: false });
    } finally {
      const restore = openSync(ckpt, 'r+');
      writeSync(restore, ckptOriginal, pklStart, pkl.data.length, pklStart);
      writeSync(restore, ckptOriginal, pkl.centralOffset + 16, 4, pkl.centralOffset + 16);
      closeSync(restore);
    }
  }
}

// ---- random damage to small checkpoints: the pickle reader and the inflater --------

async function smallDamage(): Promise<void> {
  const pickle = statedictPickle(mini);
  for (let i = 0; i < 60 * scale; i++) {
    const bytes = Buffer.from(pickle);
    const flips = 1 + int(4);
    for (let k = 0; k < flips; k++) bytes[int(bytes.length)] = int(256);
    const cut = random() < 0.2 ? int(bytes.length) : bytes.length;
    await load('mini pickle bytes', `${flips} bytes, cut at ${cut}`, writeMini('mini.ckpt', miniCheckpoint(mini, { pickle: bytes.subarray(0, cut) }).file), { mustFail: false });
  }
  // Deflated entries with damaged streams (CRCs as declared): inflate errors or CRC mismatches.
  const deflated = miniCheckpoint(mini, { entry: { deflate: { level: 6 } } });
  for (let i = 0; i < 40 * scale; i++) {
    const file = Buffer.from(deflated.file);
    const entry = deflated.entries[int(3)]!;
    const offset = entry.dataOffset + int(entry.compressedSize);
    file[offset] = file[offset]! ^ (1 << int(8));
    await load('deflate stream bytes', `${entry.name} byte ${offset - entry.dataOffset}`, writeMini('deflated.ckpt', file), { mustFail: false });
  }
  // Streams that decode past the declared size or stop short of it (the pickle agrees with the declared size).
  for (const size of [0, 8, 12, 20, 64]) {
    const claimed: MiniTensor[] = [{ ...mini[0]!, values: new Float32Array(size / 4), shape: [size / 4] }, mini[1]!];
    const z = buildZip([
      { name: 'archive/data.pkl', data: statedictPickle(claimed) },
      { name: 'archive/data/0', data: Buffer.from(mini[0]!.values.buffer), deflate: {} },
      { name: 'archive/data/1', data: Buffer.from(mini[1]!.values.buffer) },
    ]);
    const file = Buffer.from(z.file);
    setSizes(file, z.entries[1]!, { size });
    await load('deflate sizes', `16-byte stream declared as ${size}`, writeMini('sizes.ckpt', file), {
      mustFail: true,
      match: /more output than the declared size|bytes decoded/,
    });
  }
}

await hostilePickles();
await zipAttacks();
await fixtureDamage();
await smallDamage();
process.stdout.write(`${JSON.stringify(summary)}\n`);
