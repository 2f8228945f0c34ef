// Loss functions with torch.nn.functional's formulas, options and reductions (camelCase names).

import { labelGradFn } from "./format.js";
import { Tensor } from "../tensor/tensor.js";
import { fmt } from "../tensor/shape.js";
import { abs, add, cast, clamp, div, log, logSigmoid, mean, mul, ne, neg, sub, sum, where, lt } from "./math.js";
import { gather, permute, reshape } from "./movement.js";
import { logSoftmax } from "./activation.js";
import { optionsArg, weightOrOptions } from "./args.js";
import { surplus } from "../surplus.js";

export type Reduction = "mean" | "sum" | "none";
export interface ReductionOptions {
  reduction?: Reduction;
}

/** PyTorch's grad_fn names for the losses that are one node there. */
const LOSS_NODES: Record<string, string> = {
  mseLoss: "MseLossBackward0",
  smoothL1Loss: "SmoothL1LossBackward0",
  huberLoss: "HuberLossBackward0",
  binaryCrossEntropy: "BinaryCrossEntropyBackward0",
  binaryCrossEntropyWithLogits: "BinaryCrossEntropyWithLogitsBackward0",
};

function reduce(loss: Tensor, reduction: Reduction | undefined, op: string): Tensor {
  const named = (t: Tensor) => (LOSS_NODES[op] ? labelGradFn(t, LOSS_NODES[op]) : t);
  switch (reduction ?? "mean") {
    case "mean":
      return named(mean(loss));
    case "sum":
      return named(sum(loss));
    case "none":
      return named(loss);
  }
  throw new RangeError(`${op}: reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
}

function sameShape(input: Tensor, target: Tensor, op: string): void {
  if (!(input instanceof Tensor) || !(target instanceof Tensor)) throw new TypeError(`${op}: input and target must be Tensors`);
  if (input.shape.length !== target.shape.length || input.shape.some((s, i) => s !== target.shape[i])) {
    throw new RangeError(`${op}: target size ${fmt(target.shape)} must be the same as input size ${fmt(input.shape)}`);
  }
}

/** L1 / mean absolute error: |x − y|. */
export function l1Loss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "l1Loss(input, target, options)");
  const opts = optionsArg<ReductionOptions>(options, "l1Loss", ["reduction"]);
  sameShape(input, target, "l1Loss");
  return reduce(abs(sub(input, target)), opts.reduction, "l1Loss");
}

/** L2 / mean squared error: (x − y)². */
export function mseLoss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "mseLoss(input, target, options)");
  const opts = optionsArg<ReductionOptions>(options, "mseLoss", ["reduction"]);
  sameShape(input, target, "mseLoss");
  const d = sub(input, target);
  return reduce(mul(d, d), opts.reduction, "mseLoss");
}

/** Smooth L1: 0.5·d²/β where |d| < β, else |d| − 0.5·β (β = 1 by default; β = 0 is L1). */
export function smoothL1Loss(input: Tensor, target: Tensor, options: ReductionOptions & { beta?: number } = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "smoothL1Loss(input, target, options)");
  const opts = optionsArg<ReductionOptions & { beta?: number }>(options, "smoothL1Loss", ["reduction", "beta"]);
  sameShape(input, target, "smoothL1Loss");
  const beta = opts.beta ?? 1;
  if (beta < 0) throw new RangeError(`smoothL1Loss: beta must be non-negative, got ${beta}`);
  const z = abs(sub(input, target));
  if (beta === 0) return reduce(z, opts.reduction, "smoothL1Loss");
  const loss = where(lt(z, beta), div(mul(mul(z, z), 0.5), beta), sub(z, 0.5 * beta));
  return reduce(loss, opts.reduction, "smoothL1Loss");
}

/** Huber: 0.5·d² where |d| ≤ δ, else δ·(|d| − 0.5·δ) (δ = 1 by default). */
export function huberLoss(input: Tensor, target: Tensor, options: ReductionOptions & { delta?: number } = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "huberLoss(input, target, options)");
  const opts = optionsArg<ReductionOptions & { delta?: number }>(options, "huberLoss", ["reduction", "delta"]);
  sameShape(input, target, "huberLoss");
  const delta = opts.delta ?? 1;
  if (!(delta > 0)) throw new RangeError(`huberLoss: delta must be positive, got ${delta}`);
  const z = abs(sub(input, target));
  const loss = where(lt(z, delta), mul(mul(z, z), 0.5), mul(sub(z, 0.5 * delta), delta));
  return reduce(loss, opts.reduction, "huberLoss");
}

export interface NllOptions extends ReductionOptions {
  /** Per-class rescaling weights [C]. */
  weight?: Tensor | null;
  /** Target value that contributes nothing (default −100). */
  ignoreIndex?: number;
}

/** Move the class dim (1) last and flatten: [N, C, d1…] → [N·d1…, C]; a 1-D [C] input becomes [1, C]. */
function classesLast(input: Tensor): Tensor {
  if (input.ndim === 1) return reshape(input, [1, input.shape[0]]);
  if (input.ndim === 2) return input;
  const perm = [0, ...input.shape.map((_, i) => i).slice(2), 1];
  return reshape(permute(input, perm), [-1, input.shape[1]]);
}

/** The shape of a class-index target for `input`: [N, d1…] for [N, C, d1…], [] for [C]. */
function classTargetShape(input: Tensor): number[] {
  return input.ndim === 1 ? [] : [input.shape[0], ...input.shape.slice(2)];
}

/** The error for class indices given as floats (`nb.tensor([0, 1, 2])` is float32, as any JS number array is). */
function floatClassIndices(op: string, input: Tensor, target: Tensor, probabilitiesOk: boolean): TypeError {
  return new TypeError(
    `${op}: the target ${fmt(target.shape)} looks like class indices but is ${target.dtype}; class indices must be int32: ` +
      `nb.tensor([...], { dtype: "int32" }) or target.int()` +
      (probabilitiesOk ? ` (a floating-point target is read as class probabilities, with the input's shape ${fmt(input.shape)})` : ""),
  );
}

function checkClassTarget(input: Tensor, target: Tensor, op: string): void {
  const expected = classTargetShape(input);
  if (target.dtype !== "int32") {
    if (fmt(target.shape) === fmt(expected)) throw floatClassIndices(op, input, target, false);
    throw new TypeError(`${op}: class-index target must be int32, got ${target.dtype}`);
  }
  if (target.ndim !== expected.length || target.shape.some((s, i) => s !== expected[i])) {
    throw new RangeError(`${op}: target shape ${fmt(target.shape)} does not match input ${fmt(input.shape)} (expected ${fmt(expected)})`);
  }
}

/**
 * Negative log likelihood of log-probabilities `input` [N, C] (or [N, C, d1…], or [C]) at class
 * indices `target` (int32). With `weight`, the mean is Σ w_y·loss / Σ w_y over non-ignored targets.
 */
export function nllLoss(input: Tensor, target: Tensor, options: NllOptions | Tensor = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "nllLoss(input, target, options)");
  const opts = weightOrOptions<NllOptions>(options, "nllLoss", ["weight", "ignoreIndex", "reduction"]);
  checkClassTarget(input, target, "nllLoss");
  return nllCore(classesLast(input), target, opts, "nllLoss");
}

function nllCore(logp: Tensor, target: Tensor, opts: NllOptions, op: string): Tensor {
  const c = logp.shape[1];
  const ignore = opts.ignoreIndex ?? -100;
  const t = reshape(target, [-1]).data;
  const safe = new Int32Array(t.length); // ignored targets read class 0, then get weight 0
  const wsel = new (logp.dtype === "float64" ? Float64Array : Float32Array)(t.length);
  const w = opts.weight ?? null;
  if (w && (w.ndim !== 1 || w.shape[0] !== c)) throw new RangeError(`${op}: weight must have shape [${c}], got ${fmt(w.shape)}`);
  for (let i = 0; i < t.length; i++) {
    if (t[i] === ignore) continue;
    if (t[i] < 0 || t[i] >= c) throw new RangeError(`${op}: target ${t[i]} is out of bounds for ${c} classes`);
    safe[i] = t[i];
    wsel[i] = w ? w.data[t[i]] : 1;
  }
  const picked = reshape(gather(logp, 1, new Tensor(safe, [t.length, 1])), [t.length]);
  const wt = new Tensor(wsel, [t.length]);
  const losses = neg(mul(picked, wt));
  switch (opts.reduction ?? "mean") {
    case "none":
      return labelGradFn(reshape(losses, [...target.shape]), "NllLossBackward0");
    case "sum":
      return labelGradFn(sum(losses), "NllLossBackward0");
    case "mean":
      return labelGradFn(div(sum(losses), sum(wt)), "NllLossBackward0");
  }
  throw new RangeError(`${op}: reduction must be 'mean', 'sum' or 'none', got '${opts.reduction}'`);
}

export interface CrossEntropyOptions extends NllOptions {
  /** Mix the target with the uniform distribution: (1 − ε)·target + ε/C (default 0). */
  labelSmoothing?: number;
}

/**
 * Cross-entropy between logits `input` [N, C] (or [N, C, d1…], or [C]) and either class indices
 * (int32 [N, d1…]) or class probabilities (the input's shape), like `F.cross_entropy`: log-softmax
 * then NLL, computed stably so logits of ±1e4 stay finite and exact.
 */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions | Tensor = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "crossEntropy(input, target, options)");
  const opts = weightOrOptions<CrossEntropyOptions>(options, "crossEntropy", ["weight", "ignoreIndex", "reduction", "labelSmoothing"]);
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new RangeError(`crossEntropy: labelSmoothing must be between 0.0 and 1.0, got ${eps}`);
  const logp = classesLast(logSoftmax(input, input.ndim === 1 ? 0 : 1)); // [M, C]
  const c = logp.shape[1];
  const w = opts.weight ?? null;
  if (w && (w.ndim !== 1 || w.shape[0] !== c)) throw new RangeError(`crossEntropy: weight must have shape [${c}], got ${fmt(w.shape)}`);
  if (target.dtype !== "int32") {
    // Probability targets: −Σ_c w_c·t_c·log p_c per sample, mean over samples.
    if (fmt(target.shape) !== fmt(input.shape) && fmt(target.shape) === fmt(classTargetShape(input)))
      throw floatClassIndices("crossEntropy", input, target, true);
    sameShape(input, target, "crossEntropy");
    let t = classesLast(target);
    if (eps > 0) t = add(mul(t, 1 - eps), eps / c);
    let terms = mul(logp, t);
    if (w) terms = mul(terms, w);
    const per = neg(sum(terms, 1));
    if ((opts.reduction ?? "mean") === "none") return reshape(per, input.ndim === 1 ? [] : [input.shape[0], ...input.shape.slice(2)]);
    return labelGradFn(reduce(per, opts.reduction, "crossEntropy"), "NllLossBackward0");
  }
  checkClassTarget(input, target, "crossEntropy");
  const nll = nllCore(logp, target, opts, "crossEntropy");
  if (eps === 0) return nll;
  // Label smoothing with class indices (PyTorch 1.13): (1 − ε)·nll + ε/C·smooth, smooth = −Σ_c w_c·log p_c.
  const ignore = opts.ignoreIndex ?? -100;
  const flatT = reshape(target, [-1]);
  const keep = cast(ne(flatT, ignore), logp.dtype);
  let smooth = neg(sum(w ? mul(logp, w) : logp, 1));
  smooth = mul(smooth, keep);
  let smoothRed: Tensor;
  switch (opts.reduction ?? "mean") {
    case "none":
      smoothRed = reshape(smooth, [...target.shape]);
      break;
    case "sum":
      smoothRed = sum(smooth);
      break;
    default: {
      // Normalized like the NLL term: by Σ w_y (or the count) over non-ignored targets.
      const t = flatT.data;
      let den = 0;
      for (let i = 0; i < t.length; i++) if (t[i] !== ignore) den += w ? w.data[t[i]] : 1;
      smoothRed = div(sum(smooth), den);
    }
  }
  return add(mul(nll, 1 - eps), mul(smoothRed, eps / c));
}

export interface BceOptions extends ReductionOptions {
  /** Rescaling weight of each element, broadcast to the input. */
  weight?: Tensor | null;
}

/** Binary cross-entropy of probabilities: −w·(y·log x + (1 − y)·log(1 − x)), logs clamped at −100 as PyTorch. */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: BceOptions | Tensor = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "binaryCrossEntropy(input, target, options)");
  const opts = weightOrOptions<BceOptions>(options, "binaryCrossEntropy", ["weight", "reduction"]);
  sameShape(input, target, "binaryCrossEntropy");
  const d = input.data;
  for (let i = 0; i < d.length; i++) {
    if (!(d[i] >= 0 && d[i] <= 1))
      throw new RangeError(`binaryCrossEntropy: all elements of input should be between 0 and 1 (found ${d[i]} at index ${i})`);
  }
  const logx = clamp(log(input), { min: -100 });
  const log1mx = clamp(log(sub(1, input)), { min: -100 });
  let loss = neg(add(mul(target, logx), mul(sub(1, target), log1mx)));
  if (opts.weight) loss = mul(loss, opts.weight);
  return reduce(loss, opts.reduction, "binaryCrossEntropy");
}

export interface BceLogitsOptions extends BceOptions {
  /** Weight of positive examples per class, broadcast along the last dim. */
  posWeight?: Tensor | null;
}

/**
 * Sigmoid + binary cross-entropy in one stable expression:
 * (1 − y)·x + (1 + (p − 1)·y)·softplus(−x), finite for logits of any size.
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: BceLogitsOptions | Tensor = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "binaryCrossEntropyWithLogits(input, target, options)");
  const opts = weightOrOptions<BceLogitsOptions>(options, "binaryCrossEntropyWithLogits", ["weight", "reduction", "posWeight"]);
  sameShape(input, target, "binaryCrossEntropyWithLogits");
  const softplusNeg = neg(logSigmoid(input)); // log(1 + e^{−x})
  const logWeight = opts.posWeight ? add(mul(sub(opts.posWeight, 1), target), 1) : null;
  let loss = add(mul(sub(1, target), input), logWeight ? mul(logWeight, softplusNeg) : softplusNeg);
  if (opts.weight) loss = mul(loss, opts.weight);
  return reduce(loss, opts.reduction, "binaryCrossEntropyWithLogits");
}

/**
 * Multi-label soft margin: one sigmoid + BCE per label, averaged over the C labels, then reduced over
 * the batch: −(1/C)·Σ_c w_c·(y_c·log σ(x_c) + (1 − y_c)·log σ(−x_c)).
 */
export function multilabelSoftMarginLoss(input: Tensor, target: Tensor, options: BceOptions | Tensor = {}): Tensor {
  if (arguments.length > 3) surplus(arguments, "multilabelSoftMarginLoss(input, target, options)");
  const opts = weightOrOptions<BceOptions>(options, "multilabelSoftMarginLoss", ["weight", "reduction"]);
  sameShape(input, target, "multilabelSoftMarginLoss");
  if (input.ndim !== 2 && input.ndim !== 1)
    throw new RangeError(`multilabelSoftMarginLoss: expected input [N, C] or [C], got ${fmt(input.shape)}`);
  let loss = neg(add(mul(target, logSigmoid(input)), mul(sub(1, target), logSigmoid(neg(input)))));
  if (opts.weight) loss = mul(loss, opts.weight);
  const perSample = mean(loss, -1);
  return reduce(perSample, opts.reduction, "multilabelSoftMarginLoss");
}
