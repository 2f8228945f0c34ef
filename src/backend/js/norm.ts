// js backend: batch normalization over x viewed as [n, c, inner], per-channel quantities in double.

import type { TypedArray } from "../../tensor/dtype.js";

/** Per-channel mean and biased variance (two passes: the mean, then the centred squares). */
export function batchNormStats(x: TypedArray, n: number, c: number, inner: number, mean: Float64Array, variance: Float64Array): void {
  const count = n * inner;
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let b = 0; b < n; b++) for (let i = (b * c + ch) * inner, e = i + inner; i < e; i++) s += x[i];
    const mu = s / count;
    let q = 0;
    for (let b = 0; b < n; b++)
      for (let i = (b * c + ch) * inner, e = i + inner; i < e; i++) {
        const d = x[i] - mu;
        q += d * d;
      }
    mean[ch] = mu;
    variance[ch] = q / count;
  }
}

/** out = x·scale[ch] + shift[ch], with scale and shift rounded to the element type first (as the native kernel). */
export function channelAffine(
  x: TypedArray,
  n: number,
  c: number,
  inner: number,
  scale: Float64Array,
  shift: Float64Array,
  out: TypedArray,
  relu = false,
): void {
  const f32 = !(x instanceof Float64Array);
  for (let ch = 0; ch < c; ch++) {
    const a = f32 ? Math.fround(scale[ch]) : scale[ch],
      sh = f32 ? Math.fround(shift[ch]) : shift[ch];
    for (let b = 0; b < n; b++) {
      const e = (b * c + ch) * inner + inner;
      if (relu) {
        for (let i = e - inner; i < e; i++) {
          const v = x[i] * a + sh;
          out[i] = v > 0 ? v : v === v ? 0 : v;
        }
      } else for (let i = e - inner; i < e; i++) out[i] = x[i] * a + sh;
    }
  }
}

/**
 * Backward of y = γ·x̂ + β, x̂ = (x − μ)·invstd: sumG = Σgy and sumGXhat = Σgy·x̂ per channel (the gradients
 * of β and γ), and, when gx is given, gx = scale·(gy − Σgy/M − x̂·Σgy·x̂/M) with batch statistics
 * (training) or scale·gy with fixed ones, where scale = γ·invstd. With `reluOut`, gy·(reluOut > 0 ? 1 : 0)
 * takes the place of gy (the backward of a ReLU fused after the batch norm).
 */
export function batchNormBackward(
  gy: TypedArray,
  x: TypedArray,
  n: number,
  c: number,
  inner: number,
  mean: Float64Array,
  invstd: Float64Array,
  scale: Float64Array,
  training: boolean,
  gx: TypedArray | null,
  sumG: Float64Array,
  sumGXhat: Float64Array,
  reluOut: TypedArray | null = null,
): void {
  if (reluOut) {
    const masked = new (gy.constructor as new (n: number) => TypedArray)(gy.length);
    for (let i = 0; i < gy.length; i++) masked[i] = gy[i] * (reluOut[i] > 0 ? 1 : 0);
    gy = masked;
  }
  const count = n * inner;
  const f32 = !(x instanceof Float64Array);
  const r = f32 ? Math.fround : (v: number) => v;
  for (let ch = 0; ch < c; ch++) {
    const mu = mean[ch],
      is = invstd[ch];
    let sg = 0,
      sgx = 0;
    for (let b = 0; b < n; b++)
      for (let i = (b * c + ch) * inner, e = i + inner; i < e; i++) {
        sg += gy[i];
        sgx += gy[i] * (x[i] - mu);
      }
    sgx *= is;
    sumG[ch] = sg;
    sumGXhat[ch] = sgx;
    if (!gx) continue;
    const sc = scale[ch];
    if (training) {
      // gx = a·gy + bx·x + d per element
      const k = (sc * is * sgx) / count;
      const a = r(sc),
        bx = r(-k),
        d = r(k * mu - (sc * sg) / count);
      for (let b = 0; b < n; b++) for (let i = (b * c + ch) * inner, e = i + inner; i < e; i++) gx[i] = a * gy[i] + bx * x[i] + d;
    } else {
      const a = r(sc);
      for (let b = 0; b < n; b++) for (let i = (b * c + ch) * inner, e = i + inner; i < e; i++) gx[i] = a * gy[i];
    }
  }
}
