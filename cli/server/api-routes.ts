import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename } from 'node:path';
import { parseInfotext } from '../generate/infotext.js';
import { limits as engineLimits } from '../generate/validate.js';
import { decodePng, ImageDecodeError } from '../image/png-decode.js';
import { packageVersion } from '../version.js';
import { runGeneration } from './generation-runner.js';
import { HttpError, invalidField } from './http-error.js';
import { QueueClosedError, QueueFullError, type JobKind } from './job-queue.js';
import { progressResponse, taskProgress } from './progress.js';
import { readJsonBody } from './read-body.js';
import { sendJson } from './send.js';
import type { ServerContext } from './server-context.js';
import { parseWebuiRequest } from './webui-request.js';

export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  ctx: ServerContext;
}

export type Handler = (r: RouteRequest) => Promise<void> | void;

/** Schedule types that read the model's own timesteps (the webui's need_inner_model). */
const INNER_MODEL_SCHEDULES = new Set(['sgm_uniform', 'simple', 'normal', 'ddim']);
const SCHEDULE_RHO: Record<string, number> = { karras: 7, polyexponential: 1 };

async function generate(kind: JobKind, { req, res, ctx }: RouteRequest): Promise<void> {
  const request = parseWebuiRequest(kind, await readJsonBody(req, ctx.maxBodyBytes), ctx.options, ctx.catalog, ctx.limits);
  const id = request.taskId ?? `task(${randomUUID()})`;
  const existing = ctx.queue.find(id);
  if (existing && (existing.status === 'queued' || existing.status === 'running')) throw invalidField('force_task_id', `a request with id ${id} is already queued or running`);
  let job;
  try {
    job = ctx.queue.submit(id, kind, (queued, signal) => runGeneration(ctx.generator, ctx.model, request, queued, signal, ctx.outputDir, ctx.log));
  } catch (error) {
    if (error instanceof QueueFullError) {
      throw new HttpError(503, `the server is busy: one picture is being made and ${ctx.queue.queued().length} requests are waiting; try again in about ${error.retryAfterSeconds} s`, {
        headers: { 'retry-after': String(error.retryAfterSeconds) },
      });
    }
    throw error;
  }
  let response;
  try {
    response = await job.done;
  } catch (error) {
    if (error instanceof QueueClosedError) throw new HttpError(503, 'the server is shutting down', { headers: { 'retry-after': '10' } });
    if ((error as Error).name === 'AbortError') throw new HttpError(503, 'the generation was cancelled because the server is shutting down');
    ctx.log(`${kind} failed: ${(error as Error).message}`);
    throw new HttpError(500, `the generation failed: ${(error as Error).message}`, { kind: 'GenerationError' });
  }
  if (res.destroyed) return; // the client left; its job ran to completion anyway
  sendJson(res, 200, response);
}

function pngInfo(body: unknown) {
  const image = (body as { image?: unknown } | undefined)?.image;
  if (typeof image !== 'string' || !image.trim()) throw invalidField('image', 'send {"image": "<base64 PNG>"}');
  const base64 = image.trim().replace(/^data:[^,]*,/, '');
  let text: Record<string, string>;
  try {
    text = decodePng(Buffer.from(base64, 'base64')).text;
  } catch (error) {
    if (error instanceof ImageDecodeError) throw invalidField('image', `is not a readable PNG: ${error.message}`);
    throw error;
  }
  const info = text.parameters ?? '';
  const items = Object.fromEntries(Object.entries(text).filter(([k]) => k !== 'parameters'));
  if (!info) return { info, items, parameters: {} };
  const parsed = parseInfotext(info);
  const parameters: Record<string, string | number> = { Prompt: parsed.prompt, 'Negative prompt': parsed.negativePrompt, ...parsed.params };
  const size = /^(\d+)x(\d+)$/.exec(parsed.params.Size ?? '');
  if (size) Object.assign(parameters, { 'Size-1': Number(size[1]), 'Size-2': Number(size[2]) });
  return { info, items, parameters };
}

/** The API routes: path -> method -> handler. */
export const apiRoutes: Record<string, Partial<Record<'GET' | 'POST', Handler>>> = {
  '/sdapi/v1/txt2img': { POST: (r) => generate('txt2img', r) },
  '/sdapi/v1/img2img': { POST: (r) => generate('img2img', r) },
  '/sdapi/v1/progress': {
    GET: ({ res, url, ctx }) => sendJson(res, 200, progressResponse(ctx.queue, url.searchParams.get('skip_current_image') === 'true')),
  },
  '/sdapi/v1/interrupt': {
    POST: ({ res, ctx }) => {
      const job = ctx.queue.current();
      if (job) {
        job.interrupted = true;
        ctx.generator.interrupt();
      }
      sendJson(res, 200, {});
    },
  },
  '/sdapi/v1/samplers': {
    GET: ({ res, ctx }) => sendJson(res, 200, ctx.generator.samplers().map((s) => ({ name: s.name, aliases: s.aliases, options: s.options }))),
  },
  '/sdapi/v1/schedulers': {
    GET: ({ res, ctx }) =>
      sendJson(
        res,
        200,
        ctx.catalog.schedulers.map((s) => ({
          name: s.name,
          label: s.label,
          aliases: s.aliases.length ? s.aliases : null,
          default_rho: SCHEDULE_RHO[s.name] ?? -1,
          need_inner_model: INNER_MODEL_SCHEDULES.has(s.name),
        })),
      ),
  },
  '/sdapi/v1/sd-models': {
    GET: ({ res, ctx }) =>
      sendJson(res, 200, [
        { title: ctx.model.title, model_name: ctx.model.name, hash: ctx.model.hash, sha256: null, filename: ctx.model.path, config: null },
      ]),
  },
  '/sdapi/v1/options': {
    GET: ({ res, ctx }) => sendJson(res, 200, ctx.options.get()),
    POST: async ({ req, res, ctx }) => {
      ctx.options.set(await readJsonBody(req, 1 << 20));
      sendJson(res, 200, null);
    },
  },
  '/sdapi/v1/refresh-checkpoints': { POST: ({ res }) => sendJson(res, 200, null) },
  '/sdapi/v1/sd-vae': { GET: ({ res }) => sendJson(res, 200, []) },
  '/sdapi/v1/upscalers': { GET: ({ res }) => sendJson(res, 200, []) },
  '/sdapi/v1/latent-upscale-modes': { GET: ({ res }) => sendJson(res, 200, []) },
  '/sdapi/v1/prompt-styles': { GET: ({ res }) => sendJson(res, 200, []) },
  '/sdapi/v1/loras': { GET: ({ res }) => sendJson(res, 200, []) },
  '/sdapi/v1/scripts': { GET: ({ res }) => sendJson(res, 200, { txt2img: [], img2img: [] }) },
  '/sdapi/v1/script-info': { GET: ({ res }) => sendJson(res, 200, []) },
  '/sdapi/v1/hypernetworks': { GET: ({ res }) => sendJson(res, 200, []) },
  '/sdapi/v1/face-restorers': { GET: ({ res }) => sendJson(res, 200, []) },
  '/sdapi/v1/embeddings': { GET: ({ res }) => sendJson(res, 200, { loaded: {}, skipped: {} }) },
  '/sdapi/v1/png-info': { POST: async ({ req, res, ctx }) => sendJson(res, 200, pngInfo(await readJsonBody(req, ctx.maxBodyBytes))) },
  '/internal/ping': { GET: ({ res }) => sendJson(res, 200, {}) },
  '/internal/progress': {
    POST: async ({ req, res, ctx }) => {
      const body = ((await readJsonBody(req, 1 << 16)) ?? {}) as { id_task?: unknown; id_live_preview?: unknown; live_preview?: unknown };
      if (typeof body.id_task !== 'string') throw invalidField('id_task', 'must be the force_task_id of a request');
      const since = typeof body.id_live_preview === 'number' ? body.id_live_preview : -1;
      sendJson(res, 200, taskProgress(ctx.queue, body.id_task, since, body.live_preview !== false));
    },
  },
  /** Not in the webui: what the page needs to set its sliders (model, size and batch limits). */
  '/internal/server-info': {
    GET: ({ res, ctx }) =>
      sendJson(res, 200, {
        version: packageVersion(),
        model: { title: ctx.model.title, name: ctx.model.name, hash: ctx.model.hash, file: basename(ctx.model.path) },
        limits: {
          maxPixelsPerBatch: ctx.limits.maxPixelsPerBatch,
          memorySource: ctx.limits.memorySource,
          minSize: engineLimits.minSize,
          sizeMultiple: ctx.limits.sizeMultiple,
          maxSize: engineLimits.maxSize,
          maxSteps: engineLimits.maxSteps,
          maxBatchSize: engineLimits.maxBatchSize,
          maxBatchCount: engineLimits.maxBatchCount,
          maxCfgScale: engineLimits.maxCfgScale,
        },
      }),
  },
};
