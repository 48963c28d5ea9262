import { booleanOption, integerOption, stringOption } from '../args.js';
import { defineCommand } from '../command.js';
import { loadAddon } from '../binding/load-addon.js';
import { ExitCode, UsageError } from '../errors.js';
import { modelsDir as defaultModelsDir, resolveUserPath, homeOf, sdSetupHome } from '../download/models-dir.js';
import { firstGpuMemoryBytes } from '../server/gpu-memory.js';
import type { MemoryFacts } from '../server/memory-limits.js';
import { parseApiAuth, resolveServeModel, startServer, DEFAULT_PORT } from '../server/index.js';
import { join } from 'node:path';
import { stopSignal } from '../stop-signal.js';

const MiB = 1024 * 1024;

export const serveCommand = defineCommand({
  name: 'serve',
  summary: 'web UI and AUTOMATIC1111-compatible API at http://127.0.0.1:7860',
  details: `
Loads one model and serves the web UI (txt2img, img2img, live previews, a gallery) and the
webui's API (/sdapi/v1/txt2img, img2img, progress, interrupt, samplers, sd-models, options)
on 127.0.0.1 only, unless --listen. One picture is made at a time; up to 8 requests wait in
line, more get "503 busy" with a Retry-After. Ctrl+C stops the server.

--model takes "tiny" (a tiny test model inside the package: every part runs, the pictures are
noise), a checkpoint path, a catalogue name ("sd-v1-5", as downloaded by "sd-setup download"),
or a file name in the models folder. Without --model, the only checkpoint there is served.`,
  options: {
    model: { type: 'string', valueName: 'NAME|PATH', description: 'checkpoint to serve: a name in the models folder, a .safetensors/.ckpt path, or "tiny"' },
    'models-dir': { type: 'string', valueName: 'DIR', description: 'where named models are (default ~/sd-setup/models, or $SD_SETUP_HOME/models)' },
    port: { type: 'string', valueName: 'N', description: `port (default ${DEFAULT_PORT}; 0 = any free port)` },
    listen: { type: 'boolean', description: 'serve on every network interface, not just this machine (use with --api-auth)' },
    'api-auth': { type: 'string', valueName: 'USER:PASS', description: 'require this login for the page and the API ("u1:p1,u2:p2" for several)' },
    lowvram: { type: 'boolean', description: 'stream the UNet block by block: for 2-3 GB GPUs (slowest)' },
    medvram: { type: 'boolean', description: 'keep one model part on the GPU at a time: for 4 GB GPUs' },
    cpu: { type: 'boolean', description: 'generate on the CPU even when the CUDA engine is built' },
    'vram-budget': { type: 'string', valueName: 'MB', description: 'GPU memory to plan for, in MB (default: what nvidia-smi reports); bounds size x batch' },
    threads: { type: 'string', valueName: 'N', description: 'CPU threads for the engine (default: one per core)' },
    outdir: { type: 'string', valueName: 'DIR', description: 'where requests with save_images write pictures (default ~/sd-setup/outputs)' },
  },
  examples: ['sd-setup serve', 'sd-setup serve --model tiny --port 7861', 'sd-setup serve --model sd-v1-5 --lowvram', 'sd-setup serve --listen --api-auth me:secret'],
  async run({ values, io }) {
    const port = integerOption(values, 'port', 0, 65535) ?? DEFAULT_PORT;
    const threads = integerOption(values, 'threads', 1, 1024);
    const vramBudgetMB = integerOption(values, 'vram-budget', 256, 1024 * 1024);
    const lowvram = booleanOption(values, 'lowvram');
    const medvram = booleanOption(values, 'medvram');
    const cpu = booleanOption(values, 'cpu');
    if (lowvram && medvram) throw new UsageError('choose one of --lowvram and --medvram');
    const listen = booleanOption(values, 'listen');
    const authText = stringOption(values, 'api-auth');
    const auth = authText === undefined ? [] : parseApiAuth(authText);
    const modelsDir = defaultModelsDir({ dir: stringOption(values, 'models-dir'), env: io.env, cwd: io.cwd });
    const outdir = stringOption(values, 'outdir');
    const outputDir = outdir ? resolveUserPath(outdir, io.cwd, homeOf(io.env)) : join(sdSetupHome(io.env), 'outputs');
    const model = resolveServeModel(stringOption(values, 'model'), modelsDir, io.cwd);

    // The CUDA engine runs only where the driver offers a GPU; otherwise generate on the CPU and say why.
    let backend: 'cpu' | 'cuda' = 'cpu';
    let memory: MemoryFacts | undefined;
    const addon = loadAddon();
    if (!cpu && addon.buildInfo.cuda) {
      const status = addon.cudaStatus();
      if (!status.available) {
        io.err(`The CUDA engine is built but cannot run here (${status.reason}): generating on the CPU ("sd-setup doctor" says more).\n`);
      } else {
        backend = 'cuda';
        const bytes = vramBudgetMB !== undefined ? vramBudgetMB * MiB : await firstGpuMemoryBytes(io.env);
        if (bytes !== null) memory = { totalBytes: bytes, source: vramBudgetMB !== undefined ? `--vram-budget ${vramBudgetMB}` : `${Math.round(bytes / MiB)} MiB of GPU memory` };
      }
    }
    const memoryMode = lowvram ? 'lowvram' : medvram ? 'medvram' : 'normal';

    io.err(`Loading ${model === 'tiny' ? 'the tiny test model' : model} (${backend}${memoryMode === 'normal' ? '' : `, --${memoryMode}`})...\n`);
    const server = await startServer({
      model: {
        model,
        backend,
        memoryMode,
        ...(threads !== undefined ? { threads } : {}),
        // The engine's allocator enforces the budget; the server also sizes requests by it.
        ...(backend === 'cuda' && vramBudgetMB !== undefined ? { vramBudgetMB } : {}),
      },
      host: listen ? '0.0.0.0' : '127.0.0.1',
      port,
      auth,
      outputDir,
      ...(memory ? { memory } : {}),
      log: (line) => io.err(`${new Date().toISOString().slice(11, 19)} ${line}\n`),
    });
    // Listen for Ctrl+C before saying where we are: whoever reads the URL may stop us right away.
    const stopRequested = stopSignal();
    if (listen && auth.length === 0) {
      io.err(
        [
          '',
          '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
          `!!  WARNING: --listen without --api-auth: anyone who can reach port ${server.port} on`,
          '!!  this machine can use your GPU and see what you make. Add --api-auth user:pass.',
          '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
          '',
        ].join('\n'),
      );
    }
    io.out(`Running on local URL:  ${server.url}\n`);
    io.out(`Open ${server.url} in your browser. Press Ctrl+C to stop.\n`);
    if (listen) io.out(`Listening on every interface, port ${server.port}${auth.length ? ' (login required)' : ''}.\n`);

    await stopRequested;
    io.err('Stopping...\n');
    await server.close();
    return ExitCode.ok;
  },
});
