// js backend: elementwise unary/binary/where kernels with broadcasting by collapsed strided iteration.

import type { TypedArray } from "../../tensor/dtype.js";
import type { BinaryOp, UnaryOp } from "../backend.js";

export function reluBackward(g: TypedArray, y: TypedArray, gx: TypedArray): void {
  for (let i = 0; i < gx.length; i++) gx[i] = g[i] * (y[i] > 0 ? 1 : 0);
}

export function unary(op: UnaryOp, x: TypedArray, o: TypedArray): void {
  const n = x.length;
  switch (op) {
    case "neg":
      for (let i = 0; i < n; i++) o[i] = -x[i];
      break;
    case "exp":
      for (let i = 0; i < n; i++) o[i] = Math.exp(x[i]);
      break;
    case "log":
      for (let i = 0; i < n; i++) o[i] = Math.log(x[i]);
      break;
    case "log1p":
      for (let i = 0; i < n; i++) o[i] = Math.log1p(x[i]);
      break;
    case "sqrt":
      for (let i = 0; i < n; i++) o[i] = Math.sqrt(x[i]);
      break;
    case "abs":
      for (let i = 0; i < n; i++) o[i] = Math.abs(x[i]);
      break;
    case "sign":
      for (let i = 0; i < n; i++) {
        const v = x[i];
        o[i] = v > 0 ? 1 : v < 0 ? -1 : v === 0 ? 0 : NaN;
      }
      break;
    case "relu":
      for (let i = 0; i < n; i++) {
        const v = x[i];
        o[i] = v > 0 ? v : v === v ? 0 : v;
      }
      break;
    case "step":
      for (let i = 0; i < n; i++) o[i] = x[i] > 0 ? 1 : 0;
      break;
    case "sigmoid":
      // Stable in both tails: exp of a non-positive number only.
      for (let i = 0; i < n; i++) {
        const v = x[i];
        if (v >= 0) o[i] = 1 / (1 + Math.exp(-v));
        else {
          const e = Math.exp(v);
          o[i] = e / (1 + e);
        }
      }
      break;
    case "tanh":
      for (let i = 0; i < n; i++) o[i] = Math.tanh(x[i]);
      break;
    case "softplus":
      // log(1 + e^x) = max(x, 0) + log1p(e^{−|x|}): exact in both tails
      for (let i = 0; i < n; i++) {
        const v = x[i];
        o[i] = (v > 0 ? v : 0) + Math.log1p(Math.exp(-Math.abs(v)));
      }
      break;
  }
}

/** Merge adjacent dims whose strides are compatible in every operand; returns [shape, ...strides]. */
export function collapse(shape: readonly number[], strides: (readonly number[])[]): [number[], number[][]] {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * shape[d])) {
      outShape[last] *= shape[d];
      strides.forEach((s, k) => (outStrides[k][last] = s[d]));
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, k) => outStrides[k].push(s[d]));
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    outStrides.forEach((s) => s.push(1));
  }
  return [outShape, outStrides];
}

function binaryRow(
  op: BinaryOp,
  a: TypedArray,
  ai: number,
  sa: number,
  b: TypedArray,
  bi: number,
  sb: number,
  o: TypedArray,
  oi: number,
  n: number,
): void {
  const end = oi + n;
  switch (op) {
    case "add":
      for (; oi < end; oi++, ai += sa, bi += sb) o[oi] = a[ai] + b[bi];
      break;
    case "sub":
      for (; oi < end; oi++, ai += sa, bi += sb) o[oi] = a[ai] - b[bi];
      break;
    case "mul":
      for (; oi < end; oi++, ai += sa, bi += sb) o[oi] = a[ai] * b[bi];
      break;
    case "div":
      if (o instanceof Int32Array) {
        for (; oi < end; oi++, ai += sa, bi += sb) o[oi] = Math.floor(a[ai] / b[bi]);
      } else for (; oi < end; oi++, ai += sa, bi += sb) o[oi] = a[ai] / b[bi];
      break;
    case "pow":
      for (; oi < end; oi++, ai += sa, bi += sb) o[oi] = Math.pow(a[ai], b[bi]);
      break;
    case "maximum":
      for (; oi < end; oi++, ai += sa, bi += sb) {
        const x = a[ai],
          y = b[bi];
        o[oi] = x > y || x !== x ? x : y;
      }
      break;
    case "minimum":
      for (; oi < end; oi++, ai += sa, bi += sb) {
        const x = a[ai],
          y = b[bi];
        o[oi] = x < y || x !== x ? x : y;
      }
      break;
    case "gt":
      for (; oi < end; oi++, ai += sa, bi += sb) o[oi] = a[ai] > b[bi] ? 1 : 0;
      break;
    case "ge":
      for (; oi < end; oi++, ai += sa, bi += sb) o[oi] = a[ai] >= b[bi] ? 1 : 0;
      break;
    case "lt":
      for (; oi < end; oi++, ai += sa, bi += sb) o[oi] = a[ai] < b[bi] ? 1 : 0;
      break;
    case "le":
      for (; oi < end; oi++, ai += sa, bi += sb) o[oi] = a[ai] <= b[bi] ? 1 : 0;
      break;
    case "eq":
      for (; oi < end; oi++, ai += sa, bi += sb) o[oi] = a[ai] === b[bi] ? 1 : 0;
      break;
    case "ne":
      for (; oi < end; oi++, ai += sa, bi += sb) o[oi] = a[ai] !== b[bi] ? 1 : 0;
      break;
  }
}

/** Visit every row of the innermost collapsed dim: calls row(offsets..., length). */
function forEachRow(shape: number[], strides: number[][], row: (offs: number[], n: number) => void): void {
  const nd = shape.length;
  const inner = shape[nd - 1];
  const idx = new Array<number>(nd - 1).fill(0);
  const offs = strides.map(() => 0);
  let rows = 1;
  for (let d = 0; d < nd - 1; d++) rows *= shape[d];
  for (let r = 0; r < rows; r++) {
    row(offs, inner);
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      for (let k = 0; k < offs.length; k++) offs[k] += strides[k][d];
      if (idx[d] < shape[d]) break;
      for (let k = 0; k < offs.length; k++) offs[k] -= strides[k][d] * shape[d];
      idx[d] = 0;
    }
  }
}

export function binary(
  op: BinaryOp,
  a: TypedArray,
  aStrides: readonly number[],
  b: TypedArray,
  bStrides: readonly number[],
  out: TypedArray,
  outShape: readonly number[],
): void {
  if (out.length === 0) return;
  let oStrides = new Array<number>(outShape.length);
  for (let d = outShape.length - 1, acc = 1; d >= 0; d--) {
    oStrides[d] = acc;
    acc *= outShape[d];
  }
  const [shape, [sa, sb, so]] = collapse(outShape, [aStrides, bStrides, oStrides]);
  oStrides = so;
  const iA = sa[shape.length - 1],
    iB = sb[shape.length - 1];
  forEachRow(shape, [sa, sb, so], (offs, n) => binaryRow(op, a, offs[0], iA, b, offs[1], iB, out, offs[2], n));
}

export function where(
  cond: TypedArray,
  cs: readonly number[],
  a: TypedArray,
  as: readonly number[],
  b: TypedArray,
  bs: readonly number[],
  out: TypedArray,
  outShape: readonly number[],
): void {
  if (out.length === 0) return;
  const os = new Array<number>(outShape.length);
  for (let d = outShape.length - 1, acc = 1; d >= 0; d--) {
    os[d] = acc;
    acc *= outShape[d];
  }
  const [shape, strides] = collapse(outShape, [cs, as, bs, os]);
  const last = shape.length - 1;
  const ic = strides[0][last],
    ia = strides[1][last],
    ib = strides[2][last];
  forEachRow(shape, strides, (offs, n) => {
    let c = offs[0],
      x = offs[1],
      y = offs[2],
      o = offs[3];
    for (let i = 0; i < n; i++, c += ic, x += ia, y += ib, o++) out[o] = cond[c] !== 0 ? a[x] : b[y];
  });
}

export function copy(
  src: TypedArray,
  srcOffset: number,
  srcStrides: readonly number[],
  dst: TypedArray,
  dstOffset: number,
  dstStrides: readonly number[],
  shape: readonly number[],
): void {
  for (const d of shape) if (d === 0) return;
  const [cshape, [ss, ds]] = collapse(shape, [srcStrides, dstStrides]);
  const last = cshape.length - 1;
  const is = ss[last],
    id = ds[last];
  forEachRow(cshape, [ss, ds], (offs, n) => {
    let s = srcOffset + offs[0],
      d = dstOffset + offs[1];
    if (is === 1 && id === 1) dst.set(src.subarray(s, s + n), d);
    else for (let i = 0; i < n; i++, s += is, d += id) dst[d] = src[s];
  });
}
