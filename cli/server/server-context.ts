import type { EngineCatalog } from './engine-catalog.js';
import type { ServerGenerator } from './generation-runner.js';
import type { GenerationQueue } from './job-queue.js';
import type { OptionsStore } from './options-store.js';
import type { RequestLimits } from './webui-request.js';
import type { ModelIdentity } from './webui-response.js';

/** Everything a route needs, made once by startServer. */
export interface ServerContext {
  generator: ServerGenerator;
  model: ModelIdentity & { path: string };
  catalog: EngineCatalog;
  options: OptionsStore;
  queue: GenerationQueue;
  limits: RequestLimits;
  maxBodyBytes: number;
  outputDir: string | undefined;
  log: (line: string) => void;
}
