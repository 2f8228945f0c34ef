// The Tensor: a contiguous typed array with a shape, a dtype, and autograd bookkeeping (grad, gradFn).

import { Node, runBackward, type BackwardOptions } from "../autograd/engine.js";
import { dtypeOf, isFloating, type DType, type TypedArray } from "./dtype.js";
import { fmt, numel } from "./shape.js";
import * as ops from "../ops/index.js";
import { inplace } from "../ops/inplace.js";
import type { Scalar, TensorLike } from "../ops/index.js";
import { surplus } from "../surplus.js";

/**
 * An n-dimensional array of `float32` (default), `float64` or `int32` elements, stored row-major in an
 * ordinary typed array that the garbage collector owns. Every op returns a new tensor; the in-place
 * methods (`add_`, `mul_`, `zero_`, `copy_`, `clamp_`, …) work outside recorded graphs, and a backward
 * pass through values changed in place since they were used is an error (PyTorch's version counter).
 *
 * @example
 * const x = nb.tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * x.mul(x).sum().backward();
 * x.grad!.toArray(); // [[2, 4], [6, 8]]
 */
export class Tensor {
  /** Flat row-major storage; its length equals the number of elements. */
  readonly data: TypedArray;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Accumulated gradient after `backward()` (leaf tensors only), or null. */
  grad: Tensor | null = null;
  /** The node that produced this tensor, or null for a leaf. */
  gradFn: Node | null = null;
  private _requiresGrad = false;

  constructor(data: TypedArray, shape: readonly number[], requiresGrad = false) {
    if (data.length !== numel(shape)) {
      throw new RangeError(`Tensor: storage of ${data.length} elements does not match shape ${fmt(shape)}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtypeOf(data);
    if (requiresGrad) this.requiresGrad = true;
  }

  /** Whether gradients flow to this tensor. Only floating-point tensors can require gradients. */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

  set requiresGrad(v: boolean) {
    if (v && !isFloating(this.dtype)) {
      throw new TypeError(`requiresGrad: only floating point tensors can require gradients (got ${this.dtype})`);
    }
    if (!v && this.gradFn !== null) {
      throw new Error("requiresGrad: cannot switch off gradients of a non-leaf tensor; use detach()");
    }
    this._requiresGrad = v;
  }

  /** Set `requiresGrad` in place and return this tensor, like `requires_grad_`. */
  requiresGrad_(v = true): this {
    if (arguments.length > 1) surplus(arguments, "requiresGrad_(v)");
    this.requiresGrad = v;
    return this;
  }

  get ndim(): number {
    return this.shape.length;
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  numel(): number {
    if (arguments.length > 0) surplus(arguments, "numel()");
    return this.data.length;
  }
  dim(): number {
    if (arguments.length > 0) surplus(arguments, "dim()");
    return this.shape.length;
  }
  size(dim?: number): number | readonly number[] {
    if (arguments.length > 1) surplus(arguments, "size(dim)");
    return dim === undefined ? this.shape : this.shape[dim < 0 ? dim + this.ndim : dim];
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (arguments.length > 0) surplus(arguments, "item()");
    if (this.data.length !== 1) {
      throw new RangeError(`item: a Tensor with ${this.data.length} elements cannot be converted to a number (shape ${fmt(this.shape)})`);
    }
    return this.data[0];
  }

  /** Nested JS arrays, like PyTorch's `tolist()`; a 0-d tensor gives a number. */
  toArray(): any {
    if (arguments.length > 0) surplus(arguments, "toArray()");
    const { data, shape } = this;
    if (shape.length === 0) return data[0];
    let pos = 0;
    const build = (d: number): any[] => {
      const out = new Array(shape[d]);
      for (let i = 0; i < shape[d]; i++) out[i] = d === shape.length - 1 ? data[pos++] : build(d + 1);
      return out;
    };
    return build(0);
  }

  /** A flat contiguous copy of the elements. */
  toTypedArray(): TypedArray {
    if (arguments.length > 0) surplus(arguments, "toTypedArray()");
    return this.data.slice();
  }

  /** A tensor sharing storage, cut from the graph (no gradient flows through it). */
  detach(): Tensor {
    if (arguments.length > 0) surplus(arguments, "detach()");
    return new Tensor(this.data, this.shape);
  }

  /** A deep copy that stays in the graph. */
  clone(): Tensor {
    if (arguments.length > 0) surplus(arguments, "clone()");
    return ops.clone(this);
  }

  /**
   * Back-propagate from this tensor, accumulating into the `.grad` of every leaf that requires it.
   * A non-scalar output needs `gradient` (the vector in the vector-Jacobian product).
   */
  backward(gradient?: Tensor | null, opts: BackwardOptions = {}): void {
    if (arguments.length > 2) surplus(arguments, "backward(gradient, opts)");
    if (!this.requiresGrad) {
      throw new Error("backward: element 0 of tensors does not require grad and does not have a gradFn");
    }
    let g: Tensor;
    if (gradient === undefined || gradient === null) {
      if (this.data.length !== 1) {
        throw new Error(`backward: grad can be implicitly created only for scalar outputs (got shape ${fmt(this.shape)}); pass a gradient`);
      }
      g = ops.onesLike(this);
    } else {
      if (!(gradient.shape.length === this.shape.length && gradient.shape.every((d, i) => d === this.shape[i]))) {
        throw new RangeError(`backward: gradient has shape ${fmt(gradient.shape)} but the output has shape ${fmt(this.shape)}`);
      }
      g = gradient;
    }
    runBackward([this], [g], opts, ops.add);
  }

  toString(): string {
    if (arguments.length > 0) surplus(arguments, "toString()");
    return ops.format(this);
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  // ---- methods mirroring torch.Tensor, each delegating to the function of the same name ----
  add(b: TensorLike): Tensor {
    if (arguments.length > 1) surplus(arguments, "add(b)");
    return ops.add(this, b);
  }
  sub(b: TensorLike): Tensor {
    if (arguments.length > 1) surplus(arguments, "sub(b)");
    return ops.sub(this, b);
  }
  mul(b: TensorLike): Tensor {
    if (arguments.length > 1) surplus(arguments, "mul(b)");
    return ops.mul(this, b);
  }
  div(b: TensorLike): Tensor {
    if (arguments.length > 1) surplus(arguments, "div(b)");
    return ops.div(this, b);
  }
  pow(b: TensorLike): Tensor {
    if (arguments.length > 1) surplus(arguments, "pow(b)");
    return ops.pow(this, b);
  }
  maximum(b: TensorLike): Tensor {
    if (arguments.length > 1) surplus(arguments, "maximum(b)");
    return ops.maximum(this, b);
  }
  minimum(b: TensorLike): Tensor {
    if (arguments.length > 1) surplus(arguments, "minimum(b)");
    return ops.minimum(this, b);
  }
  gt(b: TensorLike): Tensor {
    if (arguments.length > 1) surplus(arguments, "gt(b)");
    return ops.gt(this, b);
  }
  ge(b: TensorLike): Tensor {
    if (arguments.length > 1) surplus(arguments, "ge(b)");
    return ops.ge(this, b);
  }
  lt(b: TensorLike): Tensor {
    if (arguments.length > 1) surplus(arguments, "lt(b)");
    return ops.lt(this, b);
  }
  le(b: TensorLike): Tensor {
    if (arguments.length > 1) surplus(arguments, "le(b)");
    return ops.le(this, b);
  }
  eq(b: TensorLike): Tensor {
    if (arguments.length > 1) surplus(arguments, "eq(b)");
    return ops.eq(this, b);
  }
  ne(b: TensorLike): Tensor {
    if (arguments.length > 1) surplus(arguments, "ne(b)");
    return ops.ne(this, b);
  }
  neg(): Tensor {
    if (arguments.length > 0) surplus(arguments, "neg()");
    return ops.neg(this);
  }
  exp(): Tensor {
    if (arguments.length > 0) surplus(arguments, "exp()");
    return ops.exp(this);
  }
  log(): Tensor {
    if (arguments.length > 0) surplus(arguments, "log()");
    return ops.log(this);
  }
  log1p(): Tensor {
    if (arguments.length > 0) surplus(arguments, "log1p()");
    return ops.log1p(this);
  }
  sqrt(): Tensor {
    if (arguments.length > 0) surplus(arguments, "sqrt()");
    return ops.sqrt(this);
  }
  rsqrt(): Tensor {
    if (arguments.length > 0) surplus(arguments, "rsqrt()");
    return ops.rsqrt(this);
  }
  abs(): Tensor {
    if (arguments.length > 0) surplus(arguments, "abs()");
    return ops.abs(this);
  }
  sign(): Tensor {
    if (arguments.length > 0) surplus(arguments, "sign()");
    return ops.sign(this);
  }
  square(): Tensor {
    if (arguments.length > 0) surplus(arguments, "square()");
    return ops.square(this);
  }
  relu(): Tensor {
    if (arguments.length > 0) surplus(arguments, "relu()");
    return ops.relu(this);
  }
  sigmoid(): Tensor {
    if (arguments.length > 0) surplus(arguments, "sigmoid()");
    return ops.sigmoid(this);
  }
  tanh(): Tensor {
    if (arguments.length > 0) surplus(arguments, "tanh()");
    return ops.tanh(this);
  }
  clamp(opts: { min?: number | null; max?: number | null }): Tensor;
  clamp(min: number | null | undefined, max?: number | null): Tensor;
  clamp(a: { min?: number | null; max?: number | null } | number | null | undefined, max?: number | null): Tensor {
    if (arguments.length > 2) surplus(arguments, "clamp(a, max)");
    return typeof a === "object" && a !== null ? ops.clamp(this, a) : ops.clamp(this, a, max);
  }
  softmax(dim: number): Tensor {
    if (arguments.length > 1) surplus(arguments, "softmax(dim)");
    return ops.softmax(this, dim);
  }
  logSoftmax(dim: number): Tensor {
    if (arguments.length > 1) surplus(arguments, "logSoftmax(dim)");
    return ops.logSoftmax(this, dim);
  }
  sum(dim?: number | number[] | null, opts?: { keepdim?: boolean } | boolean): Tensor {
    if (arguments.length > 2) surplus(arguments, "sum(dim, opts)");
    return ops.sum(this, dim, opts);
  }
  mean(dim?: number | number[] | null, opts?: { keepdim?: boolean } | boolean): Tensor {
    if (arguments.length > 2) surplus(arguments, "mean(dim, opts)");
    return ops.mean(this, dim, opts);
  }
  var(dim?: number | number[] | null, opts?: ops.VarOptions): Tensor {
    if (arguments.length > 2) surplus(arguments, "var(dim, opts)");
    return ops.variance(this, dim, opts);
  }
  std(dim?: number | number[] | null, opts?: ops.VarOptions): Tensor {
    if (arguments.length > 2) surplus(arguments, "std(dim, opts)");
    return ops.std(this, dim, opts);
  }
  max(dim?: number | null, opts?: { keepdim?: boolean } | boolean): Tensor {
    if (arguments.length > 2) surplus(arguments, "max(dim, opts)");
    return ops.max(this, dim, opts);
  }
  min(dim?: number | null, opts?: { keepdim?: boolean } | boolean): Tensor {
    if (arguments.length > 2) surplus(arguments, "min(dim, opts)");
    return ops.min(this, dim, opts);
  }
  amax(dim?: number | number[] | null, opts?: { keepdim?: boolean } | boolean): Tensor {
    if (arguments.length > 2) surplus(arguments, "amax(dim, opts)");
    return ops.amax(this, dim, opts);
  }
  amin(dim?: number | number[] | null, opts?: { keepdim?: boolean } | boolean): Tensor {
    if (arguments.length > 2) surplus(arguments, "amin(dim, opts)");
    return ops.amin(this, dim, opts);
  }
  argmax(dim?: number | null, opts?: { keepdim?: boolean } | boolean): Tensor {
    if (arguments.length > 2) surplus(arguments, "argmax(dim, opts)");
    return ops.argmax(this, dim, opts);
  }
  argmin(dim?: number | null, opts?: { keepdim?: boolean } | boolean): Tensor {
    if (arguments.length > 2) surplus(arguments, "argmin(dim, opts)");
    return ops.argmin(this, dim, opts);
  }
  matmul(b: Tensor): Tensor {
    if (arguments.length > 1) surplus(arguments, "matmul(b)");
    return ops.matmul(this, b);
  }
  dot(b: Tensor): Tensor {
    if (arguments.length > 1) surplus(arguments, "dot(b)");
    return ops.dot(this, b);
  }
  reshape(...shape: (number | readonly number[])[]): Tensor {
    return ops.reshape(this, shape.flat());
  }
  view(...shape: (number | readonly number[])[]): Tensor {
    return ops.reshape(this, shape.flat());
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    if (arguments.length > 2) surplus(arguments, "flatten(startDim, endDim)");
    return ops.flatten(this, startDim, endDim);
  }
  transpose(dim0: number, dim1: number): Tensor {
    if (arguments.length > 2) surplus(arguments, "transpose(dim0, dim1)");
    return ops.transpose(this, dim0, dim1);
  }
  get T(): Tensor {
    return ops.permute(
      this,
      this.shape.map((_, i) => this.ndim - 1 - i),
    );
  }
  t(): Tensor {
    if (arguments.length > 0) surplus(arguments, "t()");
    return ops.t(this);
  }
  permute(...dims: (number | readonly number[])[]): Tensor {
    return ops.permute(this, dims.flat());
  }
  squeeze(dim?: number | number[]): Tensor {
    if (arguments.length > 1) surplus(arguments, "squeeze(dim)");
    return ops.squeeze(this, dim);
  }
  unsqueeze(dim: number): Tensor {
    if (arguments.length > 1) surplus(arguments, "unsqueeze(dim)");
    return ops.unsqueeze(this, dim);
  }
  expand(...shape: (number | readonly number[])[]): Tensor {
    return ops.expand(this, shape.flat());
  }
  expandAs(other: Tensor): Tensor {
    if (arguments.length > 1) surplus(arguments, "expandAs(other)");
    return ops.expand(this, other.shape);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    if (arguments.length > 3) surplus(arguments, "narrow(dim, start, length)");
    return ops.narrow(this, dim, start, length);
  }
  split(splitSize: number | number[], dim = 0): Tensor[] {
    if (arguments.length > 2) surplus(arguments, "split(splitSize, dim)");
    return ops.split(this, splitSize, dim);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    if (arguments.length > 2) surplus(arguments, "chunk(chunks, dim)");
    return ops.chunk(this, chunks, dim);
  }
  gather(dim: number, index: Tensor): Tensor {
    if (arguments.length > 2) surplus(arguments, "gather(dim, index)");
    return ops.gather(this, dim, index);
  }
  to(dtype: DType): Tensor {
    if (arguments.length > 1) surplus(arguments, "to(dtype)");
    return ops.cast(this, dtype);
  }
  float(): Tensor {
    if (arguments.length > 0) surplus(arguments, "float()");
    return ops.cast(this, "float32");
  }
  double(): Tensor {
    if (arguments.length > 0) surplus(arguments, "double()");
    return ops.cast(this, "float64");
  }
  int(): Tensor {
    if (arguments.length > 0) surplus(arguments, "int()");
    return ops.cast(this, "int32");
  }
  contiguous(): Tensor {
    if (arguments.length > 0) surplus(arguments, "contiguous()");
    return this;
  }
  isContiguous(): boolean {
    if (arguments.length > 0) surplus(arguments, "isContiguous()");
    return true;
  }
  // In place (PyTorch's trailing underscore): outside recorded graphs, or under noGrad for a leaf that
  // requires grad; the storage's version is bumped so a graph that needed the old values fails in backward.

  /** this += alpha · b, in place. */
  add_(b: TensorLike, alpha?: number | { alpha?: number }): this {
    if (arguments.length > 2) surplus(arguments, "add_(b, alpha)");
    const a = alphaArg("add_", alpha);
    return inplace(this, "add_", [b], () => ops.add(this, a === 1 ? b : ops.mul(b, a))) as this;
  }
  /** this −= alpha · b, in place. */
  sub_(b: TensorLike, alpha?: number | { alpha?: number }): this {
    if (arguments.length > 2) surplus(arguments, "sub_(b, alpha)");
    const a = alphaArg("sub_", alpha);
    return inplace(this, "sub_", [b], () => ops.sub(this, a === 1 ? b : ops.mul(b, a))) as this;
  }
  /** this *= b, in place. */
  mul_(b: TensorLike): this {
    if (arguments.length > 1) surplus(arguments, "mul_(b)");
    return inplace(this, "mul_", [b], () => ops.mul(this, b)) as this;
  }
  /** this /= b, in place. */
  div_(b: TensorLike): this {
    if (arguments.length > 1) surplus(arguments, "div_(b)");
    return inplace(this, "div_", [b], () => ops.div(this, b)) as this;
  }
  /** −this, in place. */
  neg_(): this {
    if (arguments.length > 0) surplus(arguments, "neg_()");
    return inplace(this, "neg_", [], () => ops.neg(this)) as this;
  }
  /** Clamp to [min, max] in place; the same arguments as `clamp`. */
  clamp_(a: { min?: number | null; max?: number | null } | number | null | undefined, max?: number | null): this {
    if (arguments.length > 2) surplus(arguments, "clamp_(a, max)");
    return inplace(this, "clamp_", [], () => ops.clamp(this, a as number, max)) as this;
  }
  /** Set every element to `value`, in place. */
  fill_(value: number): this {
    if (arguments.length > 1) surplus(arguments, "fill_(value)");
    if (typeof value !== "number") throw new TypeError(`fill_: value must be a number, got ${typeof value}`);
    return inplace(this, "fill_", [], () => ops.full(this.shape, value, { dtype: this.dtype })) as this;
  }
  /** Set every element to 0, in place. */
  zero_(): this {
    if (arguments.length > 0) surplus(arguments, "zero_()");
    return inplace(this, "zero_", [], () => ops.zeros(this.shape, { dtype: this.dtype })) as this;
  }
  /** Copy `src` (broadcast to this shape, converted to this dtype) into this tensor, in place. */
  copy_(src: Tensor): this {
    if (arguments.length > 1) surplus(arguments, "copy_(src)");
    if (!(src instanceof Tensor)) throw new TypeError(`copy_: src must be a Tensor, got ${src === null ? "null" : typeof src}`);
    return inplace(this, "copy_", [src], () => ops.cast(ops.expand(src, this.shape), this.dtype)) as this;
  }

  /**
   * Slice by ranges per dim, like `x[1:3, :, ::2]`: each entry is an index, `[start, end, step?]` or null.
   * With one tensor instead, advanced indexing as `x[idx]` / `x[mask]`: an int32 tensor picks rows, a 0/1
   * mask (a comparison's result, or an array of booleans) picks the positions where it is 1 (see `indexTensor`).
   */
  index(mask: Tensor | readonly boolean[]): Tensor;
  index(...spec: ops.IndexSpec[]): Tensor;
  index(...spec: unknown[]): Tensor {
    if (
      spec.length === 1 &&
      (spec[0] instanceof Tensor || (Array.isArray(spec[0]) && spec[0].length > 0 && typeof spec[0][0] === "boolean"))
    )
      return ops.indexTensor(this, spec[0] as Tensor | boolean[]);
    if (spec.some((s) => s instanceof Tensor))
      throw new TypeError("index: a tensor index must be the only index (x.index(mask) or x.index(idx))");
    return ops.index(this, spec as ops.IndexSpec[]);
  }
  /** Entries at `index` (int32, 1-D) along `dim`, like `index_select`. */
  indexSelect(dim: number, index: Tensor): Tensor {
    if (arguments.length > 2) surplus(arguments, "indexSelect(dim, index)");
    return ops.indexSelect(this, dim, index);
  }
}

function alphaArg(op: string, alpha: unknown): number {
  if (alpha === undefined) return 1;
  if (typeof alpha === "number") return alpha;
  if (alpha !== null && typeof alpha === "object" && Object.keys(alpha).every((k) => k === "alpha")) {
    const a = (alpha as { alpha?: unknown }).alpha;
    if (a === undefined) return 1;
    if (typeof a === "number") return a;
  }
  throw new TypeError(`${op}: alpha must be a number or { alpha: number }, got ${JSON.stringify(alpha)}`);
}

export type { Scalar, TensorLike };
