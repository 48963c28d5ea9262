import type { RgbImage } from '../image/png-encode.js';

export type JobKind = 'txt2img' | 'img2img';
export type JobStatus = 'queued' | 'running' | 'finished' | 'failed';

export interface JobProgress {
  /** Batch being made (0-based) of batches ("Batch count"). */
  batch: number;
  batches: number;
  /** Sampler step done (1-based) of steps in this batch. */
  step: number;
  steps: number;
}

/** One generation request as the queue tracks it; the HTTP request only waits on `done`. */
export interface Job<T = unknown> {
  readonly id: string;
  readonly kind: JobKind;
  status: JobStatus;
  readonly queuedAt: number;
  startedAt?: number;
  finishedAt?: number;
  progress: JobProgress;
  /** The latest live preview and a counter that grows with each new one. */
  preview?: RgbImage;
  previewId: number;
  interrupted: boolean;
  error?: unknown;
  /** Settles when the job has run (or failed); never rejects unobserved. */
  readonly done: Promise<T>;
}

export class QueueFullError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('the generation queue is full');
  }
}

export class QueueClosedError extends Error {
  constructor() {
    super('the server is shutting down');
  }
}

type Runner<T> = (job: Job<T>, signal: AbortSignal) => Promise<T>;

interface Entry<T> {
  job: Job<T>;
  run: Runner<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/**
 * Runs one generation at a time, in arrival order, with at most `maxQueued`
 * waiting behind the running one (past that, submit() throws QueueFullError
 * with a Retry-After estimate). Jobs belong to the queue, not to the HTTP
 * request that made them: a client that disconnects does not stop its job,
 * and a job that fails rejects only its own promise.
 */
export class GenerationQueue {
  private readonly waiting: Entry<unknown>[] = [];
  private running: Entry<unknown> | undefined;
  private readonly recent = new Map<string, Job>();
  private readonly abort = new AbortController();
  private closed = false;
  /** Seconds the last finished jobs took, for Retry-After. */
  private readonly durations: number[] = [];

  constructor(
    private readonly maxQueued: number,
    private readonly keepFinished = 32,
  ) {}

  submit<T>(id: string, kind: JobKind, run: Runner<T>): Job<T> {
    if (this.closed) throw new QueueClosedError();
    if (this.waiting.length + (this.running ? 1 : 0) > this.maxQueued) throw new QueueFullError(this.retryAfterSeconds());
    let resolve!: (value: T) => void;
    let reject!: (error: unknown) => void;
    const done = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    done.catch(() => {}); // the route observes it; a gone client must not crash the process
    const job: Job<T> = {
      id,
      kind,
      status: 'queued',
      queuedAt: Date.now(),
      progress: { batch: 0, batches: 1, step: 0, steps: 0 },
      previewId: 0,
      interrupted: false,
      done,
    };
    this.remember(job);
    this.waiting.push({ job, run, resolve, reject } as Entry<unknown>);
    this.next();
    return job;
  }

  /** The job generating now, if any. */
  current(): Job | undefined {
    return this.running?.job;
  }

  /** Jobs waiting behind the current one, oldest first. */
  queued(): readonly Job[] {
    return this.waiting.map((e) => e.job);
  }

  /** A job by id while it waits or runs, and for a while after it finished. */
  find(id: string): Job | undefined {
    return this.recent.get(id);
  }

  /** Position in the line: 0 = running, 1 = next, ...; undefined = not waiting. */
  position(id: string): number | undefined {
    if (this.running?.job.id === id) return 0;
    const index = this.waiting.findIndex((e) => e.job.id === id);
    return index < 0 ? undefined : index + 1;
  }

  /** Seconds until a place is likely to free up: the average job time times the line, at least 1. */
  retryAfterSeconds(): number {
    const average = this.durations.length ? this.durations.reduce((a, b) => a + b, 0) / this.durations.length : 10;
    const running = this.running?.job.startedAt ? (Date.now() - this.running.job.startedAt) / 1000 : 0;
    return Math.max(1, Math.ceil(average - running));
  }

  /** Refuses new jobs, fails the waiting ones and aborts the running one; resolves when it has stopped. */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.waiting.splice(0)) {
      entry.job.status = 'failed';
      entry.job.error = new QueueClosedError();
      entry.reject(entry.job.error);
    }
    const running = this.running?.job.done;
    this.abort.abort(new QueueClosedError());
    await running?.catch(() => {});
  }

  private next(): void {
    if (this.running || this.closed) return;
    const entry = this.waiting.shift();
    if (!entry) return;
    this.running = entry;
    const { job } = entry;
    job.status = 'running';
    job.startedAt = Date.now();
    let outcome: Promise<unknown>;
    try {
      outcome = entry.run(job, this.abort.signal);
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome
      .then(
        (value) => {
          job.status = 'finished';
          entry.resolve(value);
        },
        (error: unknown) => {
          job.status = 'failed';
          job.error = error;
          entry.reject(error);
        },
      )
      .finally(() => {
        job.finishedAt = Date.now();
        this.durations.push((job.finishedAt - (job.startedAt ?? job.finishedAt)) / 1000);
        if (this.durations.length > 8) this.durations.shift();
        this.running = undefined;
        this.next();
      });
  }

  private remember(job: Job): void {
    this.recent.set(job.id, job);
    if (this.recent.size <= this.keepFinished) return;
    for (const [id, old] of this.recent) {
      if (this.recent.size <= this.keepFinished) break;
      if (old.status === 'finished' || old.status === 'failed') this.recent.delete(id);
    }
  }
}
