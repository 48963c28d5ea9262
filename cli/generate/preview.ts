import type { RgbImage } from '../image/png-encode.js';

// The webui's "Approx cheap" live preview: a fixed linear map from SD 1.x's
// four latent channels to RGB (modules/sd_vae_approx.py cheap_approximation).
const LATENT_RGB = [
  [0.298, 0.207, 0.208],
  [0.187, 0.286, 0.173],
  [-0.158, 0.189, 0.264],
  [-0.184, -0.271, -0.473],
];

/** Latent [B, 4, h, w] (image `index` of the batch) -> an RGB picture at latent resolution. */
export function cheapPreview(latent: Float32Array, shape: number[], index = 0): RgbImage {
  const [, c = 4, h = 0, w = 0] = shape;
  const data = new Uint8Array(h * w * 3);
  const base = index * c * h * w;
  for (let p = 0; p < h * w; p++) {
    for (let rgb = 0; rgb < 3; rgb++) {
      let v = 0;
      for (let ch = 0; ch < 4; ch++) v += latent[base + ch * h * w + p]! * LATENT_RGB[ch]![rgb]!;
      data[p * 3 + rgb] = Math.max(0, Math.min(255, Math.round(((v + 1) / 2) * 255)));
    }
  }
  return { width: w, height: h, data };
}
