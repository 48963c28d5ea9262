// Worker thread of FileHasher (file-hasher.ts): SHA-256 of a file that may
// still be growing. It reads back what the downloader has already written
// (from the page cache, so cheaply) and hashes it on its own core, so hashing
// never slows the network loop. The shared slots say how far it may read.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Slot, type HashWorkerData, type HashWorkerReply } from './hash-protocol.js';

const { path, shared: sharedBuffer, chunkBytes } = workerData as HashWorkerData;
const shared = new BigInt64Array(sharedBuffer);

function run(): HashWorkerReply {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(chunkBytes);
  const fd = openSync(path, 'r');
  let hashed = 0;
  try {
    for (;;) {
      // Read the wake counter before the limit: a writer that moves the limit
      // after this bumps the counter too, so the wait below cannot miss it.
      const seq = Atomics.load(shared, Slot.wake);
      const available = Number(Atomics.load(shared, Slot.available));
      if (hashed < available) {
        const n = readSync(fd, buffer, 0, Math.min(buffer.length, available - hashed), hashed);
        if (n === 0) throw new Error(`${path} ended at ${hashed} bytes, before the ${available} bytes written to it`);
        hash.update(buffer.subarray(0, n));
        hashed += n;
        Atomics.store(shared, Slot.hashed, BigInt(hashed));
        continue;
      }
      if (Atomics.load(shared, Slot.finished) === 1n) {
        if (hashed >= Number(Atomics.load(shared, Slot.available))) break;
        continue;
      }
      Atomics.wait(shared, Slot.wake, seq, 1000);
    }
  } finally {
    closeSync(fd);
  }
  return { kind: 'digest', sha256: hash.digest('hex'), bytes: hashed };
}

let reply: HashWorkerReply;
try {
  reply = run();
} catch (error) {
  const e = error as NodeJS.ErrnoException;
  reply = { kind: 'error', message: e.message, ...(e.code === undefined ? {} : { code: e.code }) };
}
parentPort?.postMessage(reply);
