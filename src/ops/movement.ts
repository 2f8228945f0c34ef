// Public shape movement and indexing: reshape, flatten, permute, transpose, squeeze, expand, cat, stack,
// narrow, split, chunk, index, gather (copies; reshape shares storage).

import { Tensor } from "../tensor/tensor.js";
import { fmt, normDim, normDims, numel } from "../tensor/shape.js";
import * as P from "./prims.js";
import { traceOp } from "./trace.js";

import { checkTensor } from "./math.js";
import { surplus } from "../surplus.js";

/** Same elements, new shape; one entry may be −1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  if (arguments.length > 2) surplus(arguments, "reshape(x, shape)");
  checkTensor(x, "reshape");
  const s = [...shape];
  const neg = s.filter((d) => d === -1).length;
  if (neg > 1) throw new RangeError(`reshape: only one dimension can be inferred, got ${fmt(shape)}`);
  const known = s.reduce((acc, d) => (d === -1 ? acc : acc * d), 1);
  if (s.some((d) => !Number.isInteger(d) || d < -1)) throw new RangeError(`reshape: invalid shape ${fmt(shape)}`);
  if (neg === 1) {
    if (known === 0 || x.data.length % known !== 0)
      throw new RangeError(`reshape: shape ${fmt(shape)} is invalid for input of size ${x.data.length}`);
    s[s.indexOf(-1)] = x.data.length / known;
  }
  if (numel(s) !== x.data.length)
    throw new RangeError(`reshape: shape ${fmt(shape)} is invalid for input of size ${x.data.length} (shape ${fmt(x.shape)})`);
  return P.reshapePrim(x, s);
}
export const view = reshape;

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (arguments.length > 3) surplus(arguments, "flatten(x, startDim, endDim)");
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normDim(startDim, x.ndim, "flatten"),
    e = normDim(endDim, x.ndim, "flatten");
  if (s > e) throw new RangeError(`flatten: start_dim ${startDim} cannot come after end_dim ${endDim}`);
  const shape = [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return traceOp("flatten", [x], { start: s, end: e }, () => P.reshapePrim(x, shape));
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (arguments.length > 2) surplus(arguments, "permute(x, dims)");
  checkTensor(x, "permute");
  if (dims.length !== x.ndim)
    throw new RangeError(`permute: number of dims don't match (got ${dims.length} dims for a tensor of shape ${fmt(x.shape)})`);
  const perm = dims.map((d) => normDim(d, x.ndim, "permute"));
  if (new Set(perm).size !== perm.length) throw new RangeError(`permute: repeated dim in [${dims.join(", ")}]`);
  return P.permutePrim(x, perm);
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  if (arguments.length > 3) surplus(arguments, "transpose(x, dim0, dim1)");
  const a = normDim(dim0, x.ndim, "transpose"),
    b = normDim(dim1, x.ndim, "transpose");
  const perm = x.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return P.permutePrim(x, perm);
}

/** Transpose of a ≤2-D tensor. */
export function t(x: Tensor): Tensor {
  if (arguments.length > 1) surplus(arguments, "t(x)");
  if (x.ndim > 2) throw new RangeError(`t: expects a tensor with <= 2 dimensions, but input has ${x.ndim} (shape ${fmt(x.shape)})`);
  return x.ndim < 2 ? x : transpose(x, 0, 1);
}

export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  if (arguments.length > 2) surplus(arguments, "squeeze(x, dim)");
  const dims = dim === undefined ? x.shape.map((_, i) => i) : normDims(dim, x.ndim, "squeeze");
  return P.reshapePrim(
    x,
    x.shape.filter((s, i) => !(s === 1 && dims.includes(i))),
  );
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  if (arguments.length > 2) surplus(arguments, "unsqueeze(x, dim)");
  const d = normDim(dim, x.ndim + 1, "unsqueeze");
  const s = [...x.shape];
  s.splice(d, 0, 1);
  return P.reshapePrim(x, s);
}

/** Broadcast to `shape` (−1 keeps a size); materialised as a copy. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  if (arguments.length > 2) surplus(arguments, "expand(x, shape)");
  checkTensor(x, "expand");
  if (shape.length < x.ndim)
    throw new RangeError(
      `expand: the number of sizes provided (${shape.length}) must be greater or equal to the number of dimensions in the tensor (${x.ndim})`,
    );
  const off = shape.length - x.ndim;
  const target = shape.map((s, i) => (s === -1 ? x.shape[i - off] : s));
  x.shape.forEach((s, i) => {
    if (s !== 1 && s !== target[i + off]) {
      throw new RangeError(
        `expand: the expanded size of the tensor (${target[i + off]}) must match the existing size (${s}) at non-singleton dimension ${i + off}; target ${fmt(shape)}, tensor ${fmt(x.shape)}`,
      );
    }
  });
  return P.expandPrim(x, target);
}

/** Concatenate along `dim`; all other sizes must agree. */
export function cat(xs: readonly Tensor[], dim = 0): Tensor {
  if (arguments.length > 2) surplus(arguments, "cat(xs, dim)");
  if (xs.length === 0) throw new RangeError("cat: expected a non-empty list of Tensors");
  xs.forEach((x) => checkTensor(x, "cat"));
  const d = normDim(dim, xs[0].ndim, "cat");
  for (const x of xs) {
    if (x.ndim !== xs[0].ndim || x.shape.some((s, i) => i !== d && s !== xs[0].shape[i])) {
      throw new RangeError(`cat: sizes of tensors must match except in dimension ${d}; got ${xs.map((y) => fmt(y.shape)).join(" and ")}`);
    }
  }
  let list = [...xs];
  const dtype = list.reduce(
    (acc, x) => (acc === "float64" || x.dtype === "float64" ? "float64" : acc === "float32" || x.dtype === "float32" ? "float32" : "int32"),
    list[0].dtype,
  );
  list = list.map((x) => (x.dtype === dtype ? x : P.castPrim(x, dtype)));
  return list.length === 1 ? list[0] : P.catPrim(list, d);
}

/** Stack equally shaped tensors along a new `dim`. */
export function stack(xs: readonly Tensor[], dim = 0): Tensor {
  if (arguments.length > 2) surplus(arguments, "stack(xs, dim)");
  if (xs.length === 0) throw new RangeError("stack: expected a non-empty list of Tensors");
  const d = normDim(dim, xs[0].ndim + 1, "stack");
  for (const x of xs) {
    if (x.ndim !== xs[0].ndim || x.shape.some((s, i) => s !== xs[0].shape[i])) {
      throw new RangeError(`stack: expects each tensor to be equal size, but got ${fmt(xs[0].shape)} and ${fmt(x.shape)}`);
    }
  }
  return cat(
    xs.map((x) => unsqueeze(x, d)),
    d,
  );
}

/** `length` elements of `dim` from `start`. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  if (arguments.length > 4) surplus(arguments, "narrow(x, dim, start, length)");
  const d = normDim(dim, x.ndim, "narrow");
  const size = x.shape[d];
  const s = start < 0 ? start + size : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > size) {
    throw new RangeError(
      `narrow: start (${start}) + length (${length}) exceeds dimension size (${size}) of dim ${d} in shape ${fmt(x.shape)}`,
    );
  }
  return P.slicePrim(x, d, s, 1, length);
}

/** Split into pieces of `splitSize` (the last may be smaller), or of the listed sizes. */
export function split(x: Tensor, splitSize: number | readonly number[], dim = 0): Tensor[] {
  if (arguments.length > 3) surplus(arguments, "split(x, splitSize, dim)");
  const d = normDim(dim, x.ndim, "split");
  const size = x.shape[d];
  let sizes: number[];
  if (typeof splitSize === "number") {
    if (!(splitSize > 0)) throw new RangeError(`split: split_size must be positive, got ${splitSize}`);
    sizes = [];
    for (let s = 0; s < size; s += splitSize) sizes.push(Math.min(splitSize, size - s));
  } else {
    sizes = [...splitSize];
    if (sizes.reduce((a, b) => a + b, 0) !== size)
      throw new RangeError(`split: split sizes [${sizes.join(", ")}] do not sum to ${size} (dim ${d} of ${fmt(x.shape)})`);
  }
  let off = 0;
  return sizes.map((n) => {
    const r = P.slicePrim(x, d, off, 1, n);
    off += n;
    return r;
  });
}

export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (arguments.length > 3) surplus(arguments, "chunk(x, chunks, dim)");
  const d = normDim(dim, x.ndim, "chunk");
  if (!(Number.isInteger(chunks) && chunks > 0)) throw new RangeError(`chunk: chunks must be a positive integer, got ${chunks}`);
  return split(x, Math.ceil(x.shape[d] / chunks), d);
}

/** One entry of an index: an integer picks (and drops the dim), `[start, end, step]` slices, null keeps all. */
export type IndexSpec = number | null | readonly [number | null, (number | null)?, (number | null)?];

/** Basic slicing, like `x[1, 2:5, ::2]` in Python: `index(x, [1, [2, 5], [null, null, 2]])`. */
export function index(x: Tensor, spec: readonly IndexSpec[]): Tensor {
  if (arguments.length > 2) surplus(arguments, "index(x, spec)");
  if (spec.length > x.ndim) throw new RangeError(`index: too many indices for tensor of dimension ${x.ndim} (got ${spec.length})`);
  let r = x;
  const drop: number[] = [];
  spec.forEach((s, d) => {
    const size = x.shape[d];
    if (s === null) return;
    if (typeof s === "number") {
      const i = s < 0 ? s + size : s;
      if (!Number.isInteger(i) || i < 0 || i >= size)
        throw new RangeError(`index: index ${s} is out of bounds for dimension ${d} with size ${size}`);
      r = P.slicePrim(r, d, i, 1, 1);
      drop.push(d);
      return;
    }
    const step = s[2] ?? 1;
    if (!(step > 0) || !Number.isInteger(step)) throw new RangeError(`index: slice step must be a positive integer, got ${step}`);
    const clampIdx = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
    const start = clampIdx(s[0] ?? 0),
      end = clampIdx(s[1] ?? size);
    const length = Math.max(0, Math.ceil((end - start) / step));
    r = P.slicePrim(r, d, start, step, length);
  });
  return drop.length
    ? P.reshapePrim(
        r,
        r.shape.filter((_, i) => !drop.includes(i)),
      )
    : r;
}

/**
 * The entries of `x` at `index` (int32, 1-D) along `dim`, like `torch.index_select`; differentiable in x
 * (the gradient adds back into the selected positions, repeated indices summed).
 */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  if (arguments.length > 3) surplus(arguments, "indexSelect(x, dim, index)");
  checkTensor(x, "indexSelect");
  checkTensor(index, "indexSelect", "index");
  if (index.dtype !== "int32") throw new TypeError(`indexSelect: index must be an int32 tensor, got ${index.dtype}`);
  if (index.ndim > 1) throw new RangeError(`indexSelect: index must be 1-D, got shape ${fmt(index.shape)}`);
  const d = normDim(dim, x.ndim, "indexSelect");
  const n = x.shape[d];
  const outer = x.shape.slice(0, d).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const k = index.numel();
  const pos = new Int32Array(outer * k * inner);
  for (let i = 0; i < k; i++) {
    const v = index.data[i];
    const j = v < 0 ? v + n : v;
    if (!(j >= 0 && j < n)) throw new RangeError(`indexSelect: index ${v} is out of bounds for dimension ${d} with size ${n}`);
    for (let o = 0; o < outer; o++) pos.fill(j, (o * k + i) * inner, (o * k + i + 1) * inner);
  }
  const shape = [...x.shape];
  shape[d] = k;
  const r = gather(reshape(x, [outer, n, inner]), 1, new Tensor(pos, [outer, k, inner]));
  return reshape(r, shape);
}

/**
 * Advanced indexing on the leading dimensions, like `x[idx]` / `x[mask]` in PyTorch: an int32 tensor
 * picks rows (result shape `[...idx.shape, ...x.shape.slice(1)]`); a 0/1 mask (what comparisons return,
 * or an array of booleans) whose shape is a prefix of x's picks the positions where it is 1 (result shape
 * `[count, ...rest]`). Differentiable in x.
 */
export function indexTensor(x: Tensor, idx: Tensor | readonly boolean[]): Tensor {
  if (arguments.length > 2) surplus(arguments, "indexTensor(x, idx)");
  checkTensor(x, "index");
  if (Array.isArray(idx)) {
    if (!idx.every((b) => typeof b === "boolean"))
      throw new TypeError("index: an array index must hold booleans (a mask); index with an int32 tensor for positions");
    idx = new Tensor(Float32Array.from(idx as boolean[], Number), [idx.length]);
  }
  const t = idx as Tensor;
  if (t.dtype === "int32") {
    if (x.ndim === 0) throw new RangeError("index: a 0-d tensor cannot be indexed by a tensor");
    return reshape(indexSelect(x, 0, reshape(t, [t.numel()])), [...t.shape, ...x.shape.slice(1)]);
  }
  if (t.ndim > x.ndim || t.shape.some((s, i) => s !== x.shape[i]))
    throw new RangeError(
      `index: the mask's shape ${fmt(t.shape)} must match the leading dimensions of the indexed tensor's ${fmt(x.shape)}`,
    );
  const at: number[] = [];
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i];
    if (v === 1) at.push(i);
    else if (v !== 0)
      throw new TypeError(
        `index: a float tensor index must be a 0/1 mask (as comparisons return); element ${i} is ${v}. Index with an int32 tensor for positions`,
      );
  }
  const flat = reshape(x, [t.numel(), ...x.shape.slice(t.ndim)]);
  return indexSelect(flat, 0, new Tensor(Int32Array.from(at), [at.length]));
}

/** out[i][j] = x[i][index[i][j]] along `dim` (index int32, same sizes as x outside `dim`). */
export function gather(x: Tensor, dim: number, idx: Tensor): Tensor {
  if (arguments.length > 3) surplus(arguments, "gather(x, dim, idx)");
  checkTensor(x, "gather");
  checkTensor(idx, "gather", "index");
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
