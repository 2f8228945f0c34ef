// Public tensor math: elementwise ops with broadcasting, comparisons, reductions, matmul and linear.

import { labelGradFn } from "./format.js";
import { Tensor } from "../tensor/tensor.js";
import { isFloating, promote, type DType, type TypedArray } from "../tensor/dtype.js";
import { broadcastShapes, fmt, normDim, normDims, numel, shapeEq } from "../tensor/shape.js";
import { full } from "./creation.js";
import * as P from "./prims.js";
import { isTracing, traceOp } from "./trace.js";
import { bumpVersion, isGradEnabled, recordsGradient } from "../autograd/engine.js";
import { optionsArg, positionalOptions } from "./args.js";
import { surplus } from "../surplus.js";

export type Scalar = number;
export type TensorLike = Tensor | Scalar;

export function checkTensor(x: unknown, op: string, name = "input"): Tensor {
  if (arguments.length > 3) surplus(arguments, "checkTensor(x, op, name)");
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
  let x = asTensor(a, b, op),
    y = asTensor(b, a, op);
  if (op === "div" && x.dtype === "int32" && y.dtype === "int32") {
    x = P.castPrim(x, "float32");
    y = P.castPrim(y, "float32");
  }
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

/** a + b, broadcasting. */
export function add(a: TensorLike, b: TensorLike): Tensor {
  if (arguments.length > 2) surplus(arguments, "add(a, b)");
  return bin("add", a, b);
}
/** a − b, broadcasting. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  if (arguments.length > 2) surplus(arguments, "sub(a, b)");
  return bin("sub", a, b);
}
/** a · b elementwise, broadcasting. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  if (arguments.length > 2) surplus(arguments, "mul(a, b)");
  return bin("mul", a, b);
}
/** a / b (true division: int32 operands give float32), broadcasting. */
export function div(a: TensorLike, b: TensorLike): Tensor {
  if (arguments.length > 2) surplus(arguments, "div(a, b)");
  return bin("div", a, b);
}
/** a ** b elementwise, broadcasting. */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  if (arguments.length > 2) surplus(arguments, "pow(a, b)");
  return bin("pow", a, b);
}
/** Elementwise max; the gradient is split evenly on ties. */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  if (arguments.length > 2) surplus(arguments, "maximum(a, b)");
  return bin("maximum", a, b);
}
/** Elementwise min; the gradient is split evenly on ties. */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  if (arguments.length > 2) surplus(arguments, "minimum(a, b)");
  return bin("minimum", a, b);
}
/** 1 where a > b else 0 (same dtype as the inputs; no gradient). */
export function gt(a: TensorLike, b: TensorLike): Tensor {
  if (arguments.length > 2) surplus(arguments, "gt(a, b)");
  return cmp("gt", a, b);
}
export function ge(a: TensorLike, b: TensorLike): Tensor {
  if (arguments.length > 2) surplus(arguments, "ge(a, b)");
  return cmp("ge", a, b);
}
export function lt(a: TensorLike, b: TensorLike): Tensor {
  if (arguments.length > 2) surplus(arguments, "lt(a, b)");
  return cmp("lt", a, b);
}
export function le(a: TensorLike, b: TensorLike): Tensor {
  if (arguments.length > 2) surplus(arguments, "le(a, b)");
  return cmp("le", a, b);
}
export function eq(a: TensorLike, b: TensorLike): Tensor {
  if (arguments.length > 2) surplus(arguments, "eq(a, b)");
  return cmp("eq", a, b);
}
export function ne(a: TensorLike, b: TensorLike): Tensor {
  if (arguments.length > 2) surplus(arguments, "ne(a, b)");
  return cmp("ne", a, b);
}

export function neg(x: Tensor): Tensor {
  if (arguments.length > 1) surplus(arguments, "neg(x)");
  return P.unaryPrim("neg", checkTensor(x, "neg"));
}
export function exp(x: Tensor): Tensor {
  if (arguments.length > 1) surplus(arguments, "exp(x)");
  return P.unaryPrim("exp", floating(x, "exp"));
}
export function log(x: Tensor): Tensor {
  if (arguments.length > 1) surplus(arguments, "log(x)");
  return P.unaryPrim("log", floating(x, "log"));
}
/** log(1 + x), accurate for small x. */
export function log1p(x: Tensor): Tensor {
  if (arguments.length > 1) surplus(arguments, "log1p(x)");
  return P.unaryPrim("log1p", floating(x, "log1p"));
}
export function sqrt(x: Tensor): Tensor {
  if (arguments.length > 1) surplus(arguments, "sqrt(x)");
  return P.unaryPrim("sqrt", floating(x, "sqrt"));
}
export function rsqrt(x: Tensor): Tensor {
  if (arguments.length > 1) surplus(arguments, "rsqrt(x)");
  return div(1, sqrt(x));
}
export function abs(x: Tensor): Tensor {
  if (arguments.length > 1) surplus(arguments, "abs(x)");
  return P.unaryPrim("abs", checkTensor(x, "abs"));
}
export function sign(x: Tensor): Tensor {
  if (arguments.length > 1) surplus(arguments, "sign(x)");
  return P.unaryPrim("sign", checkTensor(x, "sign"));
}
export function square(x: Tensor): Tensor {
  if (arguments.length > 1) surplus(arguments, "square(x)");
  return mul(x, x);
}
export function relu(x: Tensor): Tensor {
  if (arguments.length > 1) surplus(arguments, "relu(x)");
  return P.unaryPrim("relu", checkTensor(x, "relu"));
}
export function sigmoid(x: Tensor): Tensor {
  if (arguments.length > 1) surplus(arguments, "sigmoid(x)");
  return P.unaryPrim("sigmoid", floating(x, "sigmoid"));
}
export function tanh(x: Tensor): Tensor {
  if (arguments.length > 1) surplus(arguments, "tanh(x)");
  return P.unaryPrim("tanh", floating(x, "tanh"));
}
/** log(1 + exp(x)), exact in both tails; its derivative is σ(x). */
export function softplus(x: Tensor): Tensor {
  if (arguments.length > 1) surplus(arguments, "softplus(x)");
  return P.unaryPrim("softplus", floating(x, "softplus"));
}
/** log σ(x) = −softplus(−x), finite for any x. */
export function logSigmoid(x: Tensor): Tensor {
  if (arguments.length > 1) surplus(arguments, "logSigmoid(x)");
  return neg(softplus(neg(x)));
}

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
  const lo = opts.min ?? -Infinity,
    hi = opts.max ?? Infinity;
  if (opts.min == null && opts.max == null) throw new RangeError("clamp: at least one of 'min' or 'max' must be given");
  return P.clampPrim(x, lo, hi);
}

/** cond ? a : b elementwise, broadcasting all three. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (arguments.length > 3) surplus(arguments, "where(cond, a, b)");
  checkTensor(cond, "where", "condition");
  return P.wherePrim(cond, asTensor(a, b, "where"), asTensor(b, a, "where"));
}

/** Convert to another dtype (differentiable between float types). */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (arguments.length > 2) surplus(arguments, "cast(x, dtype)");
  return P.castPrim(checkTensor(x, "to"), dtype);
}

export function clone(x: Tensor): Tensor {
  if (arguments.length > 1) surplus(arguments, "clone(x)");
  return add(x, full([], 0, { dtype: x.dtype }));
}

// ---------------------------------------------------------------- reductions

export interface ReduceOptions {
  keepdim?: boolean;
}
/** `keepdim` from a reduction's options object (any other key is a TypeError naming `op`). */
/** A reduction's keepdim: PyTorch's positional boolean (`sum(x, 1, true)`) or `{ keepdim }`. */
function keepdim(opts: unknown, op: string): boolean {
  if (typeof opts === "boolean") return opts;
  return optionsArg<ReduceOptions>(opts, op, ["keepdim"]).keepdim ?? false;
}

export interface VarOptions extends ReduceOptions {
  /** Bessel's correction (divide by n − 1); default true, as `torch.var`. */
  unbiased?: boolean;
  /** Degrees of freedom subtracted from n; overrides `unbiased` (PyTorch's `correction`). */
  correction?: number;
}

/** Sum over `dim` (a dim, a list, or all when omitted). */
export function sum(x: Tensor, dim?: number | readonly number[] | null, opts: ReduceOptions | boolean = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "sum(x, dim, opts)");
  checkTensor(x, "sum");
  return P.sumPrim(x, normDims(dim, x.ndim, "sum"), keepdim(opts, "sum"));
}

/** Mean over `dim` (a dim, a list, or all when omitted). */
export function mean(x: Tensor, dim?: number | readonly number[] | null, opts: ReduceOptions | boolean = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "mean(x, dim, opts)");
  checkTensor(x, "mean");
  if (!isFloating(x.dtype)) throw new TypeError(`mean: input dtype should be floating point, got ${x.dtype}`);
  const dims = normDims(dim, x.ndim, "mean");
  const n = dims.reduce((acc, d) => acc * x.shape[d], 1);
  return labelGradFn(
    div(P.sumPrim(x, dims, keepdim(opts, "mean")), n),
    dim === undefined || dim === null ? "MeanBackward0" : "MeanBackward1",
  );
}

/** Variance over `dim`; unbiased (n − 1) by default, like `torch.var`. */
export function variance(x: Tensor, dim?: number | readonly number[] | null, options: VarOptions = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "variance(x, dim, options)");
  checkTensor(x, "var");
  const opts = optionsArg<VarOptions>(options, "var", ["keepdim", "unbiased", "correction"]);
  const dims = normDims(dim, x.ndim, "var");
  const n = dims.reduce((acc, d) => acc * x.shape[d], 1);
  const correction = opts.correction ?? (opts.unbiased === false ? 0 : 1);
  const centered = sub(x, mean(x, dims, { keepdim: true }));
  return div(P.sumPrim(mul(centered, centered), dims, opts.keepdim ?? false), Math.max(0, n - correction));
}

export function std(x: Tensor, dim?: number | readonly number[] | null, opts: VarOptions = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "std(x, dim, opts)");
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
  return keepdim
    ? P.reshapePrim(
        r,
        x.shape.map((s, i) => (dims.includes(i) ? 1 : s)),
      )
    : r;
}

/**
 * Maximum: of all elements when `dim` is omitted, else along `dim` (values only; use `argmax` for the
 * indices). The gradient goes to the first maximal element.
 */
export function max(x: Tensor, dim?: number | null, opts: ReduceOptions | boolean = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "max(x, dim, opts)");
  return extreme(x, dim, keepdim(opts, "max"), true, "max");
}
export function min(x: Tensor, dim?: number | null, opts: ReduceOptions | boolean = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "min(x, dim, opts)");
  return extreme(x, dim, keepdim(opts, "min"), false, "min");
}
/** Maximum over one or several dims (gradient to the first maximal element). */
export function amax(x: Tensor, dim?: number | readonly number[] | null, opts: ReduceOptions | boolean = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "amax(x, dim, opts)");
  return extreme(x, dim, keepdim(opts, "amax"), true, "amax");
}
export function amin(x: Tensor, dim?: number | readonly number[] | null, opts: ReduceOptions | boolean = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "amin(x, dim, opts)");
  return extreme(x, dim, keepdim(opts, "amin"), false, "amin");
}

function argExt(x: Tensor, dim: number | null | undefined, keepdim: boolean, isMax: boolean): Tensor {
  const op = isMax ? "argmax" : "argmin";
  checkTensor(x, op);
  if (dim === undefined || dim === null) return P.argExtreme(P.reshapePrim(x, [x.data.length]), 0, false, isMax);
  return P.argExtreme(x, normDim(dim, x.ndim, op), keepdim, isMax);
}
/** Index of the first maximum (int32), over all elements (flattened) or along `dim`. */
export function argmax(x: Tensor, dim?: number | null, opts: ReduceOptions | boolean = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "argmax(x, dim, opts)");
  return argExt(x, dim, keepdim(opts, "argmax"), true);
}
export function argmin(x: Tensor, dim?: number | null, opts: ReduceOptions | boolean = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "argmin(x, dim, opts)");
  return argExt(x, dim, keepdim(opts, "argmin"), false);
}

/** log Σ exp(x) over `dim`, stable for large inputs. */
export function logsumexp(x: Tensor, dim: number | readonly number[], opts: ReduceOptions | boolean = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "logsumexp(x, dim, opts)");
  const dims = normDims(dim, x.ndim, "logsumexp");
  const keep = keepdim(opts, "logsumexp");
  const m = amax(x, dims, { keepdim: true }).detach();
  const mSafe = where(isFiniteMask(m), m, 0);
  const r = add(log(sum(exp(sub(x, mSafe)), dims, { keepdim: true })), mSafe);
  return keep
    ? r
    : P.reshapePrim(
        r,
        x.shape.filter((_, i) => !dims.includes(i)),
      );
}

function isFiniteMask(t: Tensor): Tensor {
  return mul(eq(t, t), lt(abs(t), Infinity));
}

// ---------------------------------------------------------------- matmul

/** matmul's options: PyTorch's keyword-only `out`. */
export interface MatmulOptions {
  /**
   * A tensor of the product's shape and dtype to write the product into (PyTorch's `out=`); matmul returns
   * it. No new array is made: in a loop, this saves the fresh output's page faults, which cost browsers
   * far more than Node (README, wasm). Unlike PyTorch, a tensor of another shape is an error, not resized.
   */
  out?: Tensor | null;
}

/**
 * Matrix product with PyTorch's rules: 1-D·1-D is a dot product, 1-D operands get a dim added then
 * removed, and batch dims broadcast.
 */
export function matmul(a: Tensor, b: Tensor, opts?: MatmulOptions): Tensor {
  if (arguments.length > 3) surplus(arguments, "matmul(a, b, opts)");
  checkTensor(a, "matmul");
  checkTensor(b, "matmul");
  const into = optionsArg<MatmulOptions>(opts, "matmul", ["out"]).out ?? null;
  if (a.ndim === 0 || b.ndim === 0)
    throw new RangeError(`matmul: both arguments need at least 1 dimension, got shapes ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const k = (t: Tensor, left: boolean) => (t.ndim === 1 ? t.shape[0] : left ? t.shape[t.ndim - 1] : t.shape[t.ndim - 2]);
  if (k(a, true) !== k(b, false)) {
    throw new RangeError(`matmul: shapes ${fmt(a.shape)} and ${fmt(b.shape)} cannot be multiplied (${k(a, true)} != ${k(b, false)})`);
  }
  if (into !== null) checkOut(into, a, b);
  const a2 = a.ndim === 1 ? P.reshapePrim(a, [1, a.shape[0]]) : a;
  const b2 = b.ndim === 1 ? P.reshapePrim(b, [b.shape[0], 1]) : b;
  let out = P.matmulPrim(a2, b2, false, false, into?.data);
  if (into !== null) {
    bumpVersion(into);
    return into;
  }
  if (a.ndim === 1 || b.ndim === 1) out = P.reshapePrim(out, productShape(a, b));
  return out;
}
export const mm = matmul;

/** The shape of matmul(a, b): the broadcast batch dims, then a's rows unless a is 1-D, then b's columns unless b is 1-D. */
function productShape(a: Tensor, b: Tensor): number[] {
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), "matmul");
  return [...batch, ...(a.ndim > 1 ? [a.shape[a.ndim - 2]] : []), ...(b.ndim > 1 ? [b.shape[b.ndim - 1]] : [])];
}

/** matmul's `out`: a tensor of the product's shape and dtype, sharing no memory with an input, outside recording and tracing. */
function checkOut(into: unknown, a: Tensor, b: Tensor): void {
  const out = checkTensor(into, "matmul", "out");
  if (isGradEnabled() && [a, b, out].some((t) => t.requiresGrad))
    throw new Error(
      "matmul: out= does not support automatic differentiation, but one of the arguments requires grad " +
        "(as in PyTorch); call it inside nb.noGrad(() => ...), or leave out `out`",
    );
  if (isTracing()) throw new Error("matmul: out= cannot be traced for ONNX export; leave out `out`");
  const dtype = promote(a.dtype, b.dtype);
  if (out.dtype !== dtype) throw new TypeError(`matmul: out must have the product's dtype ${dtype}, got ${out.dtype}`);
  const shape = productShape(a, b);
  if (!shapeEq(out.shape, shape))
    throw new RangeError(
      `matmul: out has shape ${fmt(out.shape)}, but the product of ${fmt(a.shape)} and ${fmt(b.shape)} has shape ${fmt(shape)}`,
    );
  for (const t of [a, b])
    if (overlaps(out.data, t.data)) throw new Error("matmul: out shares memory with an input; give it a tensor of its own");
}

/** Whether two typed arrays view overlapping bytes of one buffer. */
function overlaps(x: TypedArray, y: TypedArray): boolean {
  return x.buffer === y.buffer && x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength;
}

export const bmm = matmul;
/** Dot product of two 1-D tensors. */
export function dot(a: Tensor, b: Tensor): Tensor {
  if (arguments.length > 2) surplus(arguments, "dot(a, b)");
  if (a.ndim !== 1 || b.ndim !== 1) throw new RangeError(`dot: 1D tensors expected, but got ${a.ndim}D and ${b.ndim}D tensors`);
  return matmul(a, b);
}

/**
 * Whether linear(x, weight, bias) may run as the backend's one fused call (P.linearPrim): nothing records a
 * gradient or traces it (an ONNX export sees the op), x is 2-D and every tensor has one floating dtype.
 * Shapes are linear's to check.
 */
export function linearFuses(x: Tensor, weight: Tensor, bias: Tensor | null): boolean {
  if (arguments.length > 3) surplus(arguments, "linearFuses(x, weight, bias)");
  return (
    !recordsGradient([x, weight, bias]) &&
    !isTracing() &&
    x.ndim === 2 &&
    isFloating(x.dtype) &&
    weight.dtype === x.dtype &&
    (bias === null || (bias.dtype === x.dtype && bias.ndim === 1 && bias.shape[0] === weight.shape[0]))
  );
}

/**
 * relu(linear(x, weight, bias)) in one backend call when linearFuses (the "Linear → ReLU" fusion rule);
 * otherwise the two ops.
 */
export function linearRelu(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  if (arguments.length > 3) surplus(arguments, "linearRelu(x, weight, bias)");
  if (weight.ndim === 2 && x.ndim === 2 && x.shape[1] === weight.shape[1] && linearFuses(x, weight, bias))
    return P.linearPrim(x, weight, bias, true);
  return relu(linear(x, weight, bias));
}

/** y = x·Wᵀ + b with W [out, in], like `F.linear`; x may have any leading dims. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (arguments.length > 3) surplus(arguments, "linear(x, weight, bias)");
  const inF = weight.shape[1];
  if (weight.ndim !== 2) throw new RangeError(`linear: weight must be 2-D [out, in], got ${fmt(weight.shape)}`);
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inF) {
    throw new RangeError(
      `linear: input ${fmt(x.shape)} has last dim ${x.shape[x.ndim - 1]} but weight ${fmt(weight.shape)} expects ${inF} (mat1 and mat2 shapes cannot be multiplied)`,
    );
  }
  if (!bias) bias = null;
  if (linearFuses(x, weight, bias)) return P.linearPrim(x, weight, bias, false);
  return traceOp("linear", [x, weight, bias], {}, () => {
    const x2 = x.ndim === 1 ? P.reshapePrim(x, [1, inF]) : x;
    let y = P.matmulPrim(x2, weight, false, true);
    if (bias) y = add(y, bias);
    return labelGradFn(x.ndim === 1 ? P.reshapePrim(y, [weight.shape[0]]) : y, bias && x.ndim <= 2 ? "AddmmBackward0" : "MmBackward0");
  });
}
