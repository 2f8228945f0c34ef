// The backend interface: a small table of primitive kernels over flat typed arrays, plus a registry.

import type { ConvAlgorithm } from "./precision.js";
import type { TypedArray } from "../tensor/dtype.js";

export type UnaryOp = "neg" | "exp" | "log" | "log1p" | "sqrt" | "abs" | "sign" | "relu" | "sigmoid" | "tanh" | "softplus" | "step";
export type BinaryOp = "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum" | "gt" | "ge" | "lt" | "le" | "eq" | "ne";
export type ReduceOp = "sum" | "max" | "min";
export type ArgReduceOp = "argmax" | "argmin";

/** Geometry of an unfold (im2col) over the last two dims of an [N, C, H, W] input. */
export interface Im2colGeometry {
  n: number;
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  oh: number;
  ow: number;
}

/** Geometry of a convolution: the unfold of the input plus the output channels and the group count. */
export interface ConvGeometry extends Im2colGeometry {
  o: number;
  groups: number;
}

/** Hyper-parameters of one Adam / AdamW update (`step` counts from 1). */
export interface AdamUpdate {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number;
  /** AdamW: θ ← θ·(1 − η·λ) instead of adding λθ to the gradient. */
  decoupled: boolean;
  maximize: boolean;
}

/** Hyper-parameters of one SGD update; `first` is the step that initializes the momentum buffer. */
export interface SgdUpdate {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
  first: boolean;
}

/** One RMSprop update: `centered` keeps gradAvg, momentum > 0 a momentum buffer. */
export interface RmspropUpdate {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  maximize: boolean;
}
/** One Adagrad update; `clr` is the step's decayed learning rate lr / (1 + (t − 1)·lrDecay). */
export interface AdagradUpdate {
  clr: number;
  eps: number;
  weightDecay: number;
  maximize: boolean;
}
/** One Adadelta update. */
export interface AdadeltaUpdate {
  lr: number;
  rho: number;
  eps: number;
  weightDecay: number;
  maximize: boolean;
}
/** One NAdam update: θ += c1·g/denom + c2·m/denom with denom = √(v/bc2) + ε (the coefficients carry the momentum schedule). */
export interface NadamUpdate {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  bc2: number;
  c1: number;
  c2: number;
}
/** One Adamax update; `clr` = lr / (1 − β1ᵗ). */
export interface AdamaxUpdate {
  clr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

/**
 * Fused kernels: fast paths that are not primitives. Each replaces a composite of primitives (or an
 * optimizer's per-element loop) and has its js reference in backend/js; test/fused.test.ts checks each
 * against the composite it replaces. Only the primitive table (ops/prims.ts) calls them.
 */
export interface FusedKernels {
  /** gx[i] = g[i]·(y[i] > 0 ? 1 : 0): ReLU's backward from its output y, in one pass (same lengths and type). */
  reluBackward(g: TypedArray, y: TypedArray, gx: TypedArray): void;
  /** out = x·scale[ch] + shift[ch] over x viewed as [n, c, inner]; with `relu`, max(·, 0) of it (NaN stays NaN). */
  channelAffine(
    x: TypedArray,
    n: number,
    c: number,
    inner: number,
    scale: Float64Array,
    shift: Float64Array,
    out: TypedArray,
    relu?: boolean,
  ): void;
  /**
   * Batch-norm backward over [n, c, inner] given the saved mean and invstd: sumG = Σgy and sumGXhat = Σgy·x̂
   * per channel, and, when gx is given, gx = scale·(gy − Σgy/M − x̂·Σgy·x̂/M) (training, M = n·inner) or
   * scale·gy (fixed statistics), where scale = γ·invstd. With `reluOut` (the output of a fused ReLU), gy is
   * first masked as ReLU's backward does: gy·(reluOut > 0 ? 1 : 0).
   */
  batchNormBackward(
    gy: TypedArray,
    x: TypedArray,
    n: number,
    c: number,
    inner: number,
    mean: Float64Array,
    invstd: Float64Array,
    scale: Float64Array,
    training: boolean,
    gx: TypedArray | null,
    sumG: Float64Array,
    sumGXhat: Float64Array,
    reluOut?: TypedArray | null,
  ): void;
  /**
   * Inference's linear layer (→ ReLU): out [m, n] = x [m, k] · wᵀ (w [n, k]), + bias [n] when given, then
   * max(·, 0) with `relu` (NaN stays NaN): the same values as matmul, binary "add" and unary "relu" one by
   * one, in one call (no intermediate arrays).
   */
  linear(x: TypedArray, w: TypedArray, bias: TypedArray | null, relu: boolean, out: TypedArray, m: number, k: number, n: number): void;
  /**
   * Inference's conv → max-pool (→ ReLU): out [N, O, pool.oh, pool.ow] = max pooling with `pool`'s windows
   * (pool.n = N·O, c 1, h and w the convolution's oh and ow) over the planes of conv2d(x, w, g) + bias, then
   * max(·, 0) with `relu` (NaN stays NaN): the same values as conv2d, maxPool2dIndices and unary "relu" one
   * by one, with the convolution's output kept inside the backend. With `inPad` [top, bottom, left, right],
   * x is the input before a zero pad by that much (g describes the padded input): pad → conv → ….
   */
  convMaxPool(
    x: TypedArray,
    w: TypedArray,
    g: ConvGeometry,
    bias: TypedArray | null,
    pool: Im2colGeometry,
    relu: boolean,
    out: TypedArray,
    inPad?: Int32Array | null,
  ): ConvAlgorithm | void;
  /** One Adam / AdamW update of a parameter and its moments, in place (maxExpAvgSq for AMSGrad). */
  adamUpdate(
    param: TypedArray,
    grad: TypedArray,
    expAvg: TypedArray,
    expAvgSq: TypedArray,
    maxExpAvgSq: TypedArray | null,
    h: AdamUpdate,
  ): void;
  /** One SGD update of a parameter (and its momentum buffer when momentum ≠ 0), in place. */
  sgdUpdate(param: TypedArray, grad: TypedArray, momentumBuffer: TypedArray | null, h: SgdUpdate): void;
  /** One RMSprop update in place (gradAvg when centered, momentumBuffer when momentum > 0). */
  rmspropUpdate(
    param: TypedArray,
    grad: TypedArray,
    squareAvg: TypedArray,
    gradAvg: TypedArray | null,
    momentumBuffer: TypedArray | null,
    h: RmspropUpdate,
  ): void;
  /** One Adagrad update in place. */
  adagradUpdate(param: TypedArray, grad: TypedArray, sum: TypedArray, h: AdagradUpdate): void;
  /** One Adadelta update in place. */
  adadeltaUpdate(param: TypedArray, grad: TypedArray, squareAvg: TypedArray, accDelta: TypedArray, h: AdadeltaUpdate): void;
  /** One NAdam update in place. */
  nadamUpdate(param: TypedArray, grad: TypedArray, expAvg: TypedArray, expAvgSq: TypedArray, h: NadamUpdate): void;
  /** One Adamax update in place. */
  adamaxUpdate(param: TypedArray, grad: TypedArray, expAvg: TypedArray, expInf: TypedArray, h: AdamaxUpdate): void;
}

/**
 * A backend provides the kernels the primitives run on. All arrays are contiguous and row-major;
 * `out` is allocated by the caller with the right dtype and length. A faster backend (native addon)
 * implements the same table and is checked against the `js` backend, the reference. The primitive table
 * (ops/prims.ts) is the only caller.
 */
export interface Backend {
  readonly name: string;
  /** What the backend runs on, e.g. the native addon's { isa: "avx512", threads: 2 }. */
  readonly info?: Readonly<Record<string, string | number>>;
  /** out[i] = op(x[i]). */
  unary(op: UnaryOp, x: TypedArray, out: TypedArray): void;
  /** out = op(a, b) with a read through `aStrides` and b through `bStrides` (0 on broadcast dims). */
  binary(
    op: BinaryOp,
    a: TypedArray,
    aStrides: readonly number[],
    b: TypedArray,
    bStrides: readonly number[],
    out: TypedArray,
    outShape: readonly number[],
  ): void;
  /** out = cond != 0 ? a : b, each read through its broadcast strides. */
  where(
    cond: TypedArray,
    cStrides: readonly number[],
    a: TypedArray,
    aStrides: readonly number[],
    b: TypedArray,
    bStrides: readonly number[],
    out: TypedArray,
    outShape: readonly number[],
  ): void;
  /** Reduce x viewed as [outer, size, inner] over the middle axis into out [outer, inner]. */
  reduce(op: ReduceOp, x: TypedArray, outer: number, size: number, inner: number, out: TypedArray): void;
  /** Index of the first max/min along the middle axis of [outer, size, inner]; out is [outer, inner]. */
  argReduce(op: ArgReduceOp, x: TypedArray, outer: number, size: number, inner: number, out: Int32Array): void;
  /** Strided copy: dst[dstOffset + Σ i_k dstStrides_k] = src[srcOffset + Σ i_k srcStrides_k] over `shape`. */
  copy(
    src: TypedArray,
    srcOffset: number,
    srcStrides: readonly number[],
    dst: TypedArray,
    dstOffset: number,
    dstStrides: readonly number[],
    shape: readonly number[],
  ): void;
  /** out[i] = min(max(x[i], lo), hi); NaN stays NaN. */
  clamp(x: TypedArray, lo: number, hi: number, out: TypedArray): void;
  /** Element-type conversion (float → int32 truncates toward zero, as in PyTorch). */
  cast(x: TypedArray, out: TypedArray): void;
  /** out = x gathered along `axis` of [outer, size, inner] with idx of shape [outer, idxSize, inner]. */
  gather(x: TypedArray, outer: number, size: number, inner: number, idx: Int32Array, idxSize: number, out: TypedArray): void;
  /**
   * out (pre-filled with the base) += src scattered along `axis`, the adjoint of gather. With `clear`, out's
   * contents are ignored: each outer row is zeroed just before its scatter (while it is in cache).
   * `windows` [h, w, oh, ow] (with clear, inner 1) says each row is an h×w plane and index j = oy·ow + ox
   * lies in the 2×2 window at (2·oy, 2·ox) — a 2×2 max-pool's backward, which a backend may write in one
   * pass; an index outside its window is still scattered correctly.
   */
  scatterAdd(
    out: TypedArray,
    outer: number,
    size: number,
    inner: number,
    idx: Int32Array,
    idxSize: number,
    src: TypedArray,
    clear?: boolean,
    windows?: Int32Array | null,
  ): void;
  /**
   * Batched GEMM: for each batch b, C_b[M, N] = op(A_b)[M, K] · op(B_b)[K, N], where op transposes when
   * the flag is set and A_b starts at aBatchStrides·b (0 broadcasts one matrix over the batch).
   */
  matmul(
    a: TypedArray,
    aBatchOffsets: Int32Array,
    transA: boolean,
    b: TypedArray,
    bBatchOffsets: Int32Array,
    transB: boolean,
    out: TypedArray,
    m: number,
    k: number,
    n: number,
  ): void;
  /** Unfold [N, C, H, W] into columns [N, C·kh·kw, oh·ow]; out-of-range reads give `padValue`. */
  im2col(x: TypedArray, g: Im2colGeometry, padValue: number, out: TypedArray): void;
  /** Adjoint of im2col: fold columns [N, C·kh·kw, oh·ow] into out [N, C, H, W] (zero-filled by the caller). */
  col2im(cols: TypedArray, g: Im2colGeometry, out: TypedArray): void;
  /**
   * Cross-correlation: out [N, O, oh, ow] from x [N, C, H, W] and w [O, C/groups, kh, kw] (out overwritten),
   * plus bias[o] on every output of channel o when a bias [O] is given.
   */
  conv2d(x: TypedArray, w: TypedArray, g: ConvGeometry, out: TypedArray, bias?: TypedArray | null): ConvAlgorithm | void;
  /** The input gradient of conv2d: gx [N, C, H, W] from gy [N, O, oh, ow] and w (gx overwritten). */
  conv2dBackwardInput(gy: TypedArray, w: TypedArray, g: ConvGeometry, gx: TypedArray): ConvAlgorithm | void;
  /** The weight gradient of conv2d: gw [O, C/groups, kh, kw] = Σ over the batch, from x and gy (gw overwritten). */
  conv2dBackwardWeight(x: TypedArray, gy: TypedArray, g: ConvGeometry, gw: TypedArray): ConvAlgorithm | void;
  /**
   * Max pooling over the planes of x [N·C, H, W] (g.n = N·C, g.c = 1): for each output, the flat index
   * iy·W + ix of the first largest input in its window (the first NaN wins), and that input in `values` when given.
   */
  maxPool2dIndices(x: TypedArray, g: Im2colGeometry, idx: Int32Array, values?: TypedArray | null): void;
  /** Per-channel mean and biased variance of x viewed as [n, c, inner], accumulated in double. */
  batchNormStats(x: TypedArray, n: number, c: number, inner: number, mean: Float64Array, variance: Float64Array): void;
  /** The fused kernels (not primitives): see FusedKernels. */
  readonly fused: FusedKernels;
}

const registry = new Map<string, Backend>();
let current: Backend | null = null;

/** Register a backend under its name; the first registered becomes current unless one is chosen. */
export function registerBackend(b: Backend): void {
  registry.set(b.name, b);
  if (current === null) current = b;
}

const loaders = new Map<string, (options?: object) => Backend>();

/**
 * A backend that is loaded (and registered) the first time setBackend names it, or when loadWithLoader asks
 * (with options); `load` throws when it cannot be.
 */
export function registerBackendLoader(name: string, load: (options?: object) => Backend): void {
  loaders.set(name, load);
}

/** Load and register the backend `name` through its loader with `options`; null when it has no loader. */
export function loadWithLoader(name: string, options?: object): Backend | null {
  const load = loaders.get(name);
  if (load === undefined) return null;
  const b = load(options);
  registerBackend(b);
  return b;
}

/** Make the named backend current for every op that follows. */
export function setBackend(name: string): Backend {
  if (typeof name !== "string") throw new TypeError(`setBackend: name must be a string, got ${typeof name}`);
  if (!registry.has(name) && loaders.has(name)) registerBackend(loaders.get(name)!());
  const b = registry.get(name);
  if (!b) {
    const hint = name === "wasm" ? " (in a browser: await nb.backend.loadWasm() first)" : "";
    throw new Error(`setBackend: no backend named '${name}' (registered: ${[...registry.keys()].join(", ") || "none"})${hint}`);
  }
  current = b;
  return b;
}

export function getBackend(): Backend {
  if (current === null) throw new Error("nabla: no backend registered (import 'nabla', which registers the js backend)");
  return current;
}

export function listBackends(): string[] {
  return [...registry.keys()];
}
