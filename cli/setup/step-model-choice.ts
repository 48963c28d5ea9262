import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { InstallConfig } from '../config/install-config.js';
import { findModel, loadCatalogue, type CatalogueModel } from '../download/catalogue.js';
import { formatBytes } from '../download/format.js';
import { resolveHfToken } from '../download/hf-token.js';
import { homeOf, resolveUserPath } from '../download/models-dir.js';
import { UsageError } from '../errors.js';
import { saveConfig, type SetupContext, type SetupStep } from './context.js';

type ModelChoice = NonNullable<InstallConfig['choices']['model']>;
const OWN_FILE = 'own-file';

/**
 * Step 2b: the model: a catalogue checkpoint (size, license and whether a
 * Hugging Face token is needed shown with each), a checkpoint already on disk
 * (--checkpoint), or any file by URL and SHA-256 (--model-url, --model-sha256).
 * Then the token, when the model is gated and none is configured.
 */
export const modelChoiceStep: SetupStep = {
  id: 'model-choice',
  title: 'Model',
  async isDone() {
    return { done: false, detail: 'always chosen' };
  },
  async run(ctx) {
    const choice = (await fromFlags(ctx)) ?? savedChoice(ctx) ?? (await ask(ctx));
    ctx.config.choices.model = choice;
    ctx.say(`  model: ${describeChoice(choice)}`);
    await saveConfig(ctx);
    await chooseToken(ctx, choice);
  },
};

async function fromFlags(ctx: SetupContext): Promise<ModelChoice | undefined> {
  const { model, checkpoint, modelUrl, modelSha256 } = ctx.flags;
  const given = [model && '--model', checkpoint && '--checkpoint', modelUrl && '--model-url'].filter(Boolean);
  if (given.length > 1) throw new UsageError(`give one of --model, --checkpoint and --model-url, not ${given.join(' and ')}`);
  if (modelSha256 !== undefined && modelUrl === undefined) throw new UsageError('--model-sha256 goes with --model-url');
  if (model !== undefined) {
    if (!findModel(model)) throw new UsageError(`--model ${model}: not in the catalogue`, `choose one of: ${loadCatalogue().models.map((m) => m.id).join(', ')}; or --checkpoint FILE for a file you have`);
    return { kind: 'catalogue', id: findModel(model)!.id };
  }
  if (checkpoint !== undefined) {
    const path = resolveUserPath(checkpoint, ctx.io.cwd, homeOf(ctx.io.env));
    const problem = checkpointProblem(path);
    if (problem) throw new UsageError(`--checkpoint ${checkpoint}: ${problem}`);
    return { kind: 'file', path };
  }
  if (modelUrl !== undefined) {
    if (!/^https?:\/\//.test(modelUrl)) throw new UsageError(`--model-url must be an http(s) address, got "${modelUrl}"`);
    const sha256 = modelSha256?.trim().toLowerCase();
    if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256)) throw new UsageError('--model-url needs --model-sha256 HEX (64 hex digits): a download is only used once verified');
    return { kind: 'url', url: modelUrl, sha256 };
  }
  return undefined;
}

function savedChoice(ctx: SetupContext): ModelChoice | undefined {
  const saved = ctx.config.choices.model;
  if (!saved) return undefined;
  if (saved.kind === 'catalogue' && !findModel(saved.id)) return undefined;
  if (saved.kind === 'file' && checkpointProblem(saved.path)) {
    ctx.say(`  the checkpoint chosen before (${saved.path}) is gone: choose again`);
    return undefined;
  }
  return saved;
}

async function ask(ctx: SetupContext): Promise<ModelChoice> {
  const models = loadCatalogue().models;
  const recommended = models.find((m) => !m.gated) ?? models[0];
  const answer = await ctx.asker.select({
    flag: '--model',
    message: 'Which model?',
    choices: [
      ...models.map((m) => ({ value: m.id, name: `${m.id}  ${m.title}`, description: modelDetails(m) })),
      { value: OWN_FILE, name: 'a checkpoint file I already have (.safetensors or .ckpt)', description: 'used where it is: nothing is copied or downloaded' },
    ],
    default: recommended?.id,
  });
  if (answer !== OWN_FILE) return { kind: 'catalogue', id: answer };
  const home = homeOf(ctx.io.env);
  const path = await ctx.asker.input({
    flag: '--checkpoint',
    message: 'Path of the checkpoint file:',
    validate: (value) => checkpointProblem(resolveUserPath(value.trim(), ctx.io.cwd, home)) ?? true,
  });
  return { kind: 'file', path: resolveUserPath(path.trim(), ctx.io.cwd, home) };
}

export function modelDetails(m: CatalogueModel): string {
  const access = m.gated ? `needs a Hugging Face token: accept the license at ${m.page} first` : 'no token needed';
  return `${formatBytes(m.size)}, license ${m.license}, ${access}`;
}

function describeChoice(choice: ModelChoice): string {
  if (choice.kind === 'catalogue') {
    const m = findModel(choice.id);
    return m ? `${m.id} (${modelDetails(m)})` : choice.id;
  }
  return choice.kind === 'file' ? `${choice.path} (your file)` : `${choice.url}`;
}

/** Why a path is not a usable checkpoint file, or undefined. */
export function checkpointProblem(path: string): string | undefined {
  if (!existsSync(path)) return `no file at ${path}`;
  if (!statSync(path).isFile()) return `${path} is not a file`;
  const ext = extname(path).toLowerCase();
  if (ext !== '.safetensors' && ext !== '.ckpt') return `${path} is not a .safetensors or .ckpt checkpoint`;
  return undefined;
}

/**
 * A gated model needs a token before the (long, unattended) download starts.
 * It is kept for this run only; HF_TOKEN or "huggingface-cli login" keep it for later runs.
 */
async function chooseToken(ctx: SetupContext, choice: ModelChoice): Promise<void> {
  if (choice.kind !== 'catalogue') return;
  const model = findModel(choice.id);
  if (!model?.gated) return;
  const found = resolveHfToken(ctx.flags.hfToken, ctx.io.env, homeOf(ctx.io.env));
  if (found) {
    ctx.hfToken = found.explicit ? found.token : undefined;
    ctx.say(`  Hugging Face token: from ${found.source}`);
    return;
  }
  if (ctx.config.model?.id === model.id) return; // already downloaded earlier: the download step verifies it without a token
  ctx.say(`  ${model.id} is gated: accept its license at ${model.page}, then make a token at https://huggingface.co/settings/tokens`);
  const token = await ctx.asker.password({
    flag: '--hf-token',
    message: 'Hugging Face token (hf_…, or set HF_TOKEN):',
    validate: (value) => (value.trim().length >= 8 ? true : 'paste the whole token (it starts with hf_)'),
  });
  ctx.hfToken = token.trim();
}
