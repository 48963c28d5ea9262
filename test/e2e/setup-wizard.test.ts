import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { FakeMachine } from '../helpers/fake-machine.js';
import { serveBytes, startServer, type TestServer } from '../helpers/file-server.js';
import { KEY, runInPty, type PtyRun } from '../helpers/pty.js';
import { cliPath, freePort, installWithEngine, processesMentioning, readConfig, spawnCli, until, wizardMachine, type Spawned } from '../helpers/wizard-machine.js';

// The guided install as a person (a real pseudo-terminal, real inquirer prompts)
// and a script (no terminal) run it: fake hardware (the doctor's fake
// nvidia-smi/nvcc), the real cmake-js build of the engine (once, CPU, reused by
// the later tests), the package's tiny model as the smoke test, and the
// "real" model downloaded from a local HTTP server.

const tinyModel = readFileSync('assets/models/tiny-sd1.safetensors');
const tinySha256 = createHash('sha256').update(tinyModel).digest('hex');

let files: TestServer;
/** Milliseconds between 64 kB chunks of the model download (a slow server, to interrupt it). */
let chunkDelayMs = 0;
const modelUrl = () => `${files.origin}/files/tiny-model.safetensors`;

const machines: FakeMachine[] = [];
const running: (Spawned | PtyRun)[] = [];
before(async () => {
  files = await startServer((req, res) => serveBytes(req, res, tinyModel, { etag: '"tiny-1"', chunkDelayMs }));
});
after(async () => {
  await files.close();
  for (const m of machines) m.cleanup();
});
afterEach(() => {
  for (const r of running.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  chunkDelayMs = 0;
});

function machine(gpu: 'gtx1050' | 'none', options: { realBuildTools?: boolean } = {}) {
  const m = wizardMachine(gpu, options);
  machines.push(m.machine);
  return m;
}

function pty(args: string[], env: NodeJS.ProcessEnv): PtyRun {
  const run = runInPty([process.execPath, cliPath, ...args], { env });
  running.push(run);
  return run;
}

function spawned(args: string[], env: NodeJS.ProcessEnv): Spawned {
  const run = spawnCli(args, env);
  running.push(run);
  return run;
}

/** Types keys one at a time, as a person does (a prompt reads key by key). */
async function press(run: PtyRun, ...keys: string[]): Promise<void> {
  for (const key of keys) {
    run.type(key);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** The last "[n/m]" ninja counts the build view showed after `from`. */
function buildCounts(screen: string): { done: number; total: number }[] {
  return [...screen.matchAll(/building \[[#-]+\]\s+\d+% (\d+)\/(\d+)/g)].map((m) => ({ done: Number(m[1]), total: Number(m[2]) }));
}

describe('sd-setup: the guided install', { timeout: 20 * 60_000 }, () => {
  // The finished install of the first two tests; later tests reuse its engine.
  const first = machine('gtx1050');
  const firstDir = join(first.machine.root, 'stable-diffusion');
  let fullBuildSteps = 0;
  let port = 0;

  it('asks in a terminal, builds, and stops cleanly on Ctrl-C mid-build', { timeout: 10 * 60_000 }, async () => {
    port = await freePort();
    const run = pty(['--model-url', modelUrl(), '--model-sha256', tinySha256, '--port', String(port)], first.env);
    await run.waitFor(/1\/6\] Checking this computer/);
    await run.waitFor(/GTX 1050/);
    await run.waitFor(/Install folder/, 60_000);
    run.type(firstDir);
    await press(run, KEY.enter);
    // The GTX 1050 with a fitting toolkit: CUDA is recommended and preselected; a person picks the CPU engine.
    const question = await run.waitFor(/Which engine should be built\?[\s\S]*CPU/);
    assert.match(question[0], /CUDA \(recommended\)/);
    await press(run, KEY.down, KEY.enter);
    await run.waitFor(/engine: CPU/);
    await run.waitFor(/building \[[#-]+\]\s+\d+% ([5-9]|\d\d)\/\d+ /, 5 * 60_000);
    fullBuildSteps = buildCounts(run.screen()).at(-1)!.total;
    run.type(KEY.ctrlC);
    assert.equal(await run.exit, 130, run.screen().slice(-2000));
    assert.match(run.screen(), /stopped\. Nothing is left half-done: run "npx sd-setup" to continue/);

    const config = readConfig(firstDir);
    assert.deepEqual(config.choices, { model: { kind: 'url', url: modelUrl(), sha256: tinySha256 }, engine: 'cpu' });
    assert.equal(config.engine, undefined);
    assert.ok(!existsSync(join(firstDir, 'engine', 'sd_engine.node')), 'no engine is installed from an interrupted build');
    // cmake, ninja and the compilers were stopped with it.
    await until(() => processesMentioning(join(firstDir, 'engine')).length === 0, 'the build processes to end', 10_000);
  });

  it('resumes: no questions asked again, the build continues, smoke test, download, launch answers on its port', { timeout: 10 * 60_000 }, async () => {
    const run = pty(['--model-url', modelUrl(), '--model-sha256', tinySha256, '--port', String(port)], first.env);
    await run.waitFor(/resuming the install in .*stable-diffusion/, 60_000);
    await run.waitFor(/✔ built in/, 5 * 60_000);
    const counts = buildCounts(run.screen());
    assert.ok(counts.length > 0 && counts[0]!.total < fullBuildSteps, `the build continued where it stopped (${counts[0]?.total} of ${fullBuildSteps} steps left)`);
    await run.waitFor(/✔ made a 64×64 image in [\d.]+ s on the CPU engine/, 120_000);
    await run.waitFor(/downloaded and verified/, 60_000);
    await run.waitFor(/memory mode: cpu/);
    await run.waitFor(/Open the web UI in your browser/);
    await press(run, 'n', KEY.enter);
    const url = (await run.waitFor(/Running on (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1]!;
    assert.equal(url, `http://127.0.0.1:${port}`);
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const screen = run.screen();
    assert.doesNotMatch(screen, /Install folder|Which engine/, 'a resumed install does not ask again');

    await press(run, KEY.ctrlC);
    assert.equal(await run.exit, 0, run.screen().slice(-2000));
    const config = readConfig(firstDir);
    assert.equal(config.engine?.backend, 'cpu');
    assert.equal(config.smokeTest?.addonSha256, config.engine?.sha256);
    assert.equal(config.model?.sha256, tinySha256);
    assert.equal(config.choices.memoryMode, 'cpu');
    assert.deepEqual(config.launch, { port, listen: false, openBrowser: false });
    assert.ok(config.completedAt);
    const model = join(firstDir, config.model!.path);
    assert.equal(createHash('sha256').update(readFileSync(model)).digest('hex'), tinySha256);
    assert.ok(statSync(join(firstDir, config.engine!.log!)).size > 1000, 'the full build log is kept');
  });

  it('runs again with everything verified and skipped', { timeout: 120_000 }, async () => {
    const run = spawned(['--no-launch'], first.env);
    const { code, stdout, stderr } = await run.done;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /resuming the install in/);
    assert.match(stderr, /already done: .*sd_engine\.node loads and answers/);
    assert.match(stderr, /already done: passed/);
    assert.match(stderr, /already done: .*tiny-model\.safetensors, verified/);
    assert.match(stdout, /All set\. Start the generator with: sd-setup launch/);
  });

  it('sd-setup launch starts the saved install; a flag changes one setting for one run', { timeout: 120_000 }, async () => {
    const other = await freePort();
    const run = spawned(['launch', '--port', String(other)], first.env);
    await until(() => /Running on http:\/\/127\.0\.0\.1:\d+/.test(run.output()), 'the web UI', 60_000);
    assert.equal((await fetch(`http://127.0.0.1:${other}/`)).status, 200);
    run.child.kill('SIGINT');
    const { code, stderr } = await run.done;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /CPU\)/);
    assert.equal(readConfig(firstDir).launch?.port, port, 'the saved port is unchanged');

    const refused = await spawned(['launch', '--lowvram'], first.env).done;
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--lowvram needs the CUDA engine/);
  });

  it('sd-setup build: current engine is kept; --force rebuilds (incrementally) and reinstalls', { timeout: 5 * 60_000 }, async () => {
    const kept = await spawned(['build'], first.env).done;
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stdout, /already built and current/);
    const before = readConfig(firstDir).engine!;
    const forced = await spawned(['build', '--force', '--jobs', '2'], first.env).done;
    assert.equal(forced.code, 0, forced.stderr);
    const afterBuild = readConfig(firstDir).engine!;
    assert.notEqual(afterBuild.builtAt, before.builtAt);
    assert.equal(afterBuild.sha256, before.sha256, 'the same sources give the same engine');
    assert.equal(readConfig(firstDir).smokeTest?.addonSha256, afterBuild.sha256, 'an identical engine keeps its smoke test');
  });

  it('resumes an interrupted download where it stopped', { timeout: 120_000 }, async () => {
    const m = machine('none');
    const dir = join(m.machine.root, 'sd');
    installWithEngine(firstDir, dir);
    chunkDelayMs = 25;
    const args = ['--yes', '--dir', dir, '--engine', 'cpu', '--model-url', modelUrl(), '--model-sha256', tinySha256, '--no-launch'];
    const run = spawned(args, m.env);
    const part = join(dir, 'models', 'tiny-model.safetensors.part');
    await until(() => existsSync(part) && statSync(part).size > 256 * 1024, 'part of the download', 60_000);
    run.child.kill('SIGINT');
    const stopped = await run.done;
    assert.equal(stopped.code, 130, stopped.stderr);
    assert.match(stopped.stderr, /already done: .*loads and answers/);
    assert.ok(existsSync(part), 'the part is kept for the next run');
    assert.ok(!existsSync(join(dir, 'models', 'tiny-model.safetensors')));
    assert.equal(readConfig(dir).model, undefined);

    chunkDelayMs = 0;
    const resumed = await spawned(args, m.env).done;
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /downloaded \(resumed\) and verified/);
    assert.ok(files.requests.some((r) => r.range !== undefined && r.range !== 'bytes=0-'), 'the second run asked for the rest only');
    assert.equal(readConfig(dir).model?.sha256, tinySha256);
  });

  it('survives being killed at each later step (never a half-written config)', { timeout: 180_000 }, async () => {
    const m = machine('none');
    const dir = join(m.machine.root, 'sd');
    installWithEngine(firstDir, dir, { smokeTest: false });
    chunkDelayMs = 10;
    const args = ['--dir', dir, '--engine', 'cpu', '--model-url', modelUrl(), '--model-sha256', tinySha256, '--memory-mode', 'cpu', '--no-launch'];
    for (const step of ['[4/6]', '[5/6]', '[6/6]']) {
      const run = spawned(args, m.env);
      await until(() => run.output().includes(step), `step ${step}`, 60_000);
      run.child.kill('SIGKILL');
      await run.done;
      assert.doesNotThrow(() => readConfig(dir), `the config is whole after a kill at ${step}`);
    }
    chunkDelayMs = 0;
    const finished = await spawned(args, m.env).done;
    assert.equal(finished.code, 0, finished.stderr);
    const config = readConfig(dir);
    assert.ok(config.completedAt && config.smokeTest && config.model?.sha256 === tinySha256);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });

  it('Ctrl-C at a question stops without losing the answers given', { timeout: 120_000 }, async () => {
    const m = machine('gtx1050');
    const dir = join(m.machine.root, 'sd');
    const run = pty(['--dir', dir, '--model-url', modelUrl(), '--model-sha256', tinySha256], m.env);
    await run.waitFor(/Which engine should be built\?/, 60_000);
    await press(run, KEY.ctrlC);
    assert.equal(await run.exit, 130);
    assert.match(run.screen(), /stopped\. Nothing is left half-done/);
    assert.deepEqual(readConfig(dir).choices, { model: { kind: 'url', url: modelUrl(), sha256: tinySha256 } });
  });

  it('picks a checkpoint already on disk through the model question', { timeout: 120_000 }, async () => {
    const m = machine('none');
    const dir = join(m.machine.root, 'sd');
    installWithEngine(firstDir, dir);
    const own = join(m.machine.root, 'my model.safetensors');
    copyFileSync('assets/models/tiny-sd1.safetensors', own);
    const run = pty(['--dir', dir, '--no-launch'], m.env);
    const list = await run.waitFor(/Which model\?[\s\S]*already have/, 60_000);
    assert.match(list[0], /sd-v1-5/);
    assert.match(run.screen(), /4\.27 GB, license CreativeML OpenRAIL-M, no token needed/);
    await press(run, KEY.down, KEY.down, KEY.enter);
    await run.waitFor(/Path of the checkpoint file/);
    run.type(join(m.machine.root, 'nothing-here.ckpt'));
    await press(run, KEY.enter);
    await run.waitFor(/no file at/);
    // Clear the wrong path and give the right one.
    run.type('\x7f'.repeat(80));
    run.type(own);
    await press(run, KEY.enter);
    await run.waitFor(/All set/, 60_000);
    assert.equal(await run.exit, 0, run.screen().slice(-2000));
    const config = readConfig(dir);
    assert.deepEqual(config.choices.model, { kind: 'file', path: own });
    assert.equal(config.model?.path, own);
    assert.equal(config.model?.sha256, tinySha256);
  });

  it('stops at the diagnosis with the install commands when the build tools are missing', async () => {
    const m = machine('none', { realBuildTools: false });
    for (const tool of ['cmake', 'c++', 'make']) rmSync(join(m.machine.bin, tool));
    const r = await spawned(['--yes', '--dir', join(m.machine.root, 'sd')], m.env).done;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /this computer cannot build and run the engine yet:/);
    assert.match(r.stderr, /✖ CMake not found[^\n]*\n\s+→ sudo apt install cmake/);
    assert.match(r.stderr, /✖ no C\+\+17 compiler found[^\n]*\n\s+→ sudo apt install build-essential/);
    assert.ok(!existsSync(join(m.machine.root, 'sd')), 'nothing is installed on a machine that cannot build');
  });

  describe('without a terminal', () => {
    it('never prompts under CI and names the missing flag', async () => {
      const m = machine('none');
      const dir = join(m.machine.root, 'sd');
      const ci = await spawned([], { ...m.env, CI: 'true' }).done;
      assert.equal(ci.code, 2);
      assert.match(ci.stderr, /error: missing --dir: .* CI is set/);
      const noModel = await spawned(['--dir', dir], m.env).done;
      assert.equal(noModel.code, 2);
      assert.match(noModel.stderr, /missing --model: .*no terminal to ask on/);
      assert.match(noModel.stderr, /or --yes to accept the recommended answers/);
    });

    it('--yes fills in recommended answers but not a token for a gated model', async () => {
      const m = machine('none');
      const r = await spawned(['--yes', '--dir', join(m.machine.root, 'sd'), '--model', 'sd-v1-4'], m.env).done;
      assert.equal(r.code, 2);
      assert.match(r.stderr, /sd-v1-4 is gated: accept its license at https:\/\/huggingface\.co\/CompVis/);
      assert.match(r.stderr, /missing --hf-token/);
    });

    it('refuses --engine cuda where the GPU cannot run it, saying why', async () => {
      const m = machine('none');
      const r = await spawned(['--dir', join(m.machine.root, 'sd'), '--checkpoint', 'assets/models/tiny-sd1.safetensors', '--engine', 'cuda'], m.env).done;
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--engine cuda: no NVIDIA GPU found/);
    });

    it('runs to the end with every answer given as a flag', { timeout: 120_000 }, async () => {
      const m = machine('none');
      const dir = join(m.machine.root, 'sd');
      installWithEngine(firstDir, dir);
      const args = ['--dir', dir, '--checkpoint', 'assets/models/tiny-sd1.safetensors', '--engine', 'cpu', '--memory-mode', 'cpu', '--port', '7999', '--no-launch'];
      const r = await spawned(args, { ...m.env, CI: 'true' }).done;
      assert.equal(r.code, 0, r.stderr);
      const config = readConfig(dir);
      assert.equal(config.launch?.port, 7999);
      assert.ok(config.completedAt);
    });
  });

  describe('a failing build', () => {
    it('shows the end of the log and the hint for a missing compiler', { timeout: 120_000 }, async () => {
      const m = machine('none', { realBuildTools: false });
      // cmake --version answers; configuring fails as CMake does on a machine without g++.
      writeFake(m.machine, 'cmake', [
        'case "$1" in',
        '  --version) echo "cmake version 3.28.3"; exit 0 ;;',
        '  *) echo "-- The CXX compiler identification is unknown"',
        '     echo "CMake Error at CMakeLists.txt:10 (project):"',
        '     echo "  No CMAKE_CXX_COMPILER could be found."',
        '     echo "-- Configuring incomplete, errors occurred!"; exit 1 ;;',
        'esac',
      ]);
      const dir = join(m.machine.root, 'sd');
      const r = await spawned(['--yes', '--dir', dir, '--engine', 'cpu', '--checkpoint', 'assets/models/tiny-sd1.safetensors', '--no-launch'], m.env).done;
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /the engine build failed while it was configuring \(cmake\): no working C\+\+ compiler was found/);
      assert.match(r.stderr, /last lines of the build log:\n(.*\n)*  \| CMake Error at CMakeLists\.txt:10 \(project\):/);
      assert.match(r.stderr, /sudo apt install build-essential/);
      const log = /full log: (.*\.log)/.exec(r.stderr)![1]!;
      assert.match(readFileSync(log, 'utf8'), /No CMAKE_CXX_COMPILER could be found/);
      assert.equal(readConfig(dir).engine, undefined);
      assert.ok(!existsSync(join(dir, 'engine', 'sd_engine.node')));
    });

    it('builds CUDA for the doctor\'s architecture and nvcc, and explains nvcc rejecting it', { timeout: 120_000 }, async () => {
      const m = machine('gtx1050', { realBuildTools: false });
      writeFake(m.machine, 'cmake', [
        'case "$1" in',
        '  --version) echo "cmake version 3.28.3"; exit 0 ;;',
        '  --build) echo "[1/40] Building CUDA object CMakeFiles/sd_engine_cuda.dir/native/ops/cuda/gemm.cu.o"',
        '     echo "FAILED: CMakeFiles/sd_engine_cuda.dir/native/ops/cuda/gemm.cu.o"',
        '     echo "nvcc fatal   : Unsupported gpu architecture \'compute_61\'"',
        '     echo "ninja: build stopped: subcommand failed."; exit 1 ;;',
        '  *) echo "configure arguments: $*"; exit 0 ;;',
        'esac',
      ]);
      const dir = join(m.machine.root, 'sd');
      const r = await spawned(['--yes', '--dir', dir, '--checkpoint', 'assets/models/tiny-sd1.safetensors', '--no-launch'], m.env).done;
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /engine: CUDA \(NVIDIA GeForce GTX 1050, 2\.0 GB\)/);
      assert.match(r.stderr, /this CUDA toolkit cannot compile for the GPU's architecture \(compute_61\)/);
      assert.match(r.stderr, /sd-setup doctor.*--engine cpu/);
      const log = readFileSync(/full log: (.*\.log)/.exec(r.stderr)![1]!, 'utf8');
      const nvcc = join(m.machine.toolkits, 'cuda-12.2', 'bin', 'nvcc');
      assert.match(log, /configure arguments: .* -DSD_CUDA=ON -DSD_CUDA_ARCHS=61 /);
      assert.ok(log.includes(`-DCMAKE_CUDA_COMPILER=${nvcc}`), 'the build uses the nvcc the doctor chose');
    });
  });
});

/** Replaces one of the machine's fake tools with a shell script. */
function writeFake(m: FakeMachine, name: string, lines: string[]): void {
  // cmake-js itself looks for g++ or clang++ before it runs cmake.
  m.tool('g++', { stdout: 'g++ (Debian 12.2.0-14) 12.2.0' });
  const file = join(m.bin, name);
  writeFileSync(file, `#!/bin/sh\n${lines.join('\n')}\n`);
  chmodSync(file, 0o755);
}
