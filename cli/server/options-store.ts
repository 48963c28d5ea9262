import { HttpError } from './http-error.js';

/** The webui settings (GET/POST /sdapi/v1/options) that mean something here, with their values. */
export interface ServerOptions {
  sd_model_checkpoint: string;
  CLIP_stop_at_last_layers: number;
  randn_source: 'GPU' | 'CPU';
  eta_ancestral: number;
  eta_ddim: number;
  live_previews_enable: boolean;
  show_progress_every_n_steps: number;
  samples_format: 'png';
  sd_vae: 'Automatic';
  emphasis: 'Original';
  eta_noise_seed_delta: 0;
}

type Check = (value: unknown, key: string, current: ServerOptions) => unknown;

const int = (min: number, max: number): Check => (v, key) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw optionError(key, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
};
const num = (min: number, max: number): Check => (v, key) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw optionError(key, `must be a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
};
const bool: Check = (v, key) => {
  if (typeof v !== 'boolean') throw optionError(key, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
};
/** A setting this server has one value for: other values would change the pictures, so they are refused. */
const fixed = (why: string): Check => (v, key, current) => {
  const have = current[key as keyof ServerOptions];
  if (typeof v === 'string' && typeof have === 'string' ? v.toLowerCase() !== have.toLowerCase() : v !== have) {
    throw optionError(key, `only ${JSON.stringify(have)} is supported (${why}), got ${JSON.stringify(v)}`);
  }
  return have;
};

function optionError(key: string, message: string): HttpError {
  return new HttpError(422, `option ${key}: ${message}`, { field: key, kind: 'ValidationError' });
}

/**
 * The subset of the webui's settings that applies to this server. Setting an
 * option the webui has but this server does not is ignored (as the webui
 * ignores keys it does not know); setting a supported one to a value this
 * server cannot honour is a 422 naming it.
 */
export class OptionsStore {
  private values: ServerOptions;
  private readonly checks: Record<keyof ServerOptions, Check>;

  constructor(
    model: { title: string; matches: (name: string) => boolean },
    private readonly log: (line: string) => void = () => {},
  ) {
    this.values = {
      sd_model_checkpoint: model.title,
      CLIP_stop_at_last_layers: 1,
      randn_source: 'GPU',
      eta_ancestral: 1,
      eta_ddim: 0,
      live_previews_enable: true,
      show_progress_every_n_steps: 1,
      samples_format: 'png',
      sd_vae: 'Automatic',
      emphasis: 'Original',
      eta_noise_seed_delta: 0,
    };
    this.checks = {
      sd_model_checkpoint: (v, key) => {
        if (typeof v !== 'string' || !model.matches(v)) {
          throw new HttpError(422, `option ${key}: this server has ${JSON.stringify(model.title)} loaded and serves only that model, got ${JSON.stringify(v)}; restart it with --model to use another`, { field: key, kind: 'ValidationError' });
        }
        return model.title;
      },
      CLIP_stop_at_last_layers: int(1, 12),
      randn_source: (v, key) => {
        const s = typeof v === 'string' ? v.toUpperCase() : '';
        if (s !== 'GPU' && s !== 'CPU') throw optionError(key, `must be "GPU" or "CPU" ("NV" is not supported), got ${JSON.stringify(v)}`);
        return s;
      },
      eta_ancestral: num(0, 1),
      eta_ddim: num(0, 1),
      live_previews_enable: bool,
      show_progress_every_n_steps: int(-1, 1000),
      samples_format: fixed('pictures are always PNG with their parameters'),
      // "Automatic" and "None" both mean the checkpoint's own VAE when no separate VAE files exist.
      sd_vae: (v, key, current) => (typeof v === 'string' && v.toLowerCase() === 'none' ? current.sd_vae : fixed("the checkpoint's own VAE is used")(v, key, current)),
      emphasis: fixed('the engine parses emphasis the webui\'s default way'),
      eta_noise_seed_delta: fixed('seeds are used as given'),
    };
  }

  get(): ServerOptions {
    return { ...this.values };
  }

  /** Checks every key first, so a bad request changes nothing. Returns the keys it ignored. */
  set(input: unknown): string[] {
    const { values, ignored } = this.resolve(input);
    this.values = values;
    if (ignored.length) this.log(`options: ignored settings this server does not have: ${ignored.join(', ')}`);
    return ignored;
  }

  /** The options with `overrides` applied (a request's override_settings), without storing them. */
  resolve(overrides: unknown): { values: ServerOptions; ignored: string[] } {
    if (overrides === undefined || overrides === null) return { values: this.get(), ignored: [] };
    if (typeof overrides !== 'object' || Array.isArray(overrides)) throw new HttpError(422, 'options must be a JSON object of setting names and values', { kind: 'ValidationError' });
    const values = this.get();
    const ignored: string[] = [];
    for (const [key, value] of Object.entries(overrides)) {
      if (!Object.hasOwn(this.checks, key)) {
        ignored.push(key);
        continue;
      }
      const k = key as keyof ServerOptions;
      (values as unknown as Record<string, unknown>)[k] = this.checks[k](value, key, this.values);
    }
    return { values, ignored };
  }
}
