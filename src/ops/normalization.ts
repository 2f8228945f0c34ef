// Normalization as functional ops: batchNorm (PyTorch 1.13's numerics, one primitive) and localResponseNorm.

import { Tensor } from "../tensor/tensor.js";
import { fmt } from "../tensor/shape.js";
import { isFloating } from "../tensor/dtype.js";
import * as P from "./prims.js";
import { traceOp } from "./trace.js";
import { add, div, mean, mul, pow, sqrt, sub, sum } from "./math.js";
import { narrow, reshape } from "./movement.js";
import { full } from "./creation.js";
import { pad } from "./conv_pool.js";
import { positionalOptions } from "./args.js";

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Use batch statistics (and update the running ones); default false, as `F.batch_norm`. */
  training?: boolean;
  /** Weight of the new batch statistic in the running average (default 0.1). */
  momentum?: number;
  eps?: number;
}

/**
 * Batch Normalization over dim 1 of (N, C), (N, C, L) or (N, C, H, W) input, like `F.batch_norm`.
 * Training: x̂ = (x − μ_B) / √(σ²_B + ε) with the batch mean and *biased* variance, and running
 * stats updated in place as r ← (1 − momentum)·r + momentum·s using the *unbiased* variance.
 * Evaluation: the running statistics. Then y = γ·x̂ + β.
 *
 * One primitive: the statistics come from one backend pass, y from a second, and the backward pass is
 * the closed form dx = γ/σ·(g − mean(g) − x̂·mean(g·x̂)), dγ = Σ g·x̂, dβ = Σ g (two passes). When the
 * backward pass is itself recorded (createGraph), the same gradients are built from differentiable ops.
 */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, opts?: BatchNormOptions): Tensor;
/** PyTorch's positional order, `F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)`. */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null | undefined,
  ...rest: (Tensor | null | boolean | number | Omit<BatchNormOptions, "weight"> | undefined)[]
): Tensor;
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, ...args: unknown[]): Tensor {
  const opts = positionalOptions<BatchNormOptions>("batchNorm", ["weight", "bias", "training", "momentum", "eps"], args);
  return batchNormMaybeRelu(x, runningMean, runningVar, opts, false);
}

/**
 * batchNorm, then (with `relu`) max(·, 0) fused into the same primitive: the same values and gradients as
 * relu(batchNorm(x)) with one pass over the activations instead of two in each direction. Used by
 * Sequential for a BatchNorm followed by a ReLU, and by the zoo's blocks.
 */
export function batchNormMaybeRelu(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  opts: BatchNormOptions,
  relu: boolean,
): Tensor {
  const inputs = [x, opts.weight ?? null, opts.bias ?? null, runningMean, runningVar];
  const attrs = { eps: opts.eps ?? 1e-5, training: opts.training ?? false, relu };
  return traceOp("batchNorm", inputs, attrs, () => batchNormOf(x, runningMean, runningVar, opts, relu));
}

function batchNormOf(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, opts: BatchNormOptions, relu: boolean): Tensor {
  if (x.ndim < 2) throw new RangeError(`batchNorm: expected input of at least 2 dims (N, C, ...), got ${fmt(x.shape)}`);
  if (!isFloating(x.dtype)) throw new TypeError(`batchNorm: expected a float32 or float64 input, got ${x.dtype}`);
  const c = x.shape[1];
  const eps = opts.eps ?? 1e-5,
    momentum = opts.momentum ?? 0.1;
  for (const [name, t] of [
    ["running_mean", runningMean],
    ["running_var", runningVar],
    ["weight", opts.weight],
    ["bias", opts.bias],
  ] as const) {
    if (t && (t.ndim !== 1 || t.shape[0] !== c))
      throw new RangeError(`batchNorm: ${name} must have shape [${c}] for input ${fmt(x.shape)}, got ${fmt(t.shape)}`);
  }
  const n = x.shape[0],
    inner = x.data.length / Math.max(1, n * c);
  const training = opts.training ?? false;
  const mean = new Float64Array(c),
    invstd = new Float64Array(c);
  if (training) {
    const m = n * inner;
    if (m <= 1) throw new RangeError(`batchNorm: expected more than 1 value per channel when training, got input size ${fmt(x.shape)}`);
    const stats = P.batchNormStats(x, n, c, inner);
    mean.set(stats.mean);
    const variance = stats.variance;
    for (let ch = 0; ch < c; ch++) invstd[ch] = 1 / Math.sqrt(variance[ch] + eps);
    if (runningMean) for (let ch = 0; ch < c; ch++) runningMean.data[ch] = (1 - momentum) * runningMean.data[ch] + momentum * mean[ch];
    if (runningVar)
      for (let ch = 0; ch < c; ch++) runningVar.data[ch] = (1 - momentum) * runningVar.data[ch] + momentum * variance[ch] * (m / (m - 1));
  } else {
    if (!runningMean || !runningVar) throw new Error("batchNorm: running_mean and running_var are required when not training");
    for (let ch = 0; ch < c; ch++) {
      mean[ch] = runningMean.data[ch];
      invstd[ch] = 1 / Math.sqrt(runningVar.data[ch] + eps);
    }
  }
  const weight = opts.weight ?? full([c], 1, { dtype: x.dtype });
  const bias = opts.bias ?? full([c], 0, { dtype: x.dtype });
  const differentiable = (g: Tensor) => batchNormGradients(g, x, weight, bias, training ? null : { mean, invstd }, eps);
  return P.batchNormPrim(x, weight, bias, { n, c, inner, mean, invstd, training, relu, differentiable });
}

/**
 * The gradients of batchNorm as differentiable ops (for gradients of gradients): with batch statistics
 * recomputed from x when `fixed` is null, or with the fixed running ones.
 */
function batchNormGradients(
  g: Tensor,
  x: Tensor,
  weight: Tensor,
  bias: Tensor,
  fixed: { mean: Float64Array; invstd: Float64Array } | null,
  eps: number,
): (Tensor | null)[] {
  const c = x.shape[1];
  const bshape = x.shape.map((s, i) => (i === 1 ? c : 1)); // [1, C, 1, ...]
  const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const perChannel = (v: Float64Array) =>
    reshape(new Tensor(x.dtype === "float64" ? Float64Array.from(v) : Float32Array.from(v), [c]), bshape);
  const gxhat = mul(g, reshape(weight, bshape));
  let xhat: Tensor, gx: Tensor;
  if (fixed) {
    const invstd = perChannel(fixed.invstd);
    xhat = mul(sub(x, perChannel(fixed.mean)), invstd);
    gx = mul(gxhat, invstd);
  } else {
    const centered = sub(x, mean(x, dims, { keepdim: true }));
    const invstd = div(1, sqrt(add(mean(mul(centered, centered), dims, { keepdim: true }), eps)));
    xhat = mul(centered, invstd);
    gx = mul(invstd, sub(sub(gxhat, mean(gxhat, dims, { keepdim: true })), mul(xhat, mean(mul(gxhat, xhat), dims, { keepdim: true }))));
  }
  return [x.requiresGrad ? gx : null, weight.requiresGrad ? sum(mul(g, xhat), dims) : null, bias.requiresGrad ? sum(g, dims) : null];
}

export interface LocalResponseNormOptions {
  alpha?: number;
  beta?: number;
  k?: number;
}

/**
 * Local response normalization across channels (AlexNet), like `F.local_response_norm`:
 * b_c = a_c / (k + α/n · Σ_{c' near c} a_c'²)^β over a window of `size` channels.
 */
export function localResponseNorm(x: Tensor, size: number, opts?: LocalResponseNormOptions): Tensor;
/** PyTorch's positional order, `F.local_response_norm(input, size, alpha, beta, k)`. */
export function localResponseNorm(x: Tensor, size: number, alpha: number | undefined, beta?: number, k?: number): Tensor;
export function localResponseNorm(x: Tensor, size: number, ...args: unknown[]): Tensor {
  const opts = positionalOptions<LocalResponseNormOptions>("localResponseNorm", ["alpha", "beta", "k"], args);
  if (x.ndim < 3) throw new RangeError(`localResponseNorm: expected 3D or higher input, got ${fmt(x.shape)}`);
  const alpha = opts.alpha ?? 1e-4,
    beta = opts.beta ?? 0.75,
    k = opts.k ?? 1;
  return traceOp("localResponseNorm", [x], { size, alpha, beta, k }, () => localResponseNormOf(x, size, alpha, beta, k));
}

function localResponseNormOf(x: Tensor, size: number, alpha: number, beta: number, k: number): Tensor {
  const c = x.shape[1];
  const sq = mul(x, x);
  const pads = new Array<number>(2 * (x.ndim - 1)).fill(0);
  pads[2 * (x.ndim - 2)] = Math.floor(size / 2);
  pads[2 * (x.ndim - 2) + 1] = Math.floor((size - 1) / 2);
  const padded = pad(sq, pads); // zero channels before and after
  let acc = narrow(padded, 1, 0, c);
  for (let i = 1; i < size; i++) acc = add(acc, narrow(padded, 1, i, c));
  const denom = pow(add(mul(acc, alpha / size), k), beta);
  return div(x, denom);
}
