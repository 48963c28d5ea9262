import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { totalmem } from 'node:os';
import { basename, extname, join } from 'node:path';
import { Generator, type GeneratorOptions } from '../generate/generator.js';
import { limits as engineLimits } from '../generate/validate.js';
import { UserError } from '../errors.js';
import { sdSetupHome } from '../download/models-dir.js';
import { apiRoutes } from './api-routes.js';
import { isAuthorized, parseApiAuth, type Credential } from './auth.js';
import { engineCatalog, type EngineCatalog } from './engine-catalog.js';
import type { ServerGenerator } from './generation-runner.js';
import { HttpError } from './http-error.js';
import { GenerationQueue } from './job-queue.js';
import { maxPixelsPerBatch, type MemoryFacts } from './memory-limits.js';
import { OptionsStore } from './options-store.js';
import { checkRequestOrigin } from './request-guard.js';
import { sendError } from './send.js';
import type { ServerContext } from './server-context.js';
import { loadStaticFiles, sendStatic } from './static-files.js';

export const DEFAULT_PORT = 7860;
export const LOOPBACK_HOST = '127.0.0.1';

export interface StartServerOptions {
  /** A loaded model; the server does not close it. Give this or `model`. */
  generator?: ServerGenerator;
  /** Open this model (GeneratorOptions: "tiny" or a checkpoint path); close() closes it. */
  model?: GeneratorOptions;
  /** Default 127.0.0.1; "0.0.0.0" (or "::") for --listen. */
  host?: string;
  /** Default 7860; 0 picks a free port (tests). */
  port?: number;
  /** HTTP Basic credentials ("user:pass,user2:pass2" or parsed); required for every request when set. */
  auth?: string | Credential[];
  /** Requests that may wait behind the running one before 503 (default 8). */
  maxQueued?: number;
  /** Largest request body (default 50 MiB: room for a few large init images). */
  maxBodyBytes?: number;
  /** Largest init image in pixels (default 4096 x 4096). */
  maxUploadPixels?: number;
  /** The memory generation runs in; default: RAM on the CPU, 4 GiB assumed with CUDA (pass the real size). */
  memory?: MemoryFacts;
  /** Where save_images writes (default ~/sd-setup/outputs, or $SD_SETUP_HOME/outputs). */
  outputDir?: string;
  /** One line per event (start, failures); default: nothing. */
  log?: (line: string) => void;
  /** The engine's sampler tables (default: from the addon). */
  catalog?: EngineCatalog;
}

export interface RunningServer {
  /** http://127.0.0.1:7860 (the address to open in a browser). */
  url: string;
  host: string;
  port: number;
  /** Stops taking requests, cancels the running generation, and closes what it opened. */
  close(): Promise<void>;
}

const GiB = 1024 ** 3;

function defaultMemory(generator: ServerGenerator): MemoryFacts {
  const info = generator.info;
  if (info.backend === 'cpu') return { totalBytes: totalmem(), weightBytes: info.residentBytes, source: `${(totalmem() / GiB).toFixed(1)} GiB of RAM` };
  return { totalBytes: 4 * GiB, weightBytes: info.residentBytes, source: 'an assumed 4 GiB of GPU memory (pass the real size: --vram-budget MB)' };
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}

/**
 * The web UI and the AUTOMATIC1111-compatible API on one node:http server.
 * Resolves once it listens; a port already in use is a UserError saying so.
 *
 * @example
 * const server = await startServer({ model: { model: 'tiny' }, port: 0 });
 * console.log(server.url); // http://127.0.0.1:41234
 * await server.close();
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const log = options.log ?? (() => {});
  const host = options.host ?? LOOPBACK_HOST;
  const credentials = typeof options.auth === 'string' ? parseApiAuth(options.auth) : (options.auth ?? []);
  const staticFiles = loadStaticFiles();
  let opened: Generator | undefined;
  let generator = options.generator;
  if (!generator) {
    if (!options.model) throw new Error('startServer needs a generator or a model');
    opened = await Generator.open(options.model);
    generator = opened;
  }
  try {
    const file = basename(generator.modelPath);
    const model = { name: generator.modelName, hash: generator.modelHash, title: `${file} [${generator.modelHash}]`, path: generator.modelPath };
    const memory = options.memory ? { ...options.memory, weightBytes: options.memory.weightBytes ?? generator.info.residentBytes } : defaultMemory(generator);
    const ceiling = engineLimits.maxSize * engineLimits.maxSize * engineLimits.maxBatchSize;
    const ctx: ServerContext = {
      generator,
      model,
      catalog: options.catalog ?? engineCatalog(),
      options: new OptionsStore(
        {
          title: model.title,
          // The webui accepts a checkpoint by title, file name, name without extension or hash.
          matches: (name) => [model.title, file, model.name, model.hash, basename(file, extname(file))].some((n) => n.toLowerCase() === name.trim().toLowerCase()),
        },
        log,
      ),
      queue: new GenerationQueue(options.maxQueued ?? 8),
      limits: {
        maxPixelsPerBatch: maxPixelsPerBatch(memory, ceiling),
        memorySource: memory.source,
        maxUploadPixels: options.maxUploadPixels ?? 4096 * 4096,
        // 8-pixel steps as in the webui: the engine takes any multiple of 8, not only of 64.
        sizeMultiple: 8,
      },
      maxBodyBytes: options.maxBodyBytes ?? 50 * 1024 * 1024,
      outputDir: options.outputDir ?? join(sdSetupHome(process.env), 'outputs'),
      log,
    };

    const server = createServer((req, res) => {
      handle(req, res, ctx, staticFiles, credentials, isLoopback(host)).catch((error: unknown) => {
        log(`internal error on ${req.method} ${req.url}: ${(error as Error).stack ?? String(error)}`);
        sendError(res, new HttpError(500, `internal server error: ${(error as Error).message}`));
      });
    });
    // Uploads must arrive in reasonable time; generations themselves may take minutes (no response timeout).
    server.requestTimeout = 120_000;
    server.headersTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE') {
          reject(new UserError(`port ${options.port ?? DEFAULT_PORT} on ${host} is already in use`, { hint: 'is the web UI already running? open it, stop the other program, or start this one with --port N' }));
        } else if (error.code === 'EACCES') {
          reject(new UserError(`not allowed to listen on port ${options.port ?? DEFAULT_PORT}`, { hint: 'use a port above 1023: --port 7860' }));
        } else reject(error);
      });
      server.listen(options.port ?? DEFAULT_PORT, host, resolve);
    });
    const port = (server.address() as AddressInfo).port;
    const shownHost = host === '0.0.0.0' || host === '::' ? LOOPBACK_HOST : host.includes(':') ? `[${host}]` : host;
    let closing: Promise<void> | undefined;
    return {
      url: `http://${shownHost}:${port}`,
      host,
      port,
      close: () =>
        (closing ??= (async () => {
          const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
          await ctx.queue.close();
          server.closeAllConnections();
          await stopped;
          opened?.close();
        })()),
    };
  } catch (error) {
    opened?.close();
    throw error;
  }
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ServerContext,
  staticFiles: ReturnType<typeof loadStaticFiles>,
  credentials: Credential[],
  loopbackOnly: boolean,
): Promise<void> {
  try {
    checkRequestOrigin(req, loopbackOnly);
    if (credentials.length && !isAuthorized(req.headers.authorization, credentials)) {
      throw new HttpError(401, 'Incorrect username or password', { headers: { 'www-authenticate': 'Basic realm="sd-setup", charset="UTF-8"' } });
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const page = staticFiles.get(url.pathname);
    if (page) {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'Method Not Allowed', { headers: { allow: 'GET, HEAD' } });
      sendStatic(req, res, page);
      return;
    }
    const route = apiRoutes[url.pathname];
    if (!route) throw new HttpError(404, 'Not Found');
    const handler = route[method as 'GET' | 'POST'];
    if (!handler) throw new HttpError(405, 'Method Not Allowed', { headers: { allow: Object.keys(route).join(', ') } });
    await handler({ req, res, url, ctx });
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    sendError(res, error); // a 413 carries "connection: close": Node then drops the rest of the upload
  }
}
