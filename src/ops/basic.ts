// Public tensor ops: elementwise math with broadcasting, reductions, matmul, shape movement and indexing.

import { Tensor } from "../tensor/tensor.js";
import { isFloating, type DType } from "../tensor/dtype.js";
import { fmt, normDim, normDims, numel } from "../tensor/shape.js";
import { full } from "./creation.js";
import * as P from "./prims.js";
import { positionalOptions } from "./args.js";

export type Scalar = number;
export type TensorLike = Tensor | Scalar;

function checkTensor(x: unknown, op: string, name = "input"): Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: ${name} must be a Tensor, got ${x === null ? "null" : typeof x}`);
  return x;
}

/** A number becomes a 0-d tensor of the other operand's dtype (float32 if that is int32 and the number is not an integer). */
function asTensor(v: TensorLike, like: TensorLike, op: string): Tensor {
  if (v instanceof Tensor) return v;
  if (typeof v !== "number") throw new TypeError(`${op}: expected a Tensor or a number, got ${v === null ? "null" : typeof v}`);
  const dtype: DType = like instanceof Tensor ? (like.dtype === "int32" && !Number.isInteger(v) ? "float32" : like.dtype) : "float32";
  return full([], v, { dtype });
}

function bin(op: "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum", a: TensorLike, b: TensorLike): Tensor {
  let x = asTensor(a, b, op), y = asTensor(b, a, op);
  if (op === "div" && x.dtype === "int32" && y.dtype === "int32") { x = P.castPrim(x, "float32"); y = P.castPrim(y, "float32"); }
  return P.binaryPrim(op, x, y);
}

function cmp(op: "gt" | "ge" | "lt" | "le" | "eq" | "ne", a: TensorLike, b: TensorLike): Tensor {
  return P.binaryPrim(op, asTensor(a, b, op), asTensor(b, a, op));
}

/** Floating-point view of x for transcendental ops (int32 promotes to float32, as in PyTorch). */
function floating(x: Tensor, op: string): Tensor {
  checkTensor(x, op);
  return isFloating(x.dtype) ? x : P.castPrim(x, "float32");
}

/** a + b, broadcasting. */ export const add = (a: TensorLike, b: TensorLike): Tensor => bin("add", a, b);
/** a − b, broadcasting. */ export const sub = (a: TensorLike, b: TensorLike): Tensor => bin("sub", a, b);
/** a · b elementwise, broadcasting. */ export const mul = (a: TensorLike, b: TensorLike): Tensor => bin("mul", a, b);
/** a / b (true division: int32 operands give float32), broadcasting. */ export const div = (a: TensorLike, b: TensorLike): Tensor => bin("div", a, b);
/** a ** b elementwise, broadcasting. */ export const pow = (a: TensorLike, b: TensorLike): Tensor => bin("pow", a, b);
/** Elementwise max; the gradient is split evenly on ties. */ export const maximum = (a: TensorLike, b: TensorLike): Tensor => bin("maximum", a, b);
/** Elementwise min; the gradient is split evenly on ties. */ export const minimum = (a: TensorLike, b: TensorLike): Tensor => bin("minimum", a, b);
/** 1 where a > b else 0 (same dtype as the inputs; no gradient). */ export const gt = (a: TensorLike, b: TensorLike): Tensor => cmp("gt", a, b);
export const ge = (a: TensorLike, b: TensorLike): Tensor => cmp("ge", a, b);
export const lt = (a: TensorLike, b: TensorLike): Tensor => cmp("lt", a, b);
export const le = (a: TensorLike, b: TensorLike): Tensor => cmp("le", a, b);
export const eq = (a: TensorLike, b: TensorLike): Tensor => cmp("eq", a, b);
export const ne = (a: TensorLike, b: TensorLike): Tensor => cmp("ne", a, b);

export const neg = (x: Tensor): Tensor => P.unaryPrim("neg", checkTensor(x, "neg"));
export const exp = (x: Tensor): Tensor => P.unaryPrim("exp", floating(x, "exp"));
export const log = (x: Tensor): Tensor => P.unaryPrim("log", floating(x, "log"));
/** log(1 + x), accurate for small x. */
export const log1p = (x: Tensor): Tensor => P.unaryPrim("log1p", floating(x, "log1p"));
export const sqrt = (x: Tensor): Tensor => P.unaryPrim("sqrt", floating(x, "sqrt"));
export const rsqrt = (x: Tensor): Tensor => div(1, sqrt(x));
export const abs = (x: Tensor): Tensor => P.unaryPrim("abs", checkTensor(x, "abs"));
export const sign = (x: Tensor): Tensor => P.unaryPrim("sign", checkTensor(x, "sign"));
export const square = (x: Tensor): Tensor => mul(x, x);
export const relu = (x: Tensor): Tensor => P.unaryPrim("relu", checkTensor(x, "relu"));
export const sigmoid = (x: Tensor): Tensor => P.unaryPrim("sigmoid", floating(x, "sigmoid"));
export const tanh = (x: Tensor): Tensor => P.unaryPrim("tanh", floating(x, "tanh"));
/** log(1 + exp(x)), exact in both tails; its derivative is σ(x). */
export const softplus = (x: Tensor): Tensor => P.unaryPrim("softplus", floating(x, "softplus"));
/** log σ(x) = −softplus(−x), finite for any x. */
export const logSigmoid = (x: Tensor): Tensor => neg(softplus(neg(x)));

/** Clamp into [min, max]; either bound may be omitted. The gradient passes where min ≤ x ≤ max. */
export function clamp(x: Tensor, opts: { min?: number | null; max?: number | null }): Tensor;
/** PyTorch's positional order, `torch.clamp(input, min, max)`. */
export function clamp(x: Tensor, min: number | null | undefined, max?: number | null): Tensor;
export function clamp(x: Tensor, ...args: unknown[]): Tensor {
  checkTensor(x, "clamp");
  const opts = positionalOptions<{ min?: number | null; max?: number | null }>("clamp", ["min", "max"], args);
  for (const k of ["min", "max"] as const) {
    if (opts[k] != null && typeof opts[k] !== "number") throw new TypeError(`clamp: ${k} must be a number, got ${typeof opts[k]}`);
  }
  const lo = opts.min ?? -Infinity, hi = opts.max ?? Infinity;
  if (opts.min == null && opts.max == null) throw new RangeError("clamp: at least one of 'min' or 'max' must be given");
  return P.clampPrim(x, lo, hi);
}

/** cond ? a : b elementwise, broadcasting all three. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  checkTensor(cond, "where", "condition");
  return P.wherePrim(cond, asTensor(a, b, "where"), asTensor(b, a, "where"));
}

/** Convert to another dtype (differentiable between float types). */
export function cast(x: Tensor, dtype: DType): Tensor {
  return P.castPrim(checkTensor(x, "to"), dtype);
}

export function clone(x: Tensor): Tensor {
  return add(x, full([], 0, { dtype: x.dtype }));
}

// ---------------------------------------------------------------- reductions

export interface ReduceOptions { keepdim?: boolean }
export interface VarOptions extends ReduceOptions {
  /** Bessel's correction (divide by n − 1); default true, as `torch.var`. */
  unbiased?: boolean;
  /** Degrees of freedom subtracted from n; overrides `unbiased` (PyTorch's `correction`). */
  correction?: number;
}

/** Sum over `dim` (a dim, a list, or all when omitted). */
export function sum(x: Tensor, dim?: number | readonly number[] | null, opts: ReduceOptions = {}): Tensor {
  checkTensor(x, "sum");
  return P.sumPrim(x, normDims(dim, x.ndim, "sum"), opts.keepdim ?? false);
}

/** Mean over `dim` (a dim, a list, or all when omitted). */
export function mean(x: Tensor, dim?: number | readonly number[] | null, opts: ReduceOptions = {}): Tensor {
  checkTensor(x, "mean");
  if (!isFloating(x.dtype)) throw new TypeError(`mean: input dtype should be floating point, got ${x.dtype}`);
  const dims = normDims(dim, x.ndim, "mean");
  const n = dims.reduce((acc, d) => acc * x.shape[d], 1);
  return div(P.sumPrim(x, dims, opts.keepdim ?? false), n);
}

/** Variance over `dim`; unbiased (n − 1) by default, like `torch.var`. */
export function variance(x: Tensor, dim?: number | readonly number[] | null, opts: VarOptions = {}): Tensor {
  checkTensor(x, "var");
  const dims = normDims(dim, x.ndim, "var");
  const n = dims.reduce((acc, d) => acc * x.shape[d], 1);
  const correction = opts.correction ?? (opts.unbiased === false ? 0 : 1);
  const centered = sub(x, mean(x, dims, { keepdim: true }));
  return div(P.sumPrim(mul(centered, centered), dims, opts.keepdim ?? false), Math.max(0, n - correction));
}

export function std(x: Tensor, dim?: number | readonly number[] | null, opts: VarOptions = {}): Tensor {
  return sqrt(variance(x, dim, opts));
}

/** Move `dims` to the end and merge them into one, so a multi-dim reduction becomes a single-dim one. */
function mergeDims(x: Tensor, dims: number[]): Tensor {
  const rest = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
  const moved = P.permutePrim(x, [...rest, ...dims]);
  return P.reshapePrim(moved, [...rest.map((i) => x.shape[i]), numel(dims.map((d) => x.shape[d]))]);
}

function extreme(x: Tensor, dim: number | readonly number[] | null | undefined, keepdim: boolean, isMax: boolean, op: string): Tensor {
  checkTensor(x, op);
  const dims = normDims(dim, x.ndim, op);
  if (x.ndim === 0) return x;
  if (dims.length === 1) return P.extremeDimPrim(x, dims[0], keepdim, isMax);
  const r = P.extremeDimPrim(mergeDims(x, dims), x.ndim - dims.length, false, isMax);
  return keepdim ? P.reshapePrim(r, x.shape.map((s, i) => (dims.includes(i) ? 1 : s))) : r;
}

/**
 * Maximum: of all elements when `dim` is omitted, else along `dim` (values only; use `argmax` for the
 * indices). The gradient goes to the first maximal element.
 */
export function max(x: Tensor, dim?: number | null, opts: ReduceOptions = {}): Tensor {
  return extreme(x, dim, opts.keepdim ?? false, true, "max");
}
export function min(x: Tensor, dim?: number | null, opts: ReduceOptions = {}): Tensor {
  return extreme(x, dim, opts.keepdim ?? false, false, "min");
}
/** Maximum over one or several dims (gradient to the first maximal element). */
export function amax(x: Tensor, dim?: number | readonly number[] | null, opts: ReduceOptions = {}): Tensor {
  return extreme(x, dim, opts.keepdim ?? false, true, "amax");
}
export function amin(x: Tensor, dim?: number | readonly number[] | null, opts: ReduceOptions = {}): Tensor {
  return extreme(x, dim, opts.keepdim ?? false, false, "amin");
}

function argExt(x: Tensor, dim: number | null | undefined, keepdim: boolean, isMax: boolean): Tensor {
  const op = isMax ? "argmax" : "argmin";
  checkTensor(x, op);
  if (dim === undefined || dim === null) return P.argExtreme(P.reshapePrim(x, [x.data.length]), 0, false, isMax);
  return P.argExtreme(x, normDim(dim, x.ndim, op), keepdim, isMax);
}
/** Index of the first maximum (int32), over all elements (flattened) or along `dim`. */
export const argmax = (x: Tensor, dim?: number | null, opts: ReduceOptions = {}): Tensor => argExt(x, dim, opts.keepdim ?? false, true);
export const argmin = (x: Tensor, dim?: number | null, opts: ReduceOptions = {}): Tensor => argExt(x, dim, opts.keepdim ?? false, false);

/** log Σ exp(x) over `dim`, stable for large inputs. */
export function logsumexp(x: Tensor, dim: number | readonly number[], opts: ReduceOptions = {}): Tensor {
  const dims = normDims(dim, x.ndim, "logsumexp");
  const m = amax(x, dims, { keepdim: true }).detach();
  const mSafe = where(isFiniteMask(m), m, 0);
  const r = add(log(sum(exp(sub(x, mSafe)), dims, { keepdim: true })), mSafe);
  return opts.keepdim ? r : P.reshapePrim(r, x.shape.filter((_, i) => !dims.includes(i)));
}

function isFiniteMask(t: Tensor): Tensor {
  return mul(eq(t, t), lt(abs(t), Infinity));
}

// ---------------------------------------------------------------- matmul

/**
 * Matrix product with PyTorch's rules: 1-D·1-D is a dot product, 1-D operands get a dim added then
 * removed, and batch dims broadcast.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor(a, "matmul"); checkTensor(b, "matmul");
  if (a.ndim === 0 || b.ndim === 0) throw new RangeError(`matmul: both arguments need at least 1 dimension, got shapes ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const k = (t: Tensor, left: boolean) => (t.ndim === 1 ? t.shape[0] : left ? t.shape[t.ndim - 1] : t.shape[t.ndim - 2]);
  if (k(a, true) !== k(b, false)) {
    throw new RangeError(`matmul: shapes ${fmt(a.shape)} and ${fmt(b.shape)} cannot be multiplied (${k(a, true)} != ${k(b, false)})`);
  }
  const a2 = a.ndim === 1 ? P.reshapePrim(a, [1, a.shape[0]]) : a;
  const b2 = b.ndim === 1 ? P.reshapePrim(b, [b.shape[0], 1]) : b;
  let out = P.matmulPrim(a2, b2);
  if (a.ndim === 1 || b.ndim === 1) {
    const s = [...out.shape];
    if (b.ndim === 1) s.splice(s.length - 1, 1);
    if (a.ndim === 1) s.splice(s.length - (b.ndim === 1 ? 1 : 2), 1);
    out = P.reshapePrim(out, s);
  }
  return out;
}
export const mm = matmul;
export const bmm = matmul;
/** Dot product of two 1-D tensors. */
export function dot(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 1 || b.ndim !== 1) throw new RangeError(`dot: 1D tensors expected, but got ${a.ndim}D and ${b.ndim}D tensors`);
  return matmul(a, b);
}

// ---------------------------------------------------------------- movement

/** Same elements, new shape; one entry may be −1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor(x, "reshape");
  const s = [...shape];
  const neg = s.filter((d) => d === -1).length;
  if (neg > 1) throw new RangeError(`reshape: only one dimension can be inferred, got ${fmt(shape)}`);
  const known = s.reduce((acc, d) => (d === -1 ? acc : acc * d), 1);
  if (s.some((d) => !Number.isInteger(d) || d < -1)) throw new RangeError(`reshape: invalid shape ${fmt(shape)}`);
  if (neg === 1) {
    if (known === 0 || x.data.length % known !== 0) throw new RangeError(`reshape: shape ${fmt(shape)} is invalid for input of size ${x.data.length}`);
    s[s.indexOf(-1)] = x.data.length / known;
  }
  if (numel(s) !== x.data.length) throw new RangeError(`reshape: shape ${fmt(shape)} is invalid for input of size ${x.data.length} (shape ${fmt(x.shape)})`);
  return P.reshapePrim(x, s);
}
export const view = reshape;

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normDim(startDim, x.ndim, "flatten"), e = normDim(endDim, x.ndim, "flatten");
  if (s > e) throw new RangeError(`flatten: start_dim ${startDim} cannot come after end_dim ${endDim}`);
  const shape = [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return P.reshapePrim(x, shape);
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  checkTensor(x, "permute");
  if (dims.length !== x.ndim) throw new RangeError(`permute: number of dims don't match (got ${dims.length} dims for a tensor of shape ${fmt(x.shape)})`);
  const perm = dims.map((d) => normDim(d, x.ndim, "permute"));
  if (new Set(perm).size !== perm.length) throw new RangeError(`permute: repeated dim in [${dims.join(", ")}]`);
  return P.permutePrim(x, perm);
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normDim(dim0, x.ndim, "transpose"), b = normDim(dim1, x.ndim, "transpose");
  const perm = x.shape.map((_, i) => i);
  perm[a] = b; perm[b] = a;
  return P.permutePrim(x, perm);
}

/** Transpose of a ≤2-D tensor. */
export function t(x: Tensor): Tensor {
  if (x.ndim > 2) throw new RangeError(`t: expects a tensor with <= 2 dimensions, but input has ${x.ndim} (shape ${fmt(x.shape)})`);
  return x.ndim < 2 ? x : transpose(x, 0, 1);
}

export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  const dims = dim === undefined ? x.shape.map((_, i) => i) : normDims(dim, x.ndim, "squeeze");
  return P.reshapePrim(x, x.shape.filter((s, i) => !(s === 1 && dims.includes(i))));
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim(dim, x.ndim + 1, "unsqueeze");
  const s = [...x.shape];
  s.splice(d, 0, 1);
  return P.reshapePrim(x, s);
}

/** Broadcast to `shape` (−1 keeps a size); materialised as a copy. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor(x, "expand");
  if (shape.length < x.ndim) throw new RangeError(`expand: the number of sizes provided (${shape.length}) must be greater or equal to the number of dimensions in the tensor (${x.ndim})`);
  const off = shape.length - x.ndim;
  const target = shape.map((s, i) => (s === -1 ? x.shape[i - off] : s));
  x.shape.forEach((s, i) => {
    if (s !== 1 && s !== target[i + off]) {
      throw new RangeError(`expand: the expanded size of the tensor (${target[i + off]}) must match the existing size (${s}) at non-singleton dimension ${i + off}; target ${fmt(shape)}, tensor ${fmt(x.shape)}`);
    }
  });
  return P.expandPrim(x, target);
}

/** Concatenate along `dim`; all other sizes must agree. */
export function cat(xs: readonly Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new RangeError("cat: expected a non-empty list of Tensors");
  xs.forEach((x) => checkTensor(x, "cat"));
  const d = normDim(dim, xs[0].ndim, "cat");
  for (const x of xs) {
    if (x.ndim !== xs[0].ndim || x.shape.some((s, i) => i !== d && s !== xs[0].shape[i])) {
      throw new RangeError(`cat: sizes of tensors must match except in dimension ${d}; got ${xs.map((y) => fmt(y.shape)).join(" and ")}`);
    }
  }
  let list = [...xs];
  const dtype = list.reduce((acc, x) => (acc === "float64" || x.dtype === "float64" ? "float64" : acc === "float32" || x.dtype === "float32" ? "float32" : "int32"), list[0].dtype);
  list = list.map((x) => (x.dtype === dtype ? x : P.castPrim(x, dtype)));
  return list.length === 1 ? list[0] : P.catPrim(list, d);
}

/** Stack equally shaped tensors along a new `dim`. */
export function stack(xs: readonly Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new RangeError("stack: expected a non-empty list of Tensors");
  const d = normDim(dim, xs[0].ndim + 1, "stack");
  for (const x of xs) {
    if (x.ndim !== xs[0].ndim || x.shape.some((s, i) => s !== xs[0].shape[i])) {
      throw new RangeError(`stack: expects each tensor to be equal size, but got ${fmt(xs[0].shape)} and ${fmt(x.shape)}`);
    }
  }
  return cat(xs.map((x) => unsqueeze(x, d)), d);
}

/** `length` elements of `dim` from `start`. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim(dim, x.ndim, "narrow");
  const size = x.shape[d];
  const s = start < 0 ? start + size : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > size) {
    throw new RangeError(`narrow: start (${start}) + length (${length}) exceeds dimension size (${size}) of dim ${d} in shape ${fmt(x.shape)}`);
  }
  return P.slicePrim(x, d, s, 1, length);
}

/** Split into pieces of `splitSize` (the last may be smaller), or of the listed sizes. */
export function split(x: Tensor, splitSize: number | readonly number[], dim = 0): Tensor[] {
  const d = normDim(dim, x.ndim, "split");
  const size = x.shape[d];
  let sizes: number[];
  if (typeof splitSize === "number") {
    if (!(splitSize > 0)) throw new RangeError(`split: split_size must be positive, got ${splitSize}`);
    sizes = [];
    for (let s = 0; s < size; s += splitSize) sizes.push(Math.min(splitSize, size - s));
  } else {
    sizes = [...splitSize];
    if (sizes.reduce((a, b) => a + b, 0) !== size) throw new RangeError(`split: split sizes [${sizes.join(", ")}] do not sum to ${size} (dim ${d} of ${fmt(x.shape)})`);
  }
  let off = 0;
  return sizes.map((n) => { const r = P.slicePrim(x, d, off, 1, n); off += n; return r; });
}

export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  const d = normDim(dim, x.ndim, "chunk");
  return split(x, Math.ceil(x.shape[d] / chunks), d);
}

/** One entry of an index: an integer picks (and drops the dim), `[start, end, step]` slices, null keeps all. */
export type IndexSpec = number | null | readonly [number | null, (number | null)?, (number | null)?];

/** Basic slicing, like `x[1, 2:5, ::2]` in Python: `index(x, [1, [2, 5], [null, null, 2]])`. */
export function index(x: Tensor, spec: readonly IndexSpec[]): Tensor {
  if (spec.length > x.ndim) throw new RangeError(`index: too many indices for tensor of dimension ${x.ndim} (got ${spec.length})`);
  let r = x;
  const drop: number[] = [];
  spec.forEach((s, d) => {
    const size = x.shape[d];
    if (s === null) return;
    if (typeof s === "number") {
      const i = s < 0 ? s + size : s;
      if (!Number.isInteger(i) || i < 0 || i >= size) throw new RangeError(`index: index ${s} is out of bounds for dimension ${d} with size ${size}`);
      r = P.slicePrim(r, d, i, 1, 1);
      drop.push(d);
      return;
    }
    const step = s[2] ?? 1;
    if (!(step > 0) || !Number.isInteger(step)) throw new RangeError(`index: slice step must be a positive integer, got ${step}`);
    const clampIdx = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
    const start = clampIdx(s[0] ?? 0), end = clampIdx(s[1] ?? size);
    const length = Math.max(0, Math.ceil((end - start) / step));
    r = P.slicePrim(r, d, start, step, length);
  });
  return drop.length ? P.reshapePrim(r, r.shape.filter((_, i) => !drop.includes(i))) : r;
}

/** out[i][j] = x[i][index[i][j]] along `dim` (index int32, same sizes as x outside `dim`). */
export function gather(x: Tensor, dim: number, idx: Tensor): Tensor {
  checkTensor(x, "gather"); checkTensor(idx, "gather", "index");
  if (idx.dtype !== "int32") throw new TypeError(`gather: index must be an int32 tensor, got ${idx.dtype}`);
  const d = normDim(dim, x.ndim, "gather");
  if (idx.ndim !== x.ndim || idx.shape.some((s, i) => i !== d && s !== x.shape[i])) {
    throw new RangeError(`gather: index shape ${fmt(idx.shape)} must match input shape ${fmt(x.shape)} in every dim but ${d}`);
  }
  const size = x.shape[d];
  const id = idx.data;
  for (let i = 0; i < id.length; i++) {
    if (id[i] < 0 || id[i] >= size) throw new RangeError(`gather: index ${id[i]} is out of bounds for dimension ${d} with size ${size}`);
  }
  return P.gatherPrim(x, d, idx);
}
