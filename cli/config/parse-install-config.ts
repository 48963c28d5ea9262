import { CONFIG_SCHEMA, ENGINES, MEMORY_MODES, type InstallConfig } from './install-config.js';

/** Thrown for a config file that is not what sd-setup writes; the message names the field. */
export class ConfigShapeError extends Error {
  constructor(
    message: string,
    /** The schema the file declares when it is newer than this sd-setup knows. */
    readonly newerSchema?: { schema: number; writtenBy: string | undefined },
  ) {
    super(message);
    this.name = 'ConfigShapeError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a parsed sd-setup.json field by field, so a hand-edited or damaged file
 * fails here with the field named instead of deep inside launch. Unknown fields
 * are kept (a newer sd-setup of the same schema may add some).
 */
export function parseInstallConfig(raw: unknown): InstallConfig {
  if (!isObj(raw)) throw new ConfigShapeError('expected a JSON object');
  if (typeof raw.schema !== 'number') throw new ConfigShapeError('"schema" is missing');
  if (raw.schema > CONFIG_SCHEMA) {
    throw new ConfigShapeError(`it uses settings schema ${raw.schema}, newer than this sd-setup reads (${CONFIG_SCHEMA})`, {
      schema: raw.schema,
      writtenBy: typeof raw.writtenBy === 'string' ? raw.writtenBy : undefined,
    });
  }
  if (raw.schema !== CONFIG_SCHEMA) throw new ConfigShapeError(`unknown schema ${raw.schema}`);
  const str = (o: Obj, key: string, where: string): string => {
    const v = o[key];
    if (typeof v !== 'string' || v === '') throw new ConfigShapeError(`${where}.${key} must be a non-empty string`);
    return v;
  };
  const num = (o: Obj, key: string, where: string): number => {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigShapeError(`${where}.${key} must be a number`);
    return v;
  };
  const oneOf = <T extends string>(o: Obj, key: string, where: string, allowed: readonly T[]): T => {
    const v = o[key];
    if (!allowed.includes(v as T)) throw new ConfigShapeError(`${where}.${key} must be one of ${allowed.join(', ')}`);
    return v as T;
  };
  const section = (key: string): Obj | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (!isObj(v)) throw new ConfigShapeError(`"${key}" must be an object`);
    return v;
  };

  str(raw, 'writtenBy', 'config');
  str(raw, 'updatedAt', 'config');
  const choices = section('choices');
  if (!choices) throw new ConfigShapeError('"choices" is missing');
  if (choices.model !== undefined) {
    if (!isObj(choices.model)) throw new ConfigShapeError('choices.model must be an object');
    const kind = oneOf(choices.model, 'kind', 'choices.model', ['catalogue', 'url', 'file'] as const);
    if (kind === 'catalogue') str(choices.model, 'id', 'choices.model');
    if (kind === 'url') {
      str(choices.model, 'url', 'choices.model');
      str(choices.model, 'sha256', 'choices.model');
    }
    if (kind === 'file') str(choices.model, 'path', 'choices.model');
  }
  if (choices.engine !== undefined) oneOf(choices, 'engine', 'choices', ENGINES);
  if (choices.memoryMode !== undefined) oneOf(choices, 'memoryMode', 'choices', MEMORY_MODES);

  const engine = section('engine');
  if (engine) {
    oneOf(engine, 'backend', 'engine', ENGINES);
    for (const key of ['addon', 'sha256', 'sourceHash', 'builtAt']) str(engine, key, 'engine');
    if (engine.cudaArchitectures !== null) str(engine, 'cudaArchitectures', 'engine');
    if (engine.log !== null) str(engine, 'log', 'engine');
    if (engine.gpu !== undefined && (!isObj(engine.gpu) || typeof engine.gpu.name !== 'string')) throw new ConfigShapeError('engine.gpu must name the GPU');
  }
  const smoke = section('smokeTest');
  if (smoke) {
    str(smoke, 'addonSha256', 'smokeTest');
    oneOf(smoke, 'backend', 'smokeTest', ENGINES);
    str(smoke, 'passedAt', 'smokeTest');
    num(smoke, 'seconds', 'smokeTest');
  }
  const model = section('model');
  if (model) {
    if (model.id !== null) str(model, 'id', 'model');
    str(model, 'path', 'model');
    str(model, 'sha256', 'model');
    num(model, 'bytes', 'model');
  }
  const launch = section('launch');
  if (launch) {
    const port = num(launch, 'port', 'launch');
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigShapeError('launch.port must be a port number (1-65535)');
    for (const key of ['listen', 'openBrowser']) {
      if (typeof launch[key] !== 'boolean') throw new ConfigShapeError(`launch.${key} must be true or false`);
    }
  }
  if (raw.completedAt !== undefined) str(raw, 'completedAt', 'config');
  return raw as unknown as InstallConfig;
}
