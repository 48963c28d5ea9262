import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';

/** One downloadable checkpoint of assets/models.json. */
export interface CatalogueModel {
  id: string;
  title: string;
  /** File name in the models folder. */
  file: string;
  /** Where Hugging Face serves it: {endpoint}/{repo}/resolve/{revision}/{file}. */
  huggingface: { repo: string; revision: string; file: string };
  /** Exact size in bytes. */
  size: number;
  /** Lowercase hex SHA-256 of the whole file. */
  sha256: string;
  /** True when Hugging Face serves it only to an account that accepted its license. */
  gated: boolean;
  /** The model page (where the license is accepted). */
  page: string;
  license: string;
  sources: string[];
}

/** A file shipped inside the package (listed so the catalogue accounts for every input the engine needs). */
export interface BundledAsset {
  id: string;
  title: string;
  /** Path relative to the package root. */
  path: string;
  size: number;
  sha256: string;
  sources: string[];
}

export interface Catalogue {
  models: CatalogueModel[];
  bundled: BundledAsset[];
}

export const defaultHfEndpoint = 'https://huggingface.co';

export function defaultCataloguePath(): string {
  return join(packageRoot(), 'assets', 'models.json');
}

const cache = new Map<string, Catalogue>();

/** A catalogue file (by default the one shipped with the package), parsed and checked once. */
export function loadCatalogue(path = defaultCataloguePath()): Catalogue {
  let catalogue = cache.get(path);
  if (!catalogue) {
    catalogue = parseCatalogue(JSON.parse(readFileSync(path, 'utf8')) as unknown, path);
    cache.set(path, catalogue);
  }
  return catalogue;
}

export function findModel(id: string, catalogue = loadCatalogue()): CatalogueModel | undefined {
  const wanted = id.trim().toLowerCase();
  return catalogue.models.find((m) => m.id === wanted);
}

/**
 * The resolve URL of a catalogue model. HF_ENDPOINT (the Hugging Face CLI's
 * variable) points it at a mirror, e.g. https://hf-mirror.com.
 */
export function modelUrl(model: CatalogueModel, env: NodeJS.ProcessEnv = process.env): string {
  const endpoint = (env.HF_ENDPOINT?.trim() || defaultHfEndpoint).replace(/\/+$/, '');
  const { repo, revision, file } = model.huggingface;
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
}

/** Validates the file's shape so a broken catalogue fails at load with the field named, not mid-download. */
export function parseCatalogue(raw: unknown, origin: string): Catalogue {
  const fail = (what: string): never => {
    throw new Error(`model catalogue ${origin}: ${what}`);
  };
  if (!isRecord(raw) || raw.schema !== 1) fail('expected an object with "schema": 1');
  const root = raw as Record<string, unknown>;
  const list = (key: string): Record<string, unknown>[] => {
    const value = root[key];
    if (!Array.isArray(value) || !value.every(isRecord)) return fail(`"${key}" must be an array of objects`);
    return value as Record<string, unknown>[];
  };
  const str = (o: Record<string, unknown>, key: string, where: string): string => {
    const value = o[key];
    return typeof value === 'string' && value.length > 0 ? value : fail(`${where}: "${key}" must be a non-empty string`);
  };
  const common = (o: Record<string, unknown>, where: string) => {
    const sha256 = str(o, 'sha256', where);
    if (!/^[0-9a-f]{64}$/.test(sha256)) fail(`${where}: "sha256" must be 64 lowercase hex digits`);
    const size = o.size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) fail(`${where}: "size" must be a positive integer`);
    const sources = o.sources;
    if (!Array.isArray(sources) || !sources.every((s) => typeof s === 'string')) fail(`${where}: "sources" must list strings`);
    return { id: str(o, 'id', where), title: str(o, 'title', where), sha256, size: size as number, sources: sources as string[] };
  };
  const models = list('models').map((o, i): CatalogueModel => {
    const where = `models[${i}]`;
    const hf = o.huggingface;
    if (!isRecord(hf)) fail(`${where}: "huggingface" must be an object`);
    const hfo = hf as Record<string, unknown>;
    const file = str(o, 'file', where);
    if (/[/\\]/.test(file) || file.startsWith('.')) fail(`${where}: "file" must be a plain file name`);
    return {
      ...common(o, where),
      file,
      huggingface: {
        repo: str(hfo, 'repo', `${where}.huggingface`),
        revision: str(hfo, 'revision', `${where}.huggingface`),
        file: str(hfo, 'file', `${where}.huggingface`),
      },
      gated: o.gated === true,
      page: str(o, 'page', where),
      license: str(o, 'license', where),
    };
  });
  const bundled = list('bundled').map((o, i): BundledAsset => ({ ...common(o, `bundled[${i}]`), path: str(o, 'path', `bundled[${i}]`) }));
  const ids = new Set<string>();
  for (const m of models) {
    if (ids.has(m.id)) fail(`duplicate id "${m.id}"`);
    ids.add(m.id);
  }
  return { models, bundled };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
