// js backend: im2col / col2im (unfold / fold), the movement kernels convolution and pooling are built on.

import type { TypedArray } from "../../tensor/dtype.js";
import type { Im2colGeometry } from "../backend.js";

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
