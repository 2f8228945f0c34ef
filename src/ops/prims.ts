// The closed set of primitives: forward through the current backend, and one backward rule each,
// written with differentiable ops so gradients of gradients work. This file is the only caller of the
// backend: besides the recorded primitives, the non-differentiable kernels (max-pool indices, batch-norm
// statistics) and the backend's fused kernels (ReLU backward, BN affine / backward, optimizer updates)
// are reached through the functions here.

import { Node, isGradEnabled, recordsGradient, versionOf } from "../autograd/engine.js";
import {
  getBackend,
  type AdadeltaUpdate,
  type AdagradUpdate,
  type AdamaxUpdate,
  type AdamUpdate,
  type BinaryOp,
  type ConvGeometry,
  type Im2colGeometry,
  type NadamUpdate,
  type RmspropUpdate,
  type SgdUpdate,
  type UnaryOp,
} from "../backend/backend.js";
import { allocate, allocateUninit, isFloating, promote, type DType, type TypedArray } from "../tensor/dtype.js";
import { broadcastShapes, broadcastStrides, contiguousStrides, fmt, numel, shapeEq } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { full, zeros } from "./creation.js";
import { traceOpaque, tracePrim } from "./trace.js";
import { noteConvAlgorithm } from "../backend/precision.js";

/** Attributes of each primitive; the keys are the closed list of primitives. */
export interface PrimAttrs {
  neg: {};
  exp: {};
  log: {};
  log1p: {};
  sqrt: {};
  abs: {};
  sign: {};
  relu: {};
  sigmoid: {};
  tanh: {};
  softplus: {};
  add: {};
  sub: {};
  mul: {};
  div: {};
  pow: {};
  maximum: {};
  minimum: {};
  clamp: { min: number; max: number };
  where: {};
  cast: { dtype: DType };
  sum: { dims: number[]; keepdim: boolean };
  maxDim: { dim: number; keepdim: boolean; indices: Tensor; isMax: boolean };
  reshape: { shape: number[] };
  permute: { perm: number[] };
  expand: { shape: number[] };
  slice: { dim: number; start: number; step: number; length: number };
  unslice: { dim: number; start: number; step: number; size: number };
  pad: { pads: [number, number][]; value: number };
  cat: { dim: number };
  gather: { dim: number; windows?: Int32Array };
  scatterAdd: { dim: number; size: number; windows?: Int32Array };
  matmul: { transA: boolean; transB: boolean };
  im2col: { geom: Im2colGeometry; padValue: number };
  col2im: { geom: Im2colGeometry };
  conv2d: { geom: ConvGeometry };
  conv2dBackwardInput: { geom: ConvGeometry };
  conv2dBackwardWeight: { geom: ConvGeometry };
  batchNorm: BatchNormAttrs;
}

/** Batch norm of x viewed as [n, c, inner] with per-channel statistics fixed by the caller. */
export interface BatchNormAttrs {
  n: number;
  c: number;
  inner: number;
  mean: Float64Array;
  invstd: Float64Array;
  /** Batch statistics (their dependence on x is part of the gradient) or fixed running ones. */
  training: boolean;
  /** A ReLU fused after the batch norm: y = max(bn(x), 0), one pass instead of two each way. */
  relu: boolean;
  /** The same three gradients as differentiable ops, used when the backward pass is itself recorded (createGraph). */
  differentiable: (g: Tensor) => (Tensor | null)[];
}
export type Prim = keyof PrimAttrs;
export interface VjpContext<P extends Prim> {
  inputs: readonly Tensor[];
  out: Tensor;
  attrs: PrimAttrs[P];
}
/** A backward rule: output gradient → one gradient (or null) per input. */
export type Vjp<P extends Prim> = (g: Tensor, ctx: VjpContext<P>) => (Tensor | null)[];

function record<P extends Prim>(prim: P, inputs: readonly Tensor[], out: Tensor, attrs: PrimAttrs[P]): Tensor {
  tracePrim(prim, inputs, out, attrs);
  if (recordsGradient(inputs)) {
    out.requiresGrad = true;
    const ctx: VjpContext<P> = { inputs, out, attrs };
    const rule = vjps[prim] as Vjp<P>;
    out.gradFn = new Node(prim, inputs, (g) => rule(g, ctx));
    out.gradFn.outVersion = versionOf(out);
  }
  return out;
}

function alloc(dtype: DType, shape: readonly number[]): Tensor {
  return new Tensor(
    allocate(dtype, numel(shape), () => `an output of shape ${fmt(shape)}`),
    shape,
  );
}

/** An output tensor the kernel writes in full: its storage is not zero-filled first. */
function allocOut(dtype: DType, shape: readonly number[], what = () => `an output of shape ${fmt(shape)}`): Tensor {
  return new Tensor(allocateUninit(dtype, numel(shape), what), shape);
}

// ---------------------------------------------------------------- elementwise

export function unaryPrim(op: UnaryOp & Prim, x: Tensor): Tensor {
  const out = allocOut(x.dtype, x.shape);
  getBackend().unary(op, x.data, out.data);
  return record(op, [x], out, {});
}

/** Non-differentiable elementwise step (x > 0 → 1, else 0), the mask ReLU's backward uses. */
export function stepMask(x: Tensor): Tensor {
  const out = allocOut(x.dtype, x.shape);
  getBackend().unary("step", x.data, out.data);
  traceOpaque("stepMask", out);
  return out;
}

/** ReLU's gradient from its output, g·(y > 0), in one pass; not recorded (for backward passes that are not differentiated). */
function reluBackwardPrim(g: Tensor, y: Tensor): Tensor {
  const gx = allocOut(g.dtype, g.shape);
  getBackend().fused.reluBackward(g.data, y.data, gx.data);
  return gx;
}

export function castPrim(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const out = allocOut(dtype, x.shape);
  getBackend().cast(x.data, out.data);
  if (isFloating(dtype)) return record("cast", [x], out, { dtype });
  traceOpaque(`cast to ${dtype}`, out);
  return out;
}

/** Broadcasting binary op on two tensors (dtypes already promoted by the caller). */
export function binaryPrim(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const dtype = promote(a.dtype, b.dtype);
  if (a.dtype !== dtype) a = castPrim(a, dtype);
  if (b.dtype !== dtype) b = castPrim(b, dtype);
  const shape = broadcastShapes(a.shape, b.shape, op);
  const out = allocOut(dtype, shape);
  getBackend().binary(op, a.data, broadcastStrides(a.shape, shape), b.data, broadcastStrides(b.shape, shape), out.data, shape);
  if (op === "gt" || op === "ge" || op === "lt" || op === "le" || op === "eq" || op === "ne") {
    traceOpaque(op, out);
    return out;
  }
  return record(op, [a, b], out, {});
}

export function wherePrim(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  const dtype = promote(a.dtype, b.dtype);
  if (a.dtype !== dtype) a = castPrim(a, dtype);
  if (b.dtype !== dtype) b = castPrim(b, dtype);
  const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape, "where"), b.shape, "where");
  const out = allocOut(dtype, shape);
  getBackend().where(
    cond.data,
    broadcastStrides(cond.shape, shape),
    a.data,
    broadcastStrides(a.shape, shape),
    b.data,
    broadcastStrides(b.shape, shape),
    out.data,
    shape,
  );
  return record("where", [cond, a, b], out, {});
}

export function clampPrim(x: Tensor, min: number, max: number): Tensor {
  const out = allocOut(x.dtype, x.shape);
  getBackend().clamp(x.data, min, max, out.data);
  return record("clamp", [x], out, { min, max });
}

// ---------------------------------------------------------------- reductions

/** Sum over `dims` (sorted, distinct, in range). */
export function sumPrim(x: Tensor, dims: number[], keepdim: boolean): Tensor {
  const be = getBackend();
  let data = x.data;
  const shape = [...x.shape];
  // one pass per run of adjacent reduced dims, last run first: [N, C, H, W] over (0, 2, 3) is two passes
  for (let k = dims.length - 1; k >= 0;) {
    let first = k;
    while (first > 0 && dims[first - 1] === dims[first] - 1) first--;
    const lo = dims[first],
      hi = dims[k];
    const outer = numel(shape.slice(0, lo)),
      size = numel(shape.slice(lo, hi + 1)),
      inner = numel(shape.slice(hi + 1));
    const next = allocateUninit(x.dtype, outer * inner);
    be.reduce("sum", data, outer, size, inner, next);
    data = next;
    for (let d = lo; d <= hi; d++) shape[d] = 1;
    k = first - 1;
  }
  if (dims.length === 0) data = data.slice();
  const outShape = keepdim ? shape : shape.filter((_, i) => !dims.includes(i));
  return record("sum", [x], new Tensor(data, outShape), { dims, keepdim });
}

/** Max or min along one dim, with the gradient routed to the first extreme index (as torch.max(dim)). */
export function extremeDimPrim(x: Tensor, dim: number, keepdim: boolean, isMax: boolean): Tensor {
  const outer = numel(x.shape.slice(0, dim)),
    size = x.shape[dim],
    inner = numel(x.shape.slice(dim + 1));
  if (size === 0)
    throw new RangeError(`${isMax ? "max" : "min"}: cannot reduce over a zero-size dimension ${dim} of shape ${fmt(x.shape)}`);
  const kshape = x.shape.map((s, i) => (i === dim ? 1 : s));
  const indices = new Tensor(new Int32Array(outer * inner), kshape);
  const out = allocate(x.dtype, outer * inner);
  const be = getBackend();
  be.reduce(isMax ? "max" : "min", x.data, outer, size, inner, out);
  be.argReduce(isMax ? "argmax" : "argmin", x.data, outer, size, inner, indices.data as Int32Array);
  const outShape = keepdim ? kshape : x.shape.filter((_, i) => i !== dim);
  return record("maxDim", [x], new Tensor(out, outShape), { dim, keepdim, indices, isMax });
}

export function argExtreme(x: Tensor, dim: number, keepdim: boolean, isMax: boolean): Tensor {
  const outer = numel(x.shape.slice(0, dim)),
    size = x.shape[dim],
    inner = numel(x.shape.slice(dim + 1));
  if (size === 0) throw new RangeError(`${isMax ? "argmax" : "argmin"}: cannot reduce over a zero-size dimension`);
  const out = new Int32Array(outer * inner);
  getBackend().argReduce(isMax ? "argmax" : "argmin", x.data, outer, size, inner, out);
  const t = new Tensor(out, keepdim ? x.shape.map((s, i) => (i === dim ? 1 : s)) : x.shape.filter((_, i) => i !== dim));
  traceOpaque(isMax ? "argmax" : "argmin", t);
  return t;
}

// ---------------------------------------------------------------- movement

export function reshapePrim(x: Tensor, shape: number[]): Tensor {
  if (shapeEq(x.shape, shape)) return x;
  return record("reshape", [x], new Tensor(x.data, shape), { shape });
}

export function permutePrim(x: Tensor, perm: number[]): Tensor {
  if (perm.every((p, i) => p === i)) return x;
  const shape = perm.map((p) => x.shape[p]);
  const xs = contiguousStrides(x.shape);
  const out = allocOut(x.dtype, shape);
  getBackend().copy(
    x.data,
    0,
    perm.map((p) => xs[p]),
    out.data,
    0,
    contiguousStrides(shape),
    shape,
  );
  return record("permute", [x], out, { perm });
}

export function expandPrim(x: Tensor, shape: number[]): Tensor {
  if (shapeEq(x.shape, shape)) return x;
  const out = allocOut(x.dtype, shape);
  getBackend().copy(x.data, 0, broadcastStrides(x.shape, shape), out.data, 0, contiguousStrides(shape), shape);
  return record("expand", [x], out, { shape });
}

/** Elements start, start+step, … (length of them) along `dim`. */
export function slicePrim(x: Tensor, dim: number, start: number, step: number, length: number): Tensor {
  if (start === 0 && step === 1 && length === x.shape[dim]) return x;
  const shape = x.shape.map((s, i) => (i === dim ? length : s));
  const xs = contiguousStrides(x.shape);
  const out = allocOut(x.dtype, shape);
  const srcStrides = xs.map((s, i) => (i === dim ? s * step : s));
  getBackend().copy(x.data, start * xs[dim], srcStrides, out.data, 0, contiguousStrides(shape), shape);
  return record("slice", [x], out, { dim, start, step, length });
}

/** The adjoint of slice: place x at start, start+step, … along `dim` of a zero tensor of size `size`. */
export function unslicePrim(x: Tensor, dim: number, start: number, step: number, size: number): Tensor {
  const shape = x.shape.map((s, i) => (i === dim ? size : s));
  const os = contiguousStrides(shape);
  const out = alloc(x.dtype, shape);
  getBackend().copy(
    x.data,
    0,
    contiguousStrides(x.shape),
    out.data,
    start * os[dim],
    os.map((s, i) => (i === dim ? s * step : s)),
    x.shape,
  );
  return record("unslice", [x], out, { dim, start, step, size });
}

export function padPrim(x: Tensor, pads: [number, number][], value: number): Tensor {
  const shape = x.shape.map((s, i) => s + pads[i][0] + pads[i][1]);
  const os = contiguousStrides(shape);
  const out = alloc(x.dtype, shape);
  if (value !== 0) out.data.fill(value);
  const off = pads.reduce((acc, p, i) => acc + p[0] * os[i], 0);
  getBackend().copy(x.data, 0, contiguousStrides(x.shape), out.data, off, os, x.shape);
  return record("pad", [x], out, { pads, value });
}

export function catPrim(xs: Tensor[], dim: number): Tensor {
  const shape = [...xs[0].shape];
  shape[dim] = xs.reduce((acc, t) => acc + t.shape[dim], 0);
  const os = contiguousStrides(shape);
  const out = allocOut(xs[0].dtype, shape);
  let off = 0;
  const be = getBackend();
  for (const t of xs) {
    be.copy(t.data, 0, contiguousStrides(t.shape), out.data, off * os[dim], os, t.shape);
    off += t.shape[dim];
  }
  return record("cat", xs, out, { dim });
}

/** x's elements at idx along `dim`; `gathered`, when given, already holds them (a kernel that found the indices computed them too). */
/** `windows` [h, w, oh, ow]: the indices are a 2×2 max-pool's (see Backend.scatterAdd), passed on to the backward. */
export function gatherPrim(x: Tensor, dim: number, idx: Tensor, gathered?: TypedArray, windows?: Int32Array): Tensor {
  const outer = numel(x.shape.slice(0, dim)),
    size = x.shape[dim],
    inner = numel(x.shape.slice(dim + 1));
  let out: Tensor;
  if (gathered) out = new Tensor(gathered, idx.shape);
  else {
    out = allocOut(x.dtype, idx.shape);
    getBackend().gather(x.data, outer, size, inner, idx.data as Int32Array, idx.shape[dim], out.data);
  }
  return record("gather", [x, idx], out, { dim, windows });
}

export function scatterAddPrim(src: Tensor, dim: number, idx: Tensor, size: number, windows?: Int32Array): Tensor {
  const shape = src.shape.map((s, i) => (i === dim ? size : s));
  const outer = numel(shape.slice(0, dim)),
    inner = numel(shape.slice(dim + 1));
  const out = allocOut(src.dtype, shape);
  getBackend().scatterAdd(out.data, outer, size, inner, idx.data as Int32Array, idx.shape[dim], src.data, true, windows);
  return record("scatterAdd", [src, idx], out, { dim, size, windows });
}

// ---------------------------------------------------------------- matmul and unfold

/**
 * Batched, broadcasting matmul of ≥2-D tensors; a transposed flag reads the last two dims swapped. `into`,
 * an array of the product's size and dtype, takes the product instead of a new one (matmul's out=).
 */
export function matmulPrim(a: Tensor, b: Tensor, transA = false, transB = false, into?: TypedArray): Tensor {
  const dtype = promote(a.dtype, b.dtype);
  if (a.dtype !== dtype) a = castPrim(a, dtype);
  if (b.dtype !== dtype) b = castPrim(b, dtype);
  const ra = a.shape.length,
    rb = b.shape.length;
  const m = transA ? a.shape[ra - 1] : a.shape[ra - 2];
  const ka = transA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (ka !== kb) {
    throw new RangeError(`matmul: shapes ${fmt(a.shape)} and ${fmt(b.shape)} cannot be multiplied (${ka} != ${kb})`);
  }
  const aBatch = a.shape.slice(0, -2),
    bBatch = b.shape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch, "matmul");
  const nb = numel(batch);
  const aStr = broadcastStrides(aBatch, batch),
    bStr = broadcastStrides(bBatch, batch);
  const aOffs = new Int32Array(nb),
    bOffs = new Int32Array(nb);
  const idx = new Array<number>(batch.length).fill(0);
  for (let i = 0; i < nb; i++) {
    let ao = 0,
      bo = 0;
    for (let d = 0; d < batch.length; d++) {
      ao += idx[d] * aStr[d];
      bo += idx[d] * bStr[d];
    }
    aOffs[i] = ao * m * ka;
    bOffs[i] = bo * ka * n;
    for (let d = batch.length - 1; d >= 0; d--) {
      if (++idx[d] < batch[d]) break;
      idx[d] = 0;
    }
  }
  const shape = [...batch, m, n];
  const out = into ? new Tensor(into, shape) : allocOut(dtype, shape, () => `matmul: the product of ${fmt(a.shape)} and ${fmt(b.shape)}`);
  getBackend().matmul(a.data, aOffs, transA, b.data, bOffs, transB, out.data, m, ka, n);
  return record("matmul", [a, b], out, { transA, transB });
}

export function im2colPrim(x: Tensor, geom: Im2colGeometry, padValue: number): Tensor {
  const out = alloc(x.dtype, [geom.n, geom.c * geom.kh * geom.kw, geom.oh * geom.ow]);
  getBackend().im2col(x.data, geom, padValue, out.data);
  return record("im2col", [x], out, { geom, padValue });
}

export function col2imPrim(cols: Tensor, geom: Im2colGeometry): Tensor {
  const out = alloc(cols.dtype, [geom.n, geom.c, geom.h, geom.w]);
  getBackend().col2im(cols.data, geom, out.data);
  return record("col2im", [cols], out, { geom });
}

/** Cross-correlation of x [N, C, H, W] with w [O, C/groups, kh, kw] → [N, O, oh, ow], plus bias [O] when given (added by the kernel). */
export function conv2dPrim(x: Tensor, w: Tensor, geom: ConvGeometry, bias?: Tensor): Tensor {
  const out = allocOut(x.dtype, [geom.n, geom.o, geom.oh, geom.ow]);
  const be = getBackend();
  noteConvAlgorithm("forward", geom, x.dtype, be.name, be.conv2d(x.data, w.data, geom, out.data, bias ? bias.data : null));
  return record("conv2d", bias ? [x, w, bias] : [x, w], out, { geom });
}

/**
 * (A zero pad by inPad [top, bottom, left, right], then) conv2d, then max pooling of its output planes with
 * `pool` (pool.n = N·O), then ReLU with `relu`: the backend's fused kernel, with the convolution's output
 * never materialized. Not recorded — only for forwards that record no gradient (ops/conv_pool.ts's
 * conv2dMaxPool2d).
 */
export function conv2dMaxPool2dPrim(
  x: Tensor,
  w: Tensor,
  geom: ConvGeometry,
  bias: Tensor | null,
  pool: Im2colGeometry,
  relu: boolean,
  inPad: Int32Array | null,
): Tensor {
  const out = allocOut(x.dtype, [geom.n, geom.o, pool.oh, pool.ow]);
  const be = getBackend();
  noteConvAlgorithm(
    "forward",
    geom,
    x.dtype,
    be.name,
    be.fused.convMaxPool(x.data, w.data, geom, bias ? bias.data : null, pool, relu, out.data, inPad),
  );
  return out;
}

/**
 * x [m, k] · wᵀ (w [n, k]) + bias [n], then ReLU with `relu`: the backend's fused linear, with no
 * intermediate array. Not recorded — only for forwards that record no gradient (ops/math.ts's linear and
 * the "Linear → ReLU" fusion rule); every tensor has x's dtype.
 */
export function linearPrim(x: Tensor, w: Tensor, bias: Tensor | null, relu: boolean): Tensor {
  const [m, k] = x.shape,
    n = w.shape[0];
  const out = allocOut(x.dtype, [m, n], () => `linear: the product of ${fmt(x.shape)} and ${fmt(w.shape)}ᵀ`);
  getBackend().fused.linear(x.data, w.data, bias ? bias.data : null, relu, out.data, m, k, n);
  return out;
}

/** The adjoint of conv2d in its input: gy [N, O, oh, ow], w → [N, C, H, W]. */
export function conv2dBackwardInputPrim(gy: Tensor, w: Tensor, geom: ConvGeometry): Tensor {
  const out = allocOut(gy.dtype, [geom.n, geom.c, geom.h, geom.w]);
  const be = getBackend();
  noteConvAlgorithm("input", geom, gy.dtype, be.name, be.conv2dBackwardInput(gy.data, w.data, geom, out.data));
  return record("conv2dBackwardInput", [gy, w], out, { geom });
}

/** The adjoint of conv2d in its weight: x, gy [N, O, oh, ow] → [O, C/groups, kh, kw]. */
export function conv2dBackwardWeightPrim(x: Tensor, gy: Tensor, geom: ConvGeometry): Tensor {
  const out = allocOut(x.dtype, [geom.o, geom.c / geom.groups, geom.kh, geom.kw]);
  const be = getBackend();
  noteConvAlgorithm("weight", geom, x.dtype, be.name, be.conv2dBackwardWeight(x.data, gy.data, geom, out.data));
  return record("conv2dBackwardWeight", [x, gy], out, { geom });
}

/** y = (x − mean)·invstd·weight + bias per channel (then max(y, 0) with attrs.relu), in one pass; weight and bias are [c] tensors. */
export function batchNormPrim(x: Tensor, weight: Tensor, bias: Tensor, attrs: BatchNormAttrs): Tensor {
  const { n, c, inner, mean, invstd } = attrs;
  const scale = new Float64Array(c),
    shift = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    scale[ch] = invstd[ch] * weight.data[ch];
    shift[ch] = bias.data[ch] - mean[ch] * scale[ch];
  }
  const out = allocOut(x.dtype, x.shape);
  getBackend().fused.channelAffine(x.data, n, c, inner, scale, shift, out.data, attrs.relu);
  return record("batchNorm", [x, weight, bias], out, attrs);
}

// ---------------------------------------------------------------- kernels that are not recorded

/** maxPool2dIndices's indices when no gradient is recorded (grown as needed, per JS thread). */
let scratchIndices = new Int32Array(0);
/**
 * Max pooling's winners over the planes of x [N·C, H, W] (g.n = N·C, g.c = 1): per output, the flat index
 * iy·W + ix of the first largest input of its window, and that input. maxPool2d records them as a gather.
 * With `keep` false the indices land in a scratch array that the next such call overwrites: for callers
 * that record no gradient, so nothing reads them (inference then allocates no index tensor, which costs as
 * much as the kernel in a browser, where every new ArrayBuffer's pages are fresh).
 */
export function maxPool2dIndices(x: Tensor, g: Im2colGeometry, keep = true): { idx: Int32Array; values: TypedArray } {
  const n = g.n * g.oh * g.ow;
  let idx: Int32Array;
  if (keep) idx = allocateUninit("int32", n) as Int32Array;
  else {
    if (scratchIndices.length < n) scratchIndices = new Int32Array(n);
    idx = scratchIndices.subarray(0, n);
  }
  const values = allocateUninit(x.dtype, n);
  getBackend().maxPool2dIndices(x.data, g, idx, values);
  return { idx, values };
}

/** Per-channel mean and biased variance of x viewed as [n, c, inner], in double (batchNorm's statistics). */
export function batchNormStats(x: Tensor, n: number, c: number, inner: number): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(c),
    variance = new Float64Array(c);
  getBackend().batchNormStats(x.data, n, c, inner, mean, variance);
  return { mean, variance };
}

/**
 * The optimizers' in-place updates (the backend's fused kernels): each step of torch.optim's update rule
 * over every element of a parameter and its state tensors, never recorded.
 */
export const optimizerUpdates = {
  adam: (p: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, maxExpAvgSq: Tensor | null, h: AdamUpdate): void =>
    getBackend().fused.adamUpdate(p.data, grad.data, expAvg.data, expAvgSq.data, maxExpAvgSq ? maxExpAvgSq.data : null, h),
  sgd: (p: Tensor, grad: Tensor, momentumBuffer: Tensor | null, h: SgdUpdate): void =>
    getBackend().fused.sgdUpdate(p.data, grad.data, momentumBuffer ? momentumBuffer.data : null, h),
  rmsprop: (p: Tensor, grad: Tensor, squareAvg: Tensor, gradAvg: Tensor | null, momentumBuffer: Tensor | null, h: RmspropUpdate): void =>
    getBackend().fused.rmspropUpdate(
      p.data,
      grad.data,
      squareAvg.data,
      gradAvg ? gradAvg.data : null,
      momentumBuffer ? momentumBuffer.data : null,
      h,
    ),
  adagrad: (p: Tensor, grad: Tensor, sum: Tensor, h: AdagradUpdate): void =>
    getBackend().fused.adagradUpdate(p.data, grad.data, sum.data, h),
  adadelta: (p: Tensor, grad: Tensor, squareAvg: Tensor, accDelta: Tensor, h: AdadeltaUpdate): void =>
    getBackend().fused.adadeltaUpdate(p.data, grad.data, squareAvg.data, accDelta.data, h),
  nadam: (p: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, h: NadamUpdate): void =>
    getBackend().fused.nadamUpdate(p.data, grad.data, expAvg.data, expAvgSq.data, h),
  adamax: (p: Tensor, grad: Tensor, expAvg: Tensor, expInf: Tensor, h: AdamaxUpdate): void =>
    getBackend().fused.adamaxUpdate(p.data, grad.data, expAvg.data, expInf.data, h),
};

// ---------------------------------------------------------------- backward rules

/** Sum a broadcast gradient back down to `shape`. */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (shapeEq(g.shape, shape)) return g;
  const lead = g.shape.length - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.shape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  }
  return reshapePrim(sumPrim(g, dims, false), [...shape]);
}

const mul = (a: Tensor, b: Tensor) => binaryPrim("mul", a, b);
const scalar = (v: number, like: Tensor) => full([], v, { dtype: like.dtype });
const needs = (t: Tensor) => t.requiresGrad;

const vjps: { [P in Prim]: Vjp<P> } = {
  neg: (g) => [unaryPrim("neg", g)],
  exp: (g, { out }) => [mul(g, out)],
  log: (g, { inputs: [x] }) => [binaryPrim("div", g, x)],
  log1p: (g, { inputs: [x] }) => [binaryPrim("div", g, binaryPrim("add", x, scalar(1, x)))],
  sqrt: (g, { out }) => [binaryPrim("div", g, mul(out, scalar(2, out)))],
  abs: (g, { inputs: [x] }) => [mul(g, unaryPrim("sign", x).detach())],
  sign: (g) => [zeros(g.shape, { dtype: g.dtype })],
  relu: (g, { out }) => [isGradEnabled() || g.dtype !== out.dtype ? mul(g, stepMask(out)) : reluBackwardPrim(g, out)],
  sigmoid: (g, { out }) => [mul(g, mul(out, binaryPrim("sub", scalar(1, out), out)))],
  tanh: (g, { out }) => [mul(g, binaryPrim("sub", scalar(1, out), mul(out, out)))],
  // d/dx log(1 + e^x) = σ(x), smooth everywhere (a max(x,0) + log1p(e^{−|x|}) composite would give 0 at x = 0)
  softplus: (g, { inputs: [x] }) => [mul(g, unaryPrim("sigmoid", x))],
  add: (g, { inputs: [a, b] }) => [sumTo(g, a.shape), sumTo(g, b.shape)],
  sub: (g, { inputs: [a, b] }) => [sumTo(g, a.shape), needs(b) ? sumTo(unaryPrim("neg", g), b.shape) : null],
  mul: (g, { inputs: [a, b] }) => [needs(a) ? sumTo(mul(g, b), a.shape) : null, needs(b) ? sumTo(mul(g, a), b.shape) : null],
  div: (g, { inputs: [a, b], out }) => [
    needs(a) ? sumTo(binaryPrim("div", g, b), a.shape) : null,
    needs(b) ? sumTo(unaryPrim("neg", binaryPrim("div", mul(g, out), b)), b.shape) : null,
  ],
  pow: (g, { inputs: [a, b], out }) => [
    needs(a) ? sumTo(mul(g, mul(b, binaryPrim("pow", a, binaryPrim("sub", b, scalar(1, b))))), a.shape) : null,
    // d/db a^b = a^b·log(a), taken as 0 where a == 0 (PyTorch's convention)
    needs(b) ? sumTo(wherePrim(binaryPrim("eq", a, scalar(0, a)), scalar(0, g), mul(g, mul(out, unaryPrim("log", a)))), b.shape) : null,
  ],
  maximum: (g, { inputs: [a, b] }) => tieSplit(g, a, b, "gt"),
  minimum: (g, { inputs: [a, b] }) => tieSplit(g, a, b, "lt"),
  // gradient passes where min <= x <= max (bounds included, as PyTorch)
  clamp: (g, { inputs: [x], attrs }) => [mul(g, mul(binaryPrim("ge", x, scalar(attrs.min, x)), binaryPrim("le", x, scalar(attrs.max, x))))],
  where: (g, { inputs: [c, a, b] }) => {
    const z = scalar(0, g);
    return [null, needs(a) ? sumTo(wherePrim(c, g, z), a.shape) : null, needs(b) ? sumTo(wherePrim(c, z, g), b.shape) : null];
  },
  cast: (g, { inputs: [x] }) => [castPrim(g, x.dtype)],
  sum: (g, { inputs: [x], attrs }) => {
    const kshape = x.shape.map((s, i) => (attrs.dims.includes(i) ? 1 : s));
    return [expandPrim(reshapePrim(g, kshape), [...x.shape])];
  },
  maxDim: (g, { inputs: [x], attrs }) => {
    const gk = attrs.keepdim ? g : reshapePrim(g, [...attrs.indices.shape]);
    return [scatterAddPrim(gk, attrs.dim, attrs.indices, x.shape[attrs.dim])];
  },
  reshape: (g, { inputs: [x] }) => [reshapePrim(g, [...x.shape])],
  permute: (g, { attrs }) => {
    const inv = new Array<number>(attrs.perm.length);
    attrs.perm.forEach((p, i) => (inv[p] = i));
    return [permutePrim(g, inv)];
  },
  expand: (g, { inputs: [x] }) => [sumTo(g, x.shape)],
  slice: (g, { inputs: [x], attrs }) => [unslicePrim(g, attrs.dim, attrs.start, attrs.step, x.shape[attrs.dim])],
  unslice: (g, { inputs: [x], attrs }) => [slicePrim(g, attrs.dim, attrs.start, attrs.step, x.shape[attrs.dim])],
  pad: (g, { inputs: [x], attrs }) => {
    let r = g;
    attrs.pads.forEach(([before], d) => (r = slicePrim(r, d, before, 1, x.shape[d])));
    return [r];
  },
  cat: (g, { inputs, attrs }) => {
    let off = 0;
    return inputs.map((t) => {
      const r = needs(t) ? slicePrim(g, attrs.dim, off, 1, t.shape[attrs.dim]) : null;
      off += t.shape[attrs.dim];
      return r;
    });
  },
  gather: (g, { inputs: [x, idx], attrs }) => [scatterAddPrim(g, attrs.dim, idx, x.shape[attrs.dim], attrs.windows), null],
  scatterAdd: (g, { inputs: [, idx], attrs }) => [gatherPrim(g, attrs.dim, idx, undefined, attrs.windows), null],
  matmul: (g, { inputs: [a, b], attrs: { transA, transB } }) => [
    // C = op(A)·op(B): dop(A) = g·op(B)ᵀ, dop(B) = op(A)ᵀ·g, with the transposes folded into flags.
    needs(a) ? sumTo(transA ? matmulPrim(b, g, transB, true) : matmulPrim(g, b, false, !transB), a.shape) : null,
    needs(b) ? sumTo(transB ? matmulPrim(g, a, true, transA) : matmulPrim(a, g, !transA, false), b.shape) : null,
  ],
  im2col: (g, { attrs }) => [col2imPrim(g, attrs.geom)],
  col2im: (g, { attrs }) => [im2colPrim(g, attrs.geom, 0)],
  // y = A_w x is bilinear in (x, w); its two adjoints are bilinear too, so the three close under
  // differentiation: ⟨A_w x, gy⟩ = ⟨x, A_wᵀ gy⟩ = ⟨w, W(x, gy)⟩.
  conv2d: (g, { inputs: [x, w, b], attrs: { geom } }) => [
    needs(x) ? conv2dBackwardInputPrim(g, w, geom) : null,
    needs(w) ? conv2dBackwardWeightPrim(x, g, geom) : null,
    ...(b ? [needs(b) ? sumPrim(g, [0, 2, 3], false) : null] : []),
  ],
  conv2dBackwardInput: (g, { inputs: [gy, w], attrs: { geom } }) => [
    needs(gy) ? conv2dPrim(g, w, geom) : null,
    needs(w) ? conv2dBackwardWeightPrim(g, gy, geom) : null,
  ],
  conv2dBackwardWeight: (g, { inputs: [x, gy], attrs: { geom } }) => [
    needs(x) ? conv2dBackwardInputPrim(gy, g, geom) : null,
    needs(gy) ? conv2dPrim(x, g, geom) : null,
  ],
  batchNorm: (g, { inputs: [x, w, b], out, attrs }) => {
    // a fused ReLU's backward first (as the relu rule: g·step(y)), then batch norm's
    if (isGradEnabled()) return attrs.differentiable(attrs.relu ? mul(g, stepMask(out)) : g);
    const { n, c, inner, mean, invstd, training } = attrs;
    const scale = new Float64Array(c);
    for (let ch = 0; ch < c; ch++) scale[ch] = invstd[ch] * w.data[ch];
    const gx = needs(x) ? allocOut(x.dtype, x.shape) : null;
    const sumG = new Float64Array(c),
      sumGXhat = new Float64Array(c);
    getBackend().fused.batchNormBackward(
      g.data,
      x.data,
      n,
      c,
      inner,
      mean,
      invstd,
      scale,
      training,
      gx ? gx.data : null,
      sumG,
      sumGXhat,
      attrs.relu ? out.data : null,
    );
    const perChannel = (v: Float64Array, like: Tensor) => {
      const t = alloc(like.dtype, [c]);
      t.data.set(v);
      return t;
    };
    return [gx, needs(w) ? perChannel(sumGXhat, w) : null, needs(b) ? perChannel(sumG, b) : null];
  },
};

/** Gradient of maximum/minimum: to the winner, split evenly on ties (as PyTorch 1.13). */
function tieSplit(g: Tensor, a: Tensor, b: Tensor, win: "gt" | "lt"): (Tensor | null)[] {
  const wa = binaryPrim("add", binaryPrim(win, a, b), mul(binaryPrim("eq", a, b), scalar(0.5, g)));
  const wb = binaryPrim("sub", scalar(1, wa), wa);
  return [needs(a) ? sumTo(mul(g, wa), a.shape) : null, needs(b) ? sumTo(mul(g, wb), b.shape) : null];
}
