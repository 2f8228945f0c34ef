// js backend: im2col / col2im (unfold / fold), convolution as one GEMM per sample and group over that
// sample's unfolded columns, and max-pooling indices.

import type { TypedArray } from "../../tensor/dtype.js";
import type { ConvGeometry, FusedKernels, Im2colGeometry } from "../backend.js";
import { gemm } from "./gemm.js";
import { unary } from "./elementwise.js";

export function im2col(x: TypedArray, g: Im2colGeometry, padValue: number, out: TypedArray): void {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow } = g;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const xBase = (b * c + ch) * h * w;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          for (let oy = 0; oy < oh; oy++) {
            const iy = oy * sh - ph + ki * dh;
            if (iy < 0 || iy >= h) {
              out.fill(padValue, o, o + ow);
              o += ow;
              continue;
            }
            const row = xBase + iy * w;
            let ix = kj * dw - pw;
            for (let ox = 0; ox < ow; ox++, ix += sw) out[o++] = ix >= 0 && ix < w ? x[row + ix] : padValue;
          }
        }
      }
    }
  }
}

export function col2im(cols: TypedArray, g: Im2colGeometry, out: TypedArray): void {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow } = g;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const xBase = (b * c + ch) * h * w;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          for (let oy = 0; oy < oh; oy++) {
            const iy = oy * sh - ph + ki * dh;
            if (iy < 0 || iy >= h) {
              o += ow;
              continue;
            }
            const row = xBase + iy * w;
            let ix = kj * dw - pw;
            for (let ox = 0; ox < ow; ox++, ix += sw, o++) if (ix >= 0 && ix < w) out[row + ix] += cols[o];
          }
        }
      }
    }
  }
}

/** One sample's columns [C·kh·kw, oh·ow] (a reused buffer), unfolded from sample b of x. */
let colsBuf: Float64Array | Float32Array = new Float32Array(0);
function sampleCols(x: TypedArray, g: ConvGeometry, b: number): TypedArray {
  const size = g.c * g.kh * g.kw * g.oh * g.ow;
  const f64 = x instanceof Float64Array;
  if (colsBuf.length < size || colsBuf instanceof Float64Array !== f64) colsBuf = f64 ? new Float64Array(size) : new Float32Array(size);
  const plane = g.c * g.h * g.w;
  im2col(x.subarray(b * plane, (b + 1) * plane), { ...g, n: 1 }, 0, colsBuf);
  return colsBuf;
}

export function conv2d(x: TypedArray, w: TypedArray, g: ConvGeometry, out: TypedArray, bias?: TypedArray | null): "im2col" {
  const kk = (g.c / g.groups) * g.kh * g.kw,
    L = g.oh * g.ow,
    og = g.o / g.groups;
  for (let b = 0; b < g.n; b++) {
    const cols = sampleCols(x, g, b);
    for (let gi = 0; gi < g.groups; gi++) gemm(w, gi * og * kk, false, cols, gi * kk * L, false, out, (b * g.o + gi * og) * L, og, kk, L);
    if (bias) {
      for (let o = 0; o < g.o; o++) {
        const base = (b * g.o + o) * L,
          v = bias[o];
        for (let i = 0; i < L; i++) out[base + i] += v;
      }
    }
  }
  return "im2col";
}

export function conv2dBackwardInput(gy: TypedArray, w: TypedArray, g: ConvGeometry, gx: TypedArray): "im2col" {
  const kk = (g.c / g.groups) * g.kh * g.kw,
    L = g.oh * g.ow,
    og = g.o / g.groups,
    plane = g.c * g.h * g.w;
  const cols = new (gx instanceof Float64Array ? Float64Array : Float32Array)(g.c * g.kh * g.kw * L);
  gx.fill(0);
  for (let b = 0; b < g.n; b++) {
    for (let gi = 0; gi < g.groups; gi++) gemm(w, gi * og * kk, true, gy, (b * g.o + gi * og) * L, false, cols, gi * kk * L, kk, og, L);
    col2im(cols, { ...g, n: 1 }, gx.subarray(b * plane, (b + 1) * plane));
  }
  return "im2col";
}

export function conv2dBackwardWeight(x: TypedArray, gy: TypedArray, g: ConvGeometry, gw: TypedArray): "im2col" {
  const kk = (g.c / g.groups) * g.kh * g.kw,
    L = g.oh * g.ow,
    og = g.o / g.groups;
  const part = new (gw instanceof Float64Array ? Float64Array : Float32Array)(gw.length);
  gw.fill(0);
  for (let b = 0; b < g.n; b++) {
    const cols = sampleCols(x, g, b);
    for (let gi = 0; gi < g.groups; gi++) gemm(gy, (b * g.o + gi * og) * L, false, cols, gi * kk * L, true, part, gi * og * kk, og, L, kk);
    for (let i = 0; i < gw.length; i++) gw[i] += part[i];
  }
  return "im2col";
}

export function maxPool2dIndices(x: TypedArray, g: Im2colGeometry, idx: Int32Array, values?: TypedArray | null): void {
  const { n, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow } = g;
  let o = 0;
  for (let p = 0; p < n; p++) {
    const base = p * h * w;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, o++) {
        let best = -1,
          bv = 0;
        for (let ki = 0; ki < kh; ki++) {
          const iy = oy * sh - ph + ki * dh;
          if (iy < 0 || iy >= h) continue;
          for (let kj = 0; kj < kw; kj++) {
            const ix = ox * sw - pw + kj * dw;
            if (ix < 0 || ix >= w) continue;
            const v = x[base + iy * w + ix];
            if (best < 0 || v > bv || (v !== v && bv === bv)) {
              best = iy * w + ix;
              bv = v;
            }
          }
        }
        idx[o] = best < 0 ? 0 : best;
        if (values) values[o] = x[base + idx[o]];
      }
    }
  }
}

/** Inference's conv → max-pool (→ ReLU) as the three kernels one by one (see FusedKernels.convMaxPool). */
export const convMaxPool: FusedKernels["convMaxPool"] = (x, w, g, bias, pool, relu, out, inPad = null) => {
  if (inPad) {
    const [t, , l] = inPad,
      h0 = g.h - inPad[0] - inPad[1],
      w0 = g.w - inPad[2] - inPad[3];
    const xp = new (x.constructor as new (n: number) => TypedArray)(g.n * g.c * g.h * g.w);
    for (let p = 0; p < g.n * g.c; p++)
      for (let r = 0; r < h0; r++) xp.set(x.subarray((p * h0 + r) * w0, (p * h0 + r + 1) * w0), (p * g.h + r + t) * g.w + l);
    x = xp;
  }
  const y = new (out.constructor as new (n: number) => TypedArray)(g.n * g.o * g.oh * g.ow);
  conv2d(x, w, g, y, bias);
  maxPool2dIndices(y, pool, new Int32Array(out.length), out);
  if (relu) unary("relu", out, out);
  return "im2col";
};
