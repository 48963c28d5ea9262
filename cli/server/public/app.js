// The sd-setup web UI: plain JavaScript against the server's own webui-compatible
// API (/sdapi/v1/*) and the webui page protocol (/internal/progress). No build
// step, nothing loaded from elsewhere.
'use strict';

const $ = (id) => document.getElementById(id);
const SETTINGS_KEY = 'sd-setup.settings.v1';
const FIELDS = ['prompt', 'negative_prompt', 'sampler_name', 'scheduler', 'steps', 'cfg_scale', 'width', 'height', 'n_iter', 'batch_size', 'seed', 'denoising_strength', 'resize_mode'];

const state = {
  mode: 'txt2img',
  initImage: null, // data URL of the img2img picture
  limits: null,
  busy: false,
  taskId: null,
  previewId: -1,
  results: [], // {url, infotext, seed, width, height, number}
  selected: -1,
  counter: 0,
  requests: 0,
};

// ---- helpers ---------------------------------------------------------------

async function api(path, body) {
  const init = body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text };
  }
  if (!res.ok) {
    const detail = data && typeof data.detail === 'string' ? data.detail : `${res.status} ${res.statusText}`;
    const error = new Error(detail);
    error.status = res.status;
    throw error;
  }
  return data;
}

function taskId() {
  const random = window.crypto && crypto.getRandomValues ? Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('') : String(Math.random()).slice(2);
  return `task(${random})`;
}

function base64ToBlobUrl(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return URL.createObjectURL(new Blob([bytes], { type: 'image/png' }));
}

function showError(message) {
  const el = $('error');
  el.textContent = message;
  el.hidden = !message;
}

function setStatus(text, kind) {
  const el = $('status');
  el.textContent = text;
  el.className = `status ${kind || ''}`;
}

function formatSeconds(s) {
  if (!Number.isFinite(s) || s < 0) return '';
  if (s < 60) return `${Math.ceil(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.ceil(s % 60)} s`;
}

// ---- form --------------------------------------------------------------------

function setMode(mode) {
  state.mode = mode;
  for (const tab of document.querySelectorAll('[role="tab"]')) tab.setAttribute('aria-selected', String(tab.dataset.mode === mode));
  $('img2img-section').hidden = mode !== 'img2img';
  saveSettings();
}

function snapSize(value) {
  const { minSize = 64, maxSize = 2048, sizeMultiple = 64 } = state.limits || {};
  const n = Math.round(Number(value) / sizeMultiple) * sizeMultiple;
  return Math.min(maxSize, Math.max(minSize, Number.isFinite(n) ? n : 512));
}

function pairSliders() {
  for (const range of document.querySelectorAll('input[type="range"][data-pair]')) {
    const number = $(range.dataset.pair);
    range.addEventListener('input', () => {
      number.value = range.value;
      onFormChange();
    });
    number.addEventListener('input', () => {
      range.value = number.value;
      onFormChange();
    });
  }
  for (const id of ['width', 'height']) {
    $(id).addEventListener('change', () => {
      $(id).value = snapSize($(id).value);
      $(`${id}-range`).value = $(id).value;
      onFormChange();
    });
  }
}

function setValue(id, value) {
  const el = $(id);
  if (!el || value === undefined || value === null) return;
  el.value = String(value);
  const range = $(`${id}-range`);
  if (range) range.value = el.value;
}

function onFormChange() {
  $('denoising_strength-out').textContent = Number($('denoising_strength').value).toFixed(2);
  checkSize();
  saveSettings();
}

function checkSize() {
  const warning = $('size-warning');
  const limits = state.limits;
  if (!limits) return;
  const pixels = Number($('width').value) * Number($('height').value) * Number($('batch_size').value);
  const tooBig = pixels > limits.maxPixelsPerBatch;
  warning.hidden = !tooBig;
  warning.textContent = tooBig ? `That size times the batch size needs more memory than this server has for one batch (${limits.memorySource}). Lower the size or batch size; raise the batch count instead.` : '';
  $('generate').disabled = state.busy || tooBig;
}

function saveSettings() {
  const settings = { mode: state.mode };
  for (const id of FIELDS) settings[id] = $(id).value;
  try {
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
  } catch {
    // private mode or full storage: settings just are not remembered
  }
}

function restoreSettings() {
  let settings = null;
  try {
    settings = JSON.parse(localStorage.getItem(SETTINGS_KEY) || 'null');
  } catch {
    settings = null;
  }
  if (!settings) return;
  for (const id of FIELDS) {
    if (id in settings && (id !== 'sampler_name' && id !== 'scheduler' || [...$(id).options].some((o) => o.value === settings[id]))) setValue(id, settings[id]);
  }
  if (settings.mode === 'img2img') setMode('img2img');
}

function payload() {
  const number = (id) => Number($(id).value);
  const body = {
    prompt: $('prompt').value,
    negative_prompt: $('negative_prompt').value,
    sampler_name: $('sampler_name').value,
    scheduler: $('scheduler').value,
    steps: number('steps'),
    cfg_scale: number('cfg_scale'),
    width: snapSize(number('width')),
    height: snapSize(number('height')),
    n_iter: number('n_iter'),
    batch_size: number('batch_size'),
    seed: $('seed').value.trim() === '' ? -1 : number('seed'),
    force_task_id: state.taskId,
  };
  if (state.mode === 'img2img') {
    body.init_images = [state.initImage];
    body.denoising_strength = number('denoising_strength');
    body.resize_mode = number('resize_mode');
  }
  return body;
}

// ---- img2img picture ------------------------------------------------------------

/** Any picture the browser can show becomes a PNG data URL (the server takes PNG and JPEG). */
function loadInitFile(file) {
  if (!file || !file.type.startsWith('image/')) {
    showError(`${file ? `"${file.name}"` : 'That'} is not a picture: drop a PNG, JPEG or WebP file.`);
    return;
  }
  const url = URL.createObjectURL(file);
  const img = new Image();
  img.onload = () => {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    canvas.getContext('2d').drawImage(img, 0, 0);
    URL.revokeObjectURL(url);
    setInitImage(canvas.toDataURL('image/png'));
  };
  img.onerror = () => {
    URL.revokeObjectURL(url);
    showError(`"${file.name}" could not be read as a picture.`);
  };
  img.src = url;
}

function setInitImage(dataUrl) {
  state.initImage = dataUrl;
  $('init-preview').src = dataUrl || '';
  $('init-preview').hidden = !dataUrl;
  $('dropzone-text').hidden = Boolean(dataUrl);
  $('clear-init').hidden = !dataUrl;
  if (dataUrl) showError('');
}

function bindDropzone() {
  const zone = $('dropzone');
  const input = $('init-file');
  zone.addEventListener('click', (e) => {
    if (e.target !== $('clear-init')) input.click();
  });
  zone.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      input.click();
    }
  });
  input.addEventListener('change', () => loadInitFile(input.files[0]));
  for (const type of ['dragenter', 'dragover']) {
    zone.addEventListener(type, (e) => {
      e.preventDefault();
      zone.classList.add('over');
    });
  }
  for (const type of ['dragleave', 'drop']) zone.addEventListener(type, () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    loadInitFile(e.dataTransfer.files[0]);
  });
  document.addEventListener('paste', (e) => {
    if (state.mode !== 'img2img') return;
    const item = [...(e.clipboardData?.items || [])].find((i) => i.type.startsWith('image/'));
    if (item) loadInitFile(item.getAsFile());
  });
  $('clear-init').addEventListener('click', (e) => {
    e.stopPropagation();
    setInitImage(null);
  });
}

// ---- generation -----------------------------------------------------------------

function setBusy(busy) {
  state.busy = busy;
  $('interrupt').disabled = !busy;
  $('progress').hidden = !busy;
  checkSize();
  if (!busy) setStatus('ready', 'ok');
}

async function generate() {
  if (state.busy) return;
  if (state.mode === 'img2img' && !state.initImage) {
    showError('img2img needs a picture: drop one into the box on the left.');
    return;
  }
  showError('');
  state.taskId = taskId();
  state.previewId = -1;
  setBusy(true);
  setProgress(0, 'Starting…');
  setStatus('generating', 'busy');
  const body = payload();
  const poll = pollProgress(state.taskId);
  try {
    const response = await api(`/sdapi/v1/${state.mode}`, body);
    addResults(response);
  } catch (error) {
    showError(error.status === 503 ? `The server is busy: ${error.message}` : error.message || String(error));
  } finally {
    state.taskId = null; // ends the poll loop (it checks the id after each answer)
    setBusy(false);
    await poll;
  }
}

function setProgress(fraction, text) {
  $('progress-fill').style.width = `${Math.round(Math.min(1, Math.max(0, fraction)) * 100)}%`;
  $('progress-text').textContent = text;
}

async function pollProgress(id) {
  while (state.taskId === id) {
    try {
      const p = await api('/internal/progress', { id_task: id, id_live_preview: state.previewId, live_preview: true });
      if (state.taskId !== id) break;
      if (p.queued) setProgress(0, p.textinfo || 'Waiting in line…');
      else if (p.active) {
        const eta = formatSeconds(p.eta);
        setProgress(p.progress || 0, `${p.textinfo || ''}${eta ? ` · about ${eta} left` : ''}`);
      }
      if (p.live_preview) {
        state.previewId = p.id_live_preview;
        showStage(p.live_preview, true);
      }
    } catch {
      // a missed poll is fine; the next one catches up
    }
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
}

async function interrupt() {
  try {
    await api('/sdapi/v1/interrupt', {});
    setStatus('interrupting…', 'busy');
  } catch (error) {
    showError(error.message);
  }
}

function showStage(src, isPreview) {
  const img = $('current');
  img.src = src;
  img.hidden = false;
  img.classList.toggle('preview', Boolean(isPreview));
  img.alt = isPreview ? 'Live preview of the picture being made' : 'Generated picture';
  $('placeholder').hidden = true;
}

function addResults(response) {
  let info = {};
  try {
    info = JSON.parse(response.info);
  } catch {
    info = {};
  }
  const infotexts = info.infotexts || [];
  const first = state.results.length;
  const request = state.requests++;
  response.images.forEach((image, i) => {
    state.results.push({
      url: base64ToBlobUrl(image),
      infotext: infotexts[i] || '',
      seed: (info.all_seeds || [])[i] ?? info.seed,
      width: info.width,
      height: info.height,
      number: state.counter++,
      request,
    });
  });
  renderGallery();
  if (state.results.length > first) select(first);
  if (info.interrupted) showError('Interrupted: these are the pictures as far as they got.');
}

/** Newest request first; the pictures of one request in their order. */
function renderGallery() {
  const gallery = $('gallery');
  gallery.textContent = '';
  const order = state.results.map((_, i) => i).sort((a, b) => state.results[b].request - state.results[a].request || a - b);
  for (const i of order) {
    const result = state.results[i];
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.index = String(i);
    button.setAttribute('aria-pressed', String(i === state.selected));
    button.title = `Seed ${result.seed}`;
    const img = document.createElement('img');
    img.src = result.url;
    img.alt = `Result ${i + 1}, seed ${result.seed}`;
    button.append(img);
    button.addEventListener('click', () => select(i));
    gallery.append(button);
  }
}

function select(index) {
  const result = state.results[index];
  if (!result) return;
  state.selected = index;
  showStage(result.url, false);
  const infotext = $('infotext');
  infotext.textContent = result.infotext;
  infotext.hidden = !result.infotext;
  const download = $('download');
  download.href = result.url;
  download.download = `${String(result.number).padStart(5, '0')}-${result.seed}.png`;
  $('picture-actions').hidden = false;
  for (const button of $('gallery').children) button.setAttribute('aria-pressed', String(button.dataset.index === String(index)));
}

/** The webui's infotext back into fields (prompt, negative prompt, then "Key: value" pairs). */
function parseInfotext(text) {
  const lines = text.trim().split('\n');
  const params = {};
  const last = lines[lines.length - 1] || '';
  const re = /\s*([\w ]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g;
  if ([...last.matchAll(re)].length >= 3) {
    lines.pop();
    for (const m of last.matchAll(re)) params[m[1].trim()] = m[2].trim().startsWith('"') ? JSON.parse(m[2].trim()) : m[2].trim();
  }
  let prompt = '';
  let negative = '';
  let inNegative = false;
  for (const line of lines) {
    if (line.startsWith('Negative prompt:')) {
      inNegative = true;
      negative = line.slice(16).trim();
    } else if (inNegative) negative += `\n${line}`;
    else prompt += (prompt ? '\n' : '') + line;
  }
  return { prompt, negative, params };
}

function useParameters() {
  const result = state.results[state.selected];
  if (!result) return;
  const { prompt, negative, params } = parseInfotext(result.infotext);
  setValue('prompt', prompt);
  setValue('negative_prompt', negative);
  setValue('steps', params.Steps);
  setValue('cfg_scale', params['CFG scale']);
  setValue('seed', params.Seed);
  if (params.Sampler && [...$('sampler_name').options].some((o) => o.value === params.Sampler)) setValue('sampler_name', params.Sampler);
  setValue('scheduler', params['Schedule type'] || 'Automatic');
  const size = /^(\d+)x(\d+)$/.exec(params.Size || '');
  if (size) {
    setValue('width', size[1]);
    setValue('height', size[2]);
  }
  if (params['Denoising strength']) setValue('denoising_strength', params['Denoising strength']);
  onFormChange();
}

async function sendToImg2img() {
  const result = state.results[state.selected];
  if (!result) return;
  const blob = await (await fetch(result.url)).blob();
  const reader = new FileReader();
  reader.onload = () => setInitImage(reader.result);
  reader.readAsDataURL(blob);
  setMode('img2img');
}

// ---- start ------------------------------------------------------------------------

function fillSelect(select, items, selected) {
  select.textContent = '';
  for (const item of items) {
    const option = document.createElement('option');
    option.value = item.value;
    option.textContent = item.label;
    select.append(option);
  }
  if (items.some((i) => i.value === selected)) select.value = selected;
}

async function start() {
  pairSliders();
  bindDropzone();
  for (const tab of document.querySelectorAll('[role="tab"]')) tab.addEventListener('click', () => setMode(tab.dataset.mode));
  $('form').addEventListener('submit', (e) => {
    e.preventDefault();
    generate();
  });
  $('form').addEventListener('change', onFormChange);
  $('form').addEventListener('input', (e) => {
    if (e.target.tagName === 'TEXTAREA') saveSettings();
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      generate();
    }
  });
  $('interrupt').addEventListener('click', interrupt);
  $('dice').addEventListener('click', () => setValue('seed', -1));
  $('reuse-seed').addEventListener('click', () => {
    const result = state.results[state.selected];
    if (result) setValue('seed', result.seed);
  });
  $('swap-size').addEventListener('click', () => {
    const w = $('width').value;
    setValue('width', $('height').value);
    setValue('height', w);
    onFormChange();
  });
  $('use-parameters').addEventListener('click', useParameters);
  $('send-to-img2img').addEventListener('click', sendToImg2img);

  try {
    const [info, samplers, schedulers] = await Promise.all([api('/internal/server-info'), api('/sdapi/v1/samplers'), api('/sdapi/v1/schedulers')]);
    state.limits = info.limits;
    $('model').textContent = info.model.title;
    document.title = `sd-setup · ${info.model.name}`;
    fillSelect($('sampler_name'), samplers.map((s) => ({ value: s.name, label: s.name })), 'Euler a');
    fillSelect($('scheduler'), schedulers.map((s) => ({ value: s.label, label: s.label })), 'Automatic');
    for (const id of ['width', 'height']) {
      for (const el of [$(id), $(`${id}-range`)]) {
        el.min = info.limits.minSize;
        el.max = info.limits.maxSize;
        el.step = info.limits.sizeMultiple;
      }
    }
    $('steps').max = $('steps-range').max = info.limits.maxSteps;
    $('batch_size').max = info.limits.maxBatchSize;
    $('n_iter').max = info.limits.maxBatchCount;
    restoreSettings();
    onFormChange();
    setStatus('ready', 'ok');
  } catch (error) {
    setStatus('server unreachable', 'down');
    showError(`Could not reach the server: ${error.message}`);
  }
}

start();
