// js backend: reductions over the middle axis of [outer, size, inner], gather and scatter-add.

import type { TypedArray } from "../../tensor/dtype.js";
import type { ArgReduceOp, ReduceOp } from "../backend.js";

let scratch = new Float64Array(1024);

export function reduce(op: ReduceOp, x: TypedArray, outer: number, size: number, inner: number, out: TypedArray): void {
  if (inner > scratch.length) scratch = new Float64Array(inner);
  const acc = scratch; // accumulate in float64 whatever the storage type
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    if (inner === 1) {
      let s = op === "sum" ? 0 : size > 0 ? x[base] : op === "max" ? -Infinity : Infinity;
      if (op === "sum") for (let k = 0; k < size; k++) s += x[base + k];
      else if (op === "max")
        for (let k = 1; k < size; k++) {
          const v = x[base + k];
          if (v > s || v !== v) s = v;
          if (s !== s) break;
        }
      else
        for (let k = 1; k < size; k++) {
          const v = x[base + k];
          if (v < s || v !== v) s = v;
          if (s !== s) break;
        }
      out[o] = s;
      continue;
    }
    if (op === "sum") {
      acc.fill(0, 0, inner);
      for (let k = 0; k < size; k++) {
        const row = base + k * inner;
        for (let i = 0; i < inner; i++) acc[i] += x[row + i];
      }
    } else {
      if (size === 0) acc.fill(op === "max" ? -Infinity : Infinity, 0, inner);
      else for (let i = 0; i < inner; i++) acc[i] = x[base + i];
      for (let k = 1; k < size; k++) {
        const row = base + k * inner;
        if (op === "max")
          for (let i = 0; i < inner; i++) {
            const v = x[row + i];
            if (v > acc[i] || v !== v) acc[i] = v;
          }
        else
          for (let i = 0; i < inner; i++) {
            const v = x[row + i];
            if (v < acc[i] || v !== v) acc[i] = v;
          }
      }
    }
    const ob = o * inner;
    for (let i = 0; i < inner; i++) out[ob + i] = acc[i];
  }
}

export function argReduce(op: ArgReduceOp, x: TypedArray, outer: number, size: number, inner: number, out: Int32Array): void {
  const isMax = op === "argmax";
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * size * inner + i;
      let best = x[base],
        bi = 0;
      if (best === best) {
        for (let k = 1; k < size; k++) {
          const v = x[base + k * inner];
          if (v !== v) {
            bi = k;
            break;
          } // NaN wins, as in PyTorch
          if (isMax ? v > best : v < best) {
            best = v;
            bi = k;
          }
        }
      }
      out[o * inner + i] = bi;
    }
  }
}

export function gather(x: TypedArray, outer: number, size: number, inner: number, idx: Int32Array, idxSize: number, out: TypedArray): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < idxSize; j++) {
      const ib = (o * idxSize + j) * inner;
      const xb = o * size * inner;
      for (let i = 0; i < inner; i++) out[ib + i] = x[xb + idx[ib + i] * inner + i];
    }
  }
}

export function scatterAdd(
  out: TypedArray,
  outer: number,
  size: number,
  inner: number,
  idx: Int32Array,
  idxSize: number,
  src: TypedArray,
  clear = false,
): void {
  if (clear) out.fill(0);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < idxSize; j++) {
      const ib = (o * idxSize + j) * inner;
      const ob = o * size * inner;
      for (let i = 0; i < inner; i++) out[ob + idx[ib + i] * inner + i] += src[ib + i];
    }
  }
}
