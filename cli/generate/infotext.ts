/**
 * The webui's "infotext": the text it stores in a PNG's "parameters" chunk and
 * shows under each picture, so a picture carries how to make it again. Same
 * keys, order and quoting as AUTOMATIC1111's create_infotext.
 */
export interface InfotextParams {
  prompt: string;
  negativePrompt: string;
  steps: number;
  sampler: string;
  /** The webui's "Schedule type", written when not the sampler's default. */
  scheduleType?: string | undefined;
  cfgScale: number;
  seed: number;
  width: number;
  height: number;
  modelHash?: string | undefined;
  modelName?: string | undefined;
  denoisingStrength?: number | undefined;
  clipSkip?: number | undefined;
  /** "CPU" when the CPU generator was used; the webui's default ("GPU") is not written. */
  rng?: string | undefined;
  eta?: number | undefined;
  version?: string | undefined;
  /** Extra "Key: value" pairs, in order (e.g. "Emphasis"). */
  extra?: Record<string, string | number> | undefined;
}

/** Quotes a value the way the webui's generation_parameters_copypaste.quote does. */
export function quoteInfotextValue(value: string): string {
  if (!value.includes(',') && !value.includes('\n') && !value.includes(':') && !value.includes('"')) return value;
  return JSON.stringify(value);
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6)));
}

export function createInfotext(p: InfotextParams): string {
  const fields: [string, string | number | undefined][] = [
    ['Steps', p.steps],
    ['Sampler', p.sampler],
    ['Schedule type', p.scheduleType],
    ['CFG scale', p.cfgScale],
    ['Seed', p.seed],
    ['Size', `${p.width}x${p.height}`],
    ['Model hash', p.modelHash],
    ['Model', p.modelName],
    ['Denoising strength', p.denoisingStrength],
    ['Clip skip', p.clipSkip !== undefined && p.clipSkip > 1 ? p.clipSkip : undefined],
    ['RNG', p.rng],
    ['Eta', p.eta],
    ...Object.entries(p.extra ?? {}),
    ['Version', p.version],
  ];
  const params = fields
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}: ${quoteInfotextValue(typeof v === 'number' ? formatNumber(v) : String(v))}`)
    .join(', ');
  const negative = p.negativePrompt ? `\nNegative prompt: ${p.negativePrompt}` : '';
  return `${p.prompt}${negative}\n${params}`.trim();
}

/**
 * Parses an infotext back into prompt, negative prompt and "Key: value" pairs
 * (the webui's parse_generation_parameters, without its model-specific fixups).
 */
export function parseInfotext(text: string): { prompt: string; negativePrompt: string; params: Record<string, string> } {
  const lines = text.trim().split('\n');
  let last = lines.at(-1) ?? '';
  const paramRe = /\s*([\w ]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g;
  const params: Record<string, string> = {};
  if ([...last.matchAll(paramRe)].length >= 3) {
    lines.pop();
    for (const m of last.matchAll(paramRe)) {
      const key = m[1]!.trim();
      const raw = m[2]!.trim();
      params[key] = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    }
  } else {
    last = '';
  }
  let prompt = '';
  let negativePrompt = '';
  let inNegative = false;
  for (const line of lines) {
    if (line.startsWith('Negative prompt:')) {
      inNegative = true;
      negativePrompt = line.slice('Negative prompt:'.length).trim();
    } else if (inNegative) {
      negativePrompt += `\n${line}`;
    } else {
      prompt += (prompt ? '\n' : '') + line;
    }
  }
  return { prompt, negativePrompt, params };
}
