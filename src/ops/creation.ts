// Tensor creation: tensor(), zeros/ones/full/arange/eye/linspace and seeded rand/randn/randint.

import { Tensor } from "../tensor/tensor.js";
import { allocate, checkDType, dtypeOf, type DType, type TypedArray } from "../tensor/dtype.js";
import { checkShape, fmt, numel } from "../tensor/shape.js";
import { defaultGenerator, type Generator } from "../tensor/random.js";
import { describe, isOptions, optionsArg } from "./args.js";
import { surplus } from "../surplus.js";

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

const CREATE: readonly (keyof CreateOptions)[] = ["dtype", "requiresGrad"];
const RANDOM: readonly (keyof RandomOptions)[] = [...CREATE, "generator"];

/** Nested arrays of numbers, at any depth. */
export type NestedArray = number | boolean | readonly NestedArray[];

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

function flattenInto(data: NestedArray, shape: number[], depth: number, out: TypedArray, pos: { i: number }): void {
  if (depth === shape.length) {
    if (Array.isArray(data)) throw new RangeError(`tensor: ragged nested array (too deep at depth ${depth}, expected shape ${fmt(shape)})`);
    const v = typeof data === "boolean" ? (data ? 1 : 0) : data;
    if (typeof v !== "number") throw new TypeError(`tensor: expected a number, got ${typeof v}`);
    out[pos.i++] = v;
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    throw new RangeError(`tensor: ragged nested array (expected length ${shape[depth]} at depth ${depth}, expected shape ${fmt(shape)})`);
  }
  for (const d of data) flattenInto(d, shape, depth + 1, out, pos);
}

/** The narrower integer arrays (a reader's uint8 labels) become int32 tensors. */
function smallInts(a: ArrayBufferView): boolean {
  return (
    a instanceof Uint8Array ||
    a instanceof Int8Array ||
    a instanceof Uint16Array ||
    a instanceof Int16Array ||
    a instanceof Uint8ClampedArray
  );
}

/**
 * Create a tensor from nested arrays, a flat typed array (with `shape`), or a number.
 * The dtype defaults to that of a typed array (int32 for the narrower integer arrays, such as the uint8 labels
 * `readIdx` returns), else `float32`: class indices from a number array need `{ dtype: "int32" }`.
 *
 * @example
 * nb.tensor([[1, 2], [3, 4]]);                              // float32 [2, 2]
 * nb.tensor(new Float64Array(6), { shape: [2, 3] });       // float64 [2, 3]
 * nb.tensor([0, 2, 1], { dtype: "int32" });                // class indices for crossEntropy
 */
export function tensor(
  data: NestedArray | TypedArray | Uint8Array | Int8Array | Uint16Array | Int16Array | Tensor,
  options: CreateOptions & { shape?: readonly number[] } = {},
): Tensor {
  if (arguments.length > 2) surplus(arguments, "tensor(data, options)");
  const opts = optionsArg<CreateOptions & { shape?: readonly number[] }>(options, "tensor", [...CREATE, "shape"]);
  if (data instanceof Tensor) data = data.data;
  let out: TypedArray;
  let shape: number[];
  if (ArrayBuffer.isView(data)) {
    const src = data as TypedArray;
    const dtype = opts.dtype ? checkDType(opts.dtype, "tensor") : smallInts(src) ? "int32" : dtypeOf(src);
    shape = opts.shape ? checkShape(opts.shape, "tensor") : [src.length];
    if (numel(shape) !== src.length) throw new RangeError(`tensor: shape ${fmt(shape)} needs ${numel(shape)} elements, got ${src.length}`);
    out = allocate(dtype, src.length);
    if (dtype === "int32" && !(src instanceof Int32Array)) for (let i = 0; i < src.length; i++) out[i] = Math.trunc(src[i]);
    else out.set(src);
  } else {
    const dtype = opts.dtype ? checkDType(opts.dtype, "tensor") : "float32";
    shape = inferShape(data as NestedArray);
    out = allocate(dtype, numel(shape));
    flattenInto(data as NestedArray, shape, 0, out, { i: 0 });
    if (opts.shape) {
      const s = checkShape(opts.shape, "tensor");
      if (numel(s) !== out.length) throw new RangeError(`tensor: shape ${fmt(s)} needs ${numel(s)} elements, got ${out.length}`);
      shape = s;
    }
  }
  return new Tensor(out, shape, opts.requiresGrad ?? false);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "full(shape, value, opts)");
  return filled(shape, value, opts, "full");
}

/** full() under the name of the public op that called it (errors name that op). */
function filled(shape: readonly number[], value: number, options: CreateOptions, op: string): Tensor {
  const opts = optionsArg<CreateOptions>(options, op, CREATE);
  const s = checkShape(shape, op);
  const data = allocate(checkDType(opts.dtype ?? "float32", op), numel(s));
  if (value !== 0) data.fill(value);
  return new Tensor(data, s, opts.requiresGrad ?? false);
}

export function zeros(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  if (arguments.length > 2) surplus(arguments, "zeros(shape, opts)");
  return filled(shape, 0, opts, "zeros");
}
export function ones(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  if (arguments.length > 2) surplus(arguments, "ones(shape, opts)");
  return filled(shape, 1, opts, "ones");
}
export function zerosLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  if (arguments.length > 2) surplus(arguments, "zerosLike(t, opts)");
  return filled(t.shape, 0, { dtype: t.dtype, ...optionsArg<CreateOptions>(opts, "zerosLike", CREATE) }, "zerosLike");
}
export function onesLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  if (arguments.length > 2) surplus(arguments, "onesLike(t, opts)");
  return filled(t.shape, 1, { dtype: t.dtype, ...optionsArg<CreateOptions>(opts, "onesLike", CREATE) }, "onesLike");
}
export function fullLike(t: Tensor, value: number, opts: CreateOptions = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "fullLike(t, value, opts)");
  return filled(t.shape, value, { dtype: t.dtype, ...optionsArg<CreateOptions>(opts, "fullLike", CREATE) }, "fullLike");
}

/**
 * Values from `start` to `end` (exclusive) by `step`, like `torch.arange`. With one argument, [0, end).
 * The dtype is int32 when every argument is an integer, else float32 (as in PyTorch).
 */
export function arange(end: number, opts?: CreateOptions): Tensor;
export function arange(start: number, end: number, opts?: CreateOptions): Tensor;
export function arange(start: number, end?: number, step?: number, opts?: CreateOptions): Tensor;
export function arange(...args: unknown[]): Tensor {
  // the options object may follow any of the numbers (`arange(5, { dtype })`, as PyTorch's keyword arguments)
  const at = args.findIndex((v) => isOptions(v));
  const opts = optionsArg<CreateOptions>(at >= 0 ? args[at] : undefined, "arange", CREATE);
  const nums = at >= 0 ? args.slice(0, at) : [...args];
  while (nums.length > 0 && nums[nums.length - 1] === undefined) nums.pop();
  if (at >= 0 && args.slice(at + 1).some((v) => v !== undefined))
    throw new TypeError("arange: the options object must be the last argument");
  if (nums.length < 1 || nums.length > 3) throw new TypeError(`arange: takes 1 to 3 numbers (start, end, step), got ${nums.length}`);
  // one number is the end; an end left undefined (`arange(n, undefined, step)`) likewise, as torch.arange(end)
  const given = nums.length === 1 || nums[1] === undefined ? [0, nums[0], nums[2] ?? 1] : [nums[0], nums[1], nums[2] ?? 1];
  given.forEach((v, i) => {
    if (!(typeof v === "number" && Number.isFinite(v)))
      throw new TypeError(`arange: ${["start", "end", "step"][i]} must be a finite number, got ${describe(v)}`);
  });
  const [start, end, step] = given as number[];
  if (step === 0) throw new RangeError("arange: step must be nonzero");
  if ((end - start) * step < 0)
    throw new RangeError(`arange: upper bound and larger bound inconsistent with step sign (start ${start}, end ${end}, step ${step})`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const ints = [start, end, step].every(Number.isInteger);
  const data = allocate(opts.dtype ?? (ints ? "int32" : "float32"), n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return new Tensor(data, [n], opts.requiresGrad ?? false);
}

/** `steps` evenly spaced values from `start` to `end` inclusive. */
export function linspace(start: number, end: number, steps: number, options: CreateOptions = {}): Tensor {
  if (arguments.length > 4) surplus(arguments, "linspace(start, end, steps, options)");
  const opts = optionsArg<CreateOptions>(options, "linspace", CREATE);
  if (!(Number.isInteger(steps) && steps >= 0))
    throw new RangeError(`linspace: number of steps must be a non-negative integer, got ${steps}`);
  const data = allocate(opts.dtype ?? "float32", steps);
  const h = steps > 1 ? (end - start) / (steps - 1) : 0;
  for (let i = 0; i < steps; i++) data[i] = i === steps - 1 ? end : start + i * h;
  return new Tensor(data, [steps], opts.requiresGrad ?? false);
}

/** Identity matrix [n, m] (m defaults to n). */
export function eye(n: number, opts?: CreateOptions): Tensor;
export function eye(n: number, m?: number, opts?: CreateOptions): Tensor;
export function eye(n: number, ...rest: unknown[]): Tensor {
  surplus([n, ...rest], isOptions(rest[0]) ? "eye(n, opts)" : "eye(n, m, opts)");
  const mArg = isOptions(rest[0]) ? undefined : rest[0];
  const opts = optionsArg<CreateOptions>(isOptions(rest[0]) ? rest[0] : rest[1], "eye", CREATE);
  const m = (mArg ?? n) as number;
  const t = zeros([n, m], { dtype: opts.dtype });
  for (let i = 0; i < Math.min(n, m); i++) t.data[i * m + i] = 1;
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

function fillRandom(shape: readonly number[], options: RandomOptions, op: string, draw: (g: Generator) => number): Tensor {
  const opts = optionsArg<RandomOptions>(options, op, RANDOM);
  const s = checkShape(shape, op);
  const data = allocate(checkDType(opts.dtype ?? "float32", op), numel(s));
  const g = opts.generator ?? defaultGenerator;
  for (let i = 0; i < data.length; i++) data[i] = draw(g);
  return new Tensor(data, s, opts.requiresGrad ?? false);
}

/** Uniform samples in [0, 1) from the seeded generator (`nb.manualSeed`). */
export function rand(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  if (arguments.length > 2) surplus(arguments, "rand(shape, opts)");
  return fillRandom(shape, opts, "rand", (g) => g.random());
}

/** Standard normal samples from the seeded generator. */
export function randn(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  if (arguments.length > 2) surplus(arguments, "randn(shape, opts)");
  return fillRandom(shape, opts, "randn", (g) => g.normal());
}

/** Uniform integers in [low, high), int32 by default. */
export function randint(low: number, high: number, shape: readonly number[], opts: RandomOptions = {}): Tensor {
  if (arguments.length > 4) surplus(arguments, "randint(low, high, shape, opts)");
  if (!(high > low)) throw new RangeError(`randint: expected low < high, got low=${low}, high=${high}`);
  return fillRandom(shape, { dtype: "int32", ...optionsArg<RandomOptions>(opts, "randint", RANDOM) }, "randint", (g) =>
    g.randint(low, high),
  );
}

/** A random permutation of 0..n-1 (Fisher–Yates on the seeded generator), int32. */
export function randperm(n: number, options: RandomOptions = {}): Tensor {
  if (arguments.length > 2) surplus(arguments, "randperm(n, options)");
  const opts = optionsArg<RandomOptions>(options, "randperm", RANDOM);
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`randperm: n must be a non-negative integer, got ${n}`);
  const g = opts.generator ?? defaultGenerator;
  const data = new Int32Array(n);
  for (let i = 0; i < n; i++) data[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = g.randint(0, i + 1);
    const t = data[i];
    data[i] = data[j];
    data[j] = t;
  }
  return new Tensor(data, [n]);
}
