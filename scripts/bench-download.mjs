// Measures `sd-setup download` against `curl -o` on loopback: the same file
// from the same server, alternating runs, median wall time of each, our peak
// RSS. Not a test (timings depend on the machine); run it after `npm run build:ts`:
//
//   node scripts/bench-download.mjs [--mb 1024] [--runs 3] [--dir /tmp] [--sizes 256,1024,2048]
//
// The server (a child process) sends a 16 MiB pseudo-random block repeated, so it
// costs little CPU and both clients receive identical bytes. Ours streams to
// NAME.part, hashes on its worker thread, fsyncs, verifies and renames; curl
// only writes. Our peak RSS is measured for every size in --sizes to show it
// does not grow with the file.
import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '1024' },
    runs: { type: 'string', default: '3' },
    dir: { type: 'string', default: tmpdir() },
    sizes: { type: 'string', default: '256,1024' },
  },
});
const blockBytes = 16 << 20;
// The same pseudo-random block in this process and the server's: an AES-CTR keystream of zeros.
const blockFor = (n) => createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 1)).update(Buffer.alloc(n));
const block = blockFor(blockBytes);
const work = mkdtempSync(join(values.dir, 'sd-setup-bench-'));

function sha256OfRepeated(blocks) {
  const hash = createHash('sha256');
  for (let i = 0; i < blocks; i++) hash.update(block);
  return hash.digest('hex');
}

const serverSource = `
  const http = require('node:http');
  const { createCipheriv } = require('node:crypto');
  const block = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 1)).update(Buffer.alloc(Number(process.argv[1])));
  http.createServer(async (req, res) => {
    const blocks = Number(new URL(req.url, 'http://x').searchParams.get('blocks'));
    res.writeHead(200, { 'content-length': blocks * block.length, etag: '"bench"' });
    for (let i = 0; i < blocks; i++) if (!res.write(block)) await new Promise((r) => res.once('drain', r));
    res.end();
  }).listen(0, '127.0.0.1', function () { process.stdout.write(String(this.address().port) + '\\n'); });
`;

async function startServer() {
  const child = spawn(process.execPath, ['-e', serverSource, String(blockBytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  return { child, port };
}

// Our downloader through its public API in a fresh process, which reports its own peak RSS.
const driverSource = `
  const [url, sha256, dir] = process.argv.slice(1);
  import(${JSON.stringify(new URL('../dist/cli/download/index.js', import.meta.url).href)}).then(async ({ downloadModel }) => {
    const started = process.hrtime.bigint();
    const r = await downloadModel({ url, sha256, dir, fileName: 'bench.bin', env: { HOME: dir, HF_TOKEN_PATH: dir + '/none' } });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    process.stdout.write(JSON.stringify({ seconds, bytes: r.bytes, maxRssKiB: process.resourceUsage().maxRSS }) + '\\n');
  });
`;

// CPU seconds used by waited-for children (cutime + cstime of /proc/self/stat,
// in clock ticks of 1/100 s): the cost of a run independent of how busy the machine is.
function childCpuSeconds() {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return NaN;
  }
}

function runOurs(url, sha256) {
  const dir = join(work, 'ours');
  rmSync(dir, { recursive: true, force: true });
  const cpu0 = childCpuSeconds();
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-e', driverSource, url, sha256, dir], { encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = childCpuSeconds() - cpu0;
  if (r.status !== 0) throw new Error(`our downloader failed: ${r.stderr}`);
  rmSync(dir, { recursive: true, force: true });
  return { ...JSON.parse(r.stdout), wall, cpu };
}

function runCurl(url, thenHash = false) {
  const out = join(work, 'curl.bin');
  const cpu0 = childCpuSeconds();
  const started = process.hrtime.bigint();
  const r = thenHash
    ? spawnSync('sh', ['-c', 'curl -s -f -o "$1" "$2" && sha256sum "$1" >/dev/null', 'sh', out, url])
    : spawnSync('curl', ['-s', '-f', '-o', out, url]);
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = childCpuSeconds() - cpu0;
  if (r.status !== 0) throw new Error(`curl failed (${r.status})`);
  rmSync(out, { force: true });
  return { wall, cpu };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes) => (bytes / 1e6).toFixed(0);

const load0 = os.loadavg().map((x) => x.toFixed(2)).join(' ');
const { child, port } = await startServer();
try {
  const blocks = Math.round((Number(values.mb) * 1024 * 1024) / blockBytes);
  const url = `http://127.0.0.1:${port}/bench.bin?blocks=${blocks}`;
  const sha256 = sha256OfRepeated(blocks);
  const bytes = blocks * blockBytes;
  const ours = [];
  const curl = [];
  const curlHash = [];
  runOurs(url, sha256); // warm-up: page cache, JIT, server
  for (let i = 0; i < Number(values.runs); i++) {
    ours.push(runOurs(url, sha256));
    curl.push(runCurl(url));
    curlHash.push(runCurl(url, true));
  }
  const oursS = median(ours.map((r) => r.wall));
  const curlS = median(curl.map((r) => r.wall));
  console.log(`file: ${mb(bytes)} MB (${bytes} bytes) on loopback, ${values.runs} runs each, median wall time`);
  console.log(`  curl -o:         ${curlS.toFixed(2)} s  (${mb(bytes / curlS)} MB/s)   runs: ${curl.map((r) => r.wall.toFixed(2)).join(' ')}`);
  console.log(`  sd-setup (API):  ${oursS.toFixed(2)} s  (${mb(bytes / oursS)} MB/s)   runs: ${ours.map((r) => r.wall.toFixed(2)).join(' ')}`);
  const curlHashS = median(curlHash.map((r) => r.wall));
  console.log(`  curl + sha256sum: ${curlHashS.toFixed(2)} s  (${mb(bytes / curlHashS)} MB/s)   runs: ${curlHash.map((r) => r.wall.toFixed(2)).join(' ')}`);
  console.log(`  throughput ratio (ours / curl): ${(curlS / oursS).toFixed(2)}x   [ours includes SHA-256, fsync and rename; process start included for both]`);
  console.log(`  throughput ratio (ours / curl + sha256sum): ${(curlHashS / oursS).toFixed(2)}x`);
  console.log(
    `  CPU time (user+sys, all threads): curl ${median(curl.map((r) => r.cpu)).toFixed(2)} s, curl + sha256sum ${median(curlHash.map((r) => r.cpu)).toFixed(2)} s, ours ${median(ours.map((r) => r.cpu)).toFixed(2)} s`,
  );
  console.log(`  our peak RSS: ${(median(ours.map((r) => r.maxRssKiB)) / 1024).toFixed(0)} MiB`);
  console.log(`  machine: ${os.cpus().length} CPUs, load average before/after ${load0} / ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  for (const sizeMb of values.sizes.split(',').map(Number)) {
    const b = Math.round((sizeMb * 1024 * 1024) / blockBytes);
    const r = runOurs(`http://127.0.0.1:${port}/bench.bin?blocks=${b}`, sha256OfRepeated(b));
    console.log(`  peak RSS for ${mb(b * blockBytes)} MB: ${(r.maxRssKiB / 1024).toFixed(0)} MiB (${r.seconds.toFixed(2)} s in the API)`);
  }
} finally {
  child.kill();
  rmSync(work, { recursive: true, force: true });
}
