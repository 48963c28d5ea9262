import { loadAddon } from '../binding/load-addon.js';
import type { SamplerInfo, SchedulerInfo } from '../binding/types.js';

/** The engine's samplers and schedule types, and its reading of a sampler name (aliases, "DPM++ 2M Karras"). */
export interface EngineCatalog {
  samplers: SamplerInfo[];
  schedulers: SchedulerInfo[];
  /** Canonical names; throws an Error listing the valid names when one is unknown. */
  resolveSampler(name: string, scheduler: string): { sampler: string; scheduler: string };
}

export function engineCatalog(addon = loadAddon()): EngineCatalog {
  const { samplers, schedulers } = addon.samplers();
  return { samplers, schedulers, resolveSampler: (name, scheduler) => addon.resolveSampler(name, scheduler) };
}
