import { loadAddon } from '../binding/load-addon.js';
import { ValidationError } from './validate.js';

/** Throws a ValidationError naming the field when the engine does not know the sampler or schedule type. */
export function checkSampler(samplerName: string, scheduler: string): void {
  try {
    loadAddon().resolveSampler(samplerName, scheduler === 'Automatic' ? '' : scheduler);
  } catch (error) {
    const message = (error as Error).message;
    throw new ValidationError(/schedule/i.test(message) && !/sampler/i.test(message) ? 'scheduler' : 'samplerName', message);
  }
}
