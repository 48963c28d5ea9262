import type { GenerationQueue, Job } from './job-queue.js';
import { encodeImageBase64, jobTimestamp } from './webui-response.js';

/** The webui's progress fraction: a hundredth for having started, then batches and steps. */
export function jobFraction(job: Job): number {
  const { batch, batches, step, steps } = job.progress;
  let progress = 0.01 + batch / batches;
  if (steps > 0) progress += (1 / batches) * (step / steps);
  return Math.min(progress, 1);
}

function etaSeconds(job: Job, fraction: number, now: number): number {
  const elapsed = (now - (job.startedAt ?? now)) / 1000;
  return elapsed / fraction - elapsed;
}

function textInfo(job: Job): string {
  const { batch, batches, step, steps } = job.progress;
  const batchText = batches > 1 ? `, batch ${batch + 1} of ${batches}` : '';
  return steps > 0 ? `Sampling step ${step} of ${steps}${batchText}` : 'Preparing';
}

/**
 * GET /sdapi/v1/progress: the webui's ProgressResponse for the job generating
 * now (progress 0 and job_count 0 when idle). current_image is the latest live
 * preview as base64 PNG (at latent resolution: 1/8 of the picture's size).
 */
export function progressResponse(queue: GenerationQueue, skipCurrentImage: boolean, now = Date.now()) {
  const job = queue.current();
  const state = {
    skipped: false,
    interrupted: job?.interrupted ?? false,
    stopping_generation: false,
    job: job ? `scripts_${job.kind}` : '',
    job_count: job ? job.progress.batches : 0,
    job_timestamp: job?.startedAt ? jobTimestamp(new Date(job.startedAt)) : '0',
    job_no: job ? job.progress.batch : 0,
    sampling_step: job ? job.progress.step : 0,
    sampling_steps: job ? job.progress.steps : 0,
    // Not in the webui: how many requests wait behind this one.
    queued: queue.queued().length,
  };
  if (!job) return { progress: 0, eta_relative: 0, state, current_image: null, textinfo: null };
  const progress = jobFraction(job);
  return {
    progress,
    eta_relative: etaSeconds(job, progress, now),
    state,
    current_image: !skipCurrentImage && job.preview ? encodeImageBase64(job.preview) : null,
    textinfo: textInfo(job),
  };
}

/**
 * POST /internal/progress, the webui page's own protocol: one task's state by
 * its id (force_task_id of its request), so a page follows its own job even
 * while others are queued. The preview comes only when newer than the one the
 * page already has (id_live_preview).
 */
export function taskProgress(queue: GenerationQueue, idTask: string, idLivePreview: number, wantPreview: boolean, now = Date.now()) {
  const job = queue.find(idTask);
  if (!job) return { active: false, queued: false, completed: false, progress: null, eta: null, live_preview: null, id_live_preview: -1, textinfo: 'Waiting...' };
  const completed = job.status === 'finished' || job.status === 'failed';
  if (job.status === 'queued') {
    const position = queue.position(job.id) ?? 0;
    return { active: false, queued: true, completed: false, progress: null, eta: null, live_preview: null, id_live_preview: idLivePreview, textinfo: `In queue: ${position - 1} ahead` };
  }
  const progress = completed ? 1 : jobFraction(job);
  const fresh = wantPreview && job.preview && job.previewId > idLivePreview;
  return {
    active: job.status === 'running',
    queued: false,
    completed,
    progress,
    eta: completed ? 0 : etaSeconds(job, progress, now),
    live_preview: fresh ? `data:image/png;base64,${encodeImageBase64(job.preview!)}` : null,
    id_live_preview: fresh ? job.previewId : idLivePreview,
    textinfo: completed ? (job.status === 'failed' ? 'Failed' : 'Done') : textInfo(job),
  };
}
