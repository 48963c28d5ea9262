import type { RgbImage } from './png-encode.js';

/**
 * Lanczos-3 resampling (separable, antialiased when shrinking: the kernel
 * widens with the scale, as PIL's Image.resize(LANCZOS) that the webui uses).
 */
export function resizeLanczos(src: RgbImage, width: number, height: number): RgbImage {
  if (src.width === width && src.height === height) return { width, height, data: src.data.slice() };
  const horizontal = resample1d(src.data, src.width, src.height, width, true);
  const data = resample1d(horizontal, width, src.height, height, false);
  return { width, height, data: toBytes(data) };
}

function lanczos(x: number): number {
  if (x === 0) return 1;
  if (x <= -3 || x >= 3) return 0;
  const px = Math.PI * x;
  return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
}

// Resamples along x (rows) or y (columns); input/output are float or byte RGB arrays.
function resample1d(input: ArrayLike<number>, w: number, h: number, out: number, alongX: boolean): Float32Array {
  const inSize = alongX ? w : h;
  const scale = inSize / out;
  const support = 3 * Math.max(scale, 1);
  const filterScale = Math.max(scale, 1);
  const result = new Float32Array((alongX ? out * h : w * out) * 3);
  for (let o = 0; o < out; o++) {
    const center = (o + 0.5) * scale;
    const first = Math.max(0, Math.floor(center - support));
    const last = Math.min(inSize, Math.ceil(center + support));
    const weights: number[] = [];
    let total = 0;
    for (let i = first; i < last; i++) {
      const wgt = lanczos((i + 0.5 - center) / filterScale);
      weights.push(wgt);
      total += wgt;
    }
    const lines = alongX ? h : w;
    for (let l = 0; l < lines; l++) {
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < weights.length; k++) {
        const i = first + k;
        const idx = (alongX ? l * w + i : i * w + l) * 3;
        const wk = weights[k]! / total;
        r += input[idx]! * wk;
        g += input[idx + 1]! * wk;
        b += input[idx + 2]! * wk;
      }
      const dst = (alongX ? l * out + o : o * w + l) * 3;
      result[dst] = r;
      result[dst + 1] = g;
      result[dst + 2] = b;
    }
  }
  return result;
}

function toBytes(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(data[i]!)));
  return out;
}

/** The webui's img2img resize modes. */
export type ResizeMode = 'resize' | 'crop' | 'fill';

/**
 * Fits a picture to width x height: "resize" stretches (Just resize), "crop"
 * scales to cover and crops the centre (Crop and resize), "fill" scales to fit
 * and fills the borders by stretching the picture's edge pixels (Resize and fill).
 */
export function fitImage(src: RgbImage, width: number, height: number, mode: ResizeMode): RgbImage {
  if (mode === 'resize') return resizeLanczos(src, width, height);
  const ratio = width / height, srcRatio = src.width / src.height;
  if (mode === 'crop') {
    const cover = ratio > srcRatio ? width / src.width : height / src.height;
    const sw = Math.max(width, Math.round(src.width * cover)), sh = Math.max(height, Math.round(src.height * cover));
    const scaled = resizeLanczos(src, sw, sh);
    return crop(scaled, Math.floor((sw - width) / 2), Math.floor((sh - height) / 2), width, height);
  }
  const fit = ratio < srcRatio ? width / src.width : height / src.height;
  const sw = Math.max(1, Math.min(width, Math.round(src.width * fit))), sh = Math.max(1, Math.min(height, Math.round(src.height * fit)));
  const scaled = resizeLanczos(src, sw, sh);
  const out = new Uint8Array(width * height * 3);
  const x0 = Math.floor((width - sw) / 2), y0 = Math.floor((height - sh) / 2);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(sh - 1, Math.max(0, y - y0));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(sw - 1, Math.max(0, x - x0));
      out.set(scaled.data.subarray((sy * sw + sx) * 3, (sy * sw + sx) * 3 + 3), (y * width + x) * 3);
    }
  }
  return { width, height, data: out };
}

function crop(src: RgbImage, x0: number, y0: number, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) out.set(src.data.subarray(((y0 + y) * src.width + x0) * 3, ((y0 + y) * src.width + x0 + width) * 3), y * width * 3);
  return { width, height, data: out };
}
