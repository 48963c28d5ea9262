/**
 * The webui API's request fields (modules/api/models.py, webui 1.10) with
 * their defaults, and what this server does with each one it cannot honour.
 * The defaults are the API's own (Euler, 50 steps), not the page's.
 */

const COMMON_DEFAULTS = {
  prompt: '',
  negative_prompt: '',
  styles: null,
  seed: -1,
  subseed: -1,
  subseed_strength: 0,
  seed_resize_from_h: -1,
  seed_resize_from_w: -1,
  sampler_name: null,
  scheduler: null,
  batch_size: 1,
  n_iter: 1,
  steps: 50,
  cfg_scale: 7.0,
  width: 512,
  height: 512,
  restore_faces: null,
  tiling: null,
  do_not_save_samples: false,
  do_not_save_grid: false,
  eta: null,
  denoising_strength: 0.75,
  s_min_uncond: null,
  s_churn: null,
  s_tmax: null,
  s_tmin: null,
  s_noise: null,
  override_settings: null,
  override_settings_restore_afterwards: true,
  refiner_checkpoint: null,
  refiner_switch_at: null,
  disable_extra_networks: false,
  firstpass_image: null,
  comments: null,
  sampler_index: 'Euler',
  script_name: null,
  script_args: [],
  send_images: true,
  save_images: false,
  alwayson_scripts: {},
  force_task_id: null,
  infotext: null,
} as const;

export const TXT2IMG_DEFAULTS: Record<string, unknown> = {
  ...COMMON_DEFAULTS,
  enable_hr: false,
  firstphase_width: 0,
  firstphase_height: 0,
  hr_scale: 2.0,
  hr_upscaler: null,
  hr_second_pass_steps: 0,
  hr_resize_x: 0,
  hr_resize_y: 0,
  hr_checkpoint_name: null,
  hr_sampler_name: null,
  hr_scheduler: null,
  hr_prompt: '',
  hr_negative_prompt: '',
};

export const IMG2IMG_DEFAULTS: Record<string, unknown> = {
  ...COMMON_DEFAULTS,
  init_images: null,
  resize_mode: 0,
  image_cfg_scale: null,
  mask: null,
  mask_blur_x: 4,
  mask_blur_y: 4,
  mask_blur: null,
  mask_round: true,
  inpainting_fill: 0,
  inpaint_full_res: true,
  inpaint_full_res_padding: 0,
  inpainting_mask_invert: 0,
  initial_noise_multiplier: null,
  latent_mask: null,
  include_init_images: false,
};

const isEmpty = (v: unknown) =>
  v === undefined || v === null || v === false || v === '' || (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
const isNullOr = (...allowed: unknown[]) => (v: unknown) => v === undefined || v === null || allowed.includes(v);

/**
 * A webui feature this server does not have. A request that asks for it with
 * a value that would change the picture is refused (422) rather than answered
 * with a picture that is not what was asked for; the neutral values are accepted.
 */
export interface UnsupportedField {
  field: string;
  /** True for the values that leave the picture as this server makes it. */
  neutral: (value: unknown) => boolean;
  why: string;
}

export const UNSUPPORTED_FIELDS: readonly UnsupportedField[] = [
  { field: 'enable_hr', neutral: isEmpty, why: 'hires. fix is not available; generate at the final size, or upscale the result elsewhere' },
  { field: 'restore_faces', neutral: isEmpty, why: 'face restoration (GFPGAN/CodeFormer) is not available' },
  { field: 'tiling', neutral: isEmpty, why: 'seamless tiling is not available' },
  { field: 'styles', neutral: isEmpty, why: 'this server has no saved prompt styles; put the style text into the prompt' },
  { field: 'subseed_strength', neutral: isNullOr(0), why: 'variation seeds are not available' },
  { field: 'seed_resize_from_h', neutral: isNullOr(-1, 0), why: '"resize seed from" is not available' },
  { field: 'seed_resize_from_w', neutral: isNullOr(-1, 0), why: '"resize seed from" is not available' },
  { field: 's_min_uncond', neutral: isNullOr(0), why: 'negative guidance minimum sigma (NGMS) is not available' },
  { field: 's_churn', neutral: isNullOr(0), why: 'sampler churn settings are not available' },
  { field: 's_tmin', neutral: isNullOr(0), why: 'sampler churn settings are not available' },
  { field: 's_tmax', neutral: (v) => v === undefined || v === null || v === 0 || v === Infinity, why: 'sampler churn settings are not available' },
  { field: 's_noise', neutral: isNullOr(1), why: 'sampler churn settings are not available' },
  { field: 'refiner_checkpoint', neutral: (v) => isEmpty(v) || v === 'None', why: 'the refiner is an SDXL feature; this server serves one SD 1.x model' },
  { field: 'script_name', neutral: (v) => isEmpty(v) || v === 'None', why: 'webui scripts (X/Y/Z plot, ...) are not available' },
  { field: 'alwayson_scripts', neutral: isEmpty, why: 'webui extensions (ControlNet, ADetailer, ...) are not available' },
  { field: 'firstpass_image', neutral: isEmpty, why: 'hires. fix is not available' },
  { field: 'infotext', neutral: isEmpty, why: 'send the parameters as fields instead of an infotext' },
  { field: 'mask', neutral: isEmpty, why: 'inpainting (a mask) is not available; img2img changes the whole picture' },
  { field: 'latent_mask', neutral: isEmpty, why: 'inpainting (a mask) is not available' },
  { field: 'initial_noise_multiplier', neutral: isNullOr(1), why: 'the initial noise multiplier is fixed at 1' },
];
