import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodePng } from '../../cli/image/png-decode.js';
import { getJson, postJson, startTinyServer, waitFor, type TestServer } from '../helpers/server.js';

// The webui's Processed.js() keys (modules/processing.py, webui 1.10): clients read these from `info`.
const WEBUI_INFO_KEYS = [
  'prompt', 'all_prompts', 'negative_prompt', 'all_negative_prompts', 'seed', 'all_seeds', 'subseed', 'all_subseeds',
  'subseed_strength', 'width', 'height', 'sampler_name', 'cfg_scale', 'steps', 'batch_size', 'restore_faces',
  'face_restoration_model', 'sd_model_name', 'sd_model_hash', 'sd_vae_name', 'sd_vae_hash', 'seed_resize_from_w',
  'seed_resize_from_h', 'denoising_strength', 'extra_generation_params', 'index_of_first_image', 'infotexts', 'styles',
  'job_timestamp', 'clip_skip', 'is_using_inpainting_conditioning',
];

const tinyHash = createHash('sha256').update(readFileSync(join('assets', 'models', 'tiny-sd1.safetensors'))).digest('hex').slice(0, 10);
const fixturePng = (name: string) => readFileSync(join('test', 'fixtures', 'images', name)).toString('base64');

function pictures(body: { images: string[] }) {
  return body.images.map((b64) => decodePng(Buffer.from(b64, 'base64')));
}

describe('webui API over HTTP (tiny model)', { timeout: 120_000 }, () => {
  let t: TestServer;
  before(async () => {
    t = await startTinyServer();
  });
  after(() => t.close());

  it('lists the loaded model the way /sdapi/v1/sd-models does', async () => {
    const r = await getJson(`${t.url}/sdapi/v1/sd-models`);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body[0]).sort(), ['config', 'filename', 'hash', 'model_name', 'sha256', 'title']);
    assert.equal(r.body.length, 1);
    assert.equal(r.body[0].title, `tiny-sd1.safetensors [${tinyHash}]`);
    assert.equal(r.body[0].model_name, 'tiny-sd1');
    assert.equal(r.body[0].hash, tinyHash);
    assert.match(r.body[0].filename, /tiny-sd1\.safetensors$/);
  });

  it('lists the samplers and schedule types in the webui shapes', async () => {
    const samplers = await getJson(`${t.url}/sdapi/v1/samplers`);
    assert.equal(samplers.status, 200);
    const eulerA = samplers.body.find((s: { name: string }) => s.name === 'Euler a');
    assert.ok(eulerA, 'Euler a is listed');
    assert.ok(eulerA.aliases.includes('k_euler_a'));
    assert.equal(samplers.body.find((s: { name: string }) => s.name === 'DPM++ 2M').options.scheduler, 'karras');
    const schedulers = await getJson(`${t.url}/sdapi/v1/schedulers`);
    const karras = schedulers.body.find((s: { label: string }) => s.label === 'Karras');
    assert.deepEqual(karras, { name: 'karras', label: 'Karras', aliases: null, default_rho: 7, need_inner_model: false });
  });

  it('answers the API wiki example {"prompt": "maltese puppy", "steps": 5} (at 64x64) with a PNG, parameters and info', async () => {
    const r = await postJson(`${t.url}/sdapi/v1/txt2img`, { prompt: 'maltese puppy', steps: 5, width: 64, height: 64 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(Object.keys(r.body).sort(), ['images', 'info', 'parameters']);
    const [png] = pictures(r.body);
    assert.equal(png!.width, 64);
    assert.equal(png!.height, 64);
    const info = JSON.parse(r.body.info);
    for (const key of WEBUI_INFO_KEYS) assert.ok(key in info, `info has ${key}`);
    // The webui API's defaults: Euler, CFG 7; the seed was random and is reported.
    assert.equal(info.sampler_name, 'Euler');
    assert.equal(info.cfg_scale, 7);
    assert.ok(Number.isInteger(info.seed) && info.seed >= 0);
    assert.deepEqual(info.all_seeds, [info.seed]);
    assert.equal(info.sd_model_hash, tinyHash);
    const expected = `maltese puppy\nSteps: 5, Sampler: Euler, Schedule type: Automatic, CFG scale: 7, Seed: ${info.seed}, Size: 64x64, Model hash: ${tinyHash}, Model: tiny-sd1`;
    assert.equal(info.infotexts[0], expected);
    assert.equal(png!.text.parameters, expected, 'the PNG carries its parameters like a webui picture');
    assert.equal(r.body.parameters.prompt, 'maltese puppy');
    assert.equal(r.body.parameters.steps, 5);
    assert.equal(r.body.parameters.sampler_index, 'Euler');
    assert.equal(r.body.parameters.enable_hr, false);
  });

  it('takes the full payload the sdwebuiapi client sends (every field, neutral values, eta 1 for Euler a)', async () => {
    const payload = {
      enable_hr: false, hr_scale: 2, hr_upscaler: 'Latent', hr_second_pass_steps: 0, hr_resize_x: 0, hr_resize_y: 0,
      denoising_strength: 0.7, firstphase_width: 0, firstphase_height: 0, prompt: 'cute squirrel', styles: [], seed: 1234,
      subseed: -1, subseed_strength: 0.0, seed_resize_from_h: 0, seed_resize_from_w: 0, batch_size: 1, n_iter: 1, steps: 4,
      cfg_scale: 7.0, width: 64, height: 64, restore_faces: false, tiling: false, do_not_save_samples: false,
      do_not_save_grid: false, negative_prompt: 'ugly, out of frame', eta: 1.0, s_churn: 0, s_tmax: 0, s_tmin: 0, s_noise: 1,
      override_settings: {}, override_settings_restore_afterwards: true, sampler_name: 'Euler a', sampler_index: 'Euler a',
      script_name: null, script_args: [], send_images: true, save_images: false, alwayson_scripts: {},
    };
    const r = await postJson(`${t.url}/sdapi/v1/txt2img`, payload);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const info = JSON.parse(r.body.info);
    assert.equal(info.seed, 1234);
    assert.equal(info.negative_prompt, 'ugly, out of frame');
    // eta 1 is Euler a's default: the webui does not write it into the infotext.
    assert.equal(
      info.infotexts[0],
      `cute squirrel\nNegative prompt: ugly, out of frame\nSteps: 4, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 1234, Size: 64x64, Model hash: ${tinyHash}, Model: tiny-sd1`,
    );
  });

  it('makes the same picture for the same seed, and batches with consecutive seeds', async () => {
    const body = { prompt: 'a red barn', seed: 77, steps: 3, width: 64, height: 64, sampler_name: 'Euler a' };
    const a = await postJson(`${t.url}/sdapi/v1/txt2img`, body);
    const b = await postJson(`${t.url}/sdapi/v1/txt2img`, body);
    assert.deepEqual(pictures(a.body)[0]!.data, pictures(b.body)[0]!.data);
    const batch = await postJson(`${t.url}/sdapi/v1/txt2img`, { ...body, batch_size: 2, n_iter: 2 });
    assert.equal(batch.status, 200, JSON.stringify(batch.body));
    const info = JSON.parse(batch.body.info);
    assert.equal(batch.body.images.length, 4);
    assert.deepEqual(info.all_seeds, [77, 78, 79, 80]);
    assert.deepEqual(info.infotexts.map((s: string) => /Seed: (\d+)/.exec(s)![1]), ['77', '78', '79', '80']);
    assert.deepEqual(pictures(batch.body)[0]!.data, pictures(a.body)[0]!.data, 'the first picture of the batch is the single one');
    assert.notDeepEqual(pictures(batch.body)[1]!.data, pictures(a.body)[0]!.data);
  });

  it('applies override_settings to one request only (the wiki example: CLIP_stop_at_last_layers 2)', async () => {
    const r = await postJson(`${t.url}/sdapi/v1/txt2img`, { prompt: 'cirno', steps: 2, width: 64, height: 64, override_settings: { CLIP_stop_at_last_layers: 2, filter_nsfw: true } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(JSON.parse(r.body.info).infotexts[0], /, Clip skip: 2(,|$)/);
    const options = await getJson(`${t.url}/sdapi/v1/options`);
    assert.equal(options.body.CLIP_stop_at_last_layers, 1, 'the stored setting is unchanged');
  });

  it('answers an img2img request shaped like the example script (data: URL init image, denoising strength)', async () => {
    const r = await postJson(`${t.url}/sdapi/v1/img2img`, {
      prompt: '1girl, blue hair',
      seed: 1,
      steps: 4,
      width: 64,
      height: 64,
      denoising_strength: 0.5,
      n_iter: 1,
      init_images: [`data:image/png;base64,${fixturePng('rgb8.png')}`],
      batch_size: 1,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const info = JSON.parse(r.body.info);
    assert.equal(info.denoising_strength, 0.5);
    assert.match(info.infotexts[0], /^1girl, blue hair\nSteps: 4, Sampler: Euler, Schedule type: Automatic, CFG scale: 7, Seed: 1, Size: 64x64, .*Denoising strength: 0\.5/);
    assert.equal(r.body.parameters.init_images, null, 'init images are not echoed unless include_init_images');
    const [png] = pictures(r.body);
    assert.equal(png!.width, 64);
    // A JPEG without the data: prefix works too, with "Crop and resize".
    const jpeg = await postJson(`${t.url}/sdapi/v1/img2img`, { prompt: 'x', steps: 2, width: 64, height: 128, resize_mode: 1, init_images: [fixturePng('photo.jpg')] });
    assert.equal(jpeg.status, 200, JSON.stringify(jpeg.body));
    assert.equal(pictures(jpeg.body)[0]!.height, 128);
  });

  it('stores options (the subset that applies) and refuses values it cannot honour', async () => {
    const before = await getJson(`${t.url}/sdapi/v1/options`);
    assert.equal(before.body.sd_model_checkpoint, `tiny-sd1.safetensors [${tinyHash}]`);
    const set = await postJson(`${t.url}/sdapi/v1/options`, { CLIP_stop_at_last_layers: 2, sd_model_checkpoint: `tiny-sd1.safetensors [${tinyHash}]`, some_webui_setting: 'x' });
    assert.equal(set.status, 200);
    assert.equal((await getJson(`${t.url}/sdapi/v1/options`)).body.CLIP_stop_at_last_layers, 2);
    const r = await postJson(`${t.url}/sdapi/v1/txt2img`, { prompt: 'x', steps: 2, width: 64, height: 64 });
    assert.match(JSON.parse(r.body.info).infotexts[0], /Clip skip: 2/);
    const other = await postJson(`${t.url}/sdapi/v1/options`, { sd_model_checkpoint: 'v1-5-pruned-emaonly.safetensors', CLIP_stop_at_last_layers: 3 });
    assert.equal(other.status, 422);
    assert.match(other.body.detail, /sd_model_checkpoint: this server has "tiny-sd1\.safetensors \[\w+\]" loaded/);
    assert.equal((await getJson(`${t.url}/sdapi/v1/options`)).body.CLIP_stop_at_last_layers, 2, 'a refused request changes nothing');
    const nv = await postJson(`${t.url}/sdapi/v1/options`, { randn_source: 'NV' });
    assert.equal(nv.status, 422);
    assert.match(nv.body.detail, /randn_source/);
    await postJson(`${t.url}/sdapi/v1/options`, { CLIP_stop_at_last_layers: 1 });
  });

  it('reports progress with a live preview while generating, and interrupt returns what was reached', async () => {
    const idle = await getJson(`${t.url}/sdapi/v1/progress`);
    assert.deepEqual([idle.body.progress, idle.body.state.job_count, idle.body.current_image], [0, 0, null]);
    const running = postJson(`${t.url}/sdapi/v1/txt2img`, { prompt: 'slow', steps: 150, width: 128, height: 128, seed: 5 });
    const progress = await waitFor('a progress report with a preview', async () => {
      const p = await getJson(`${t.url}/sdapi/v1/progress`);
      return p.body.state.sampling_step >= 2 && p.body.current_image ? p.body : undefined;
    });
    assert.equal(progress.state.sampling_steps, 150);
    assert.equal(progress.state.job_count, 1);
    assert.ok(progress.progress > 0.01 && progress.progress < 1, `progress ${progress.progress}`);
    assert.ok(progress.eta_relative > 0);
    const preview = decodePng(Buffer.from(progress.current_image, 'base64'));
    assert.deepEqual([preview.width, preview.height], [16, 16], 'the cheap preview is at latent resolution');
    const interrupt = await postJson(`${t.url}/sdapi/v1/interrupt`, {});
    assert.deepEqual([interrupt.status, interrupt.body], [200, {}]);
    const r = await running;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.images.length, 1);
    assert.equal(JSON.parse(r.body.info).interrupted, true);
    const after = await getJson(`${t.url}/sdapi/v1/progress`);
    assert.equal(after.body.state.job_count, 0);
  });

  it('keeps serving after a generation fails, and says why it failed', async () => {
    // The webui (and this engine) refuse an emphasis weight that is not a number, inside the generation.
    const r = await postJson(`${t.url}/sdapi/v1/txt2img`, { prompt: 'a (cat:1.2.3)', steps: 2, width: 64, height: 64 });
    assert.equal(r.status, 500);
    assert.equal(r.body.error, 'GenerationError');
    assert.match(r.body.detail, /emphasis weight that is not a number/);
    const next = await postJson(`${t.url}/sdapi/v1/txt2img`, { prompt: 'a cat', steps: 2, width: 64, height: 64 });
    assert.equal(next.status, 200);
  });

  it('finishes a job whose client disconnected', async () => {
    const controller = new AbortController();
    const gone = postJson(`${t.url}/sdapi/v1/txt2img`, { prompt: 'left early', steps: 30, width: 64, height: 64, save_images: true }, {}, controller.signal);
    await waitFor('the job to start', async () => (await getJson(`${t.url}/sdapi/v1/progress`)).body.state.sampling_step > 0);
    controller.abort();
    await assert.rejects(gone, { name: 'AbortError' });
    // save_images shows that the job ran to its end after the client left.
    const saved = await waitFor('the saved picture', async () => {
      const dir = join(t.outputDir, 'txt2img-images');
      try {
        const day = readdirSync(dir)[0];
        const files = day ? readdirSync(join(dir, day)) : [];
        return files.length ? join(dir, day!, files[0]!) : undefined;
      } catch {
        return undefined;
      }
    });
    assert.match(saved, /\d{5}-\d+\.png$/);
    assert.match(decodePng(readFileSync(saved)).text.parameters ?? '', /^left early\nSteps: 30,/);
  });

  it('reads the parameters back from a PNG (/sdapi/v1/png-info)', async () => {
    const made = await postJson(`${t.url}/sdapi/v1/txt2img`, { prompt: 'a boat, at sea', negative_prompt: 'fog', seed: 9, steps: 2, width: 64, height: 64 });
    const r = await postJson(`${t.url}/sdapi/v1/png-info`, { image: `data:image/png;base64,${made.body.images[0]}` });
    assert.equal(r.status, 200);
    assert.equal(r.body.info, JSON.parse(made.body.info).infotexts[0]);
    assert.equal(r.body.parameters.Prompt, 'a boat, at sea');
    assert.equal(r.body.parameters['Negative prompt'], 'fog');
    assert.equal(r.body.parameters.Seed, '9');
    assert.equal(r.body.parameters['Size-1'], 64);
  });
});
