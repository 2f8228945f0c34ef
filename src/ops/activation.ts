// Activations as composites of primitives: softmax, logSoftmax, leakyRelu, dropout (torch.nn.functional's
// names and defaults).

import { labelGradFn } from "./format.js";
import { Tensor } from "../tensor/tensor.js";
import { normDim } from "../tensor/shape.js";
import { defaultGenerator, type Generator } from "../tensor/random.js";
import { amax, div, exp, gt, log, mul, sub, sum, where } from "./math.js";
import { rand } from "./creation.js";
import { optionsArg } from "./args.js";
import { traceOp } from "./trace.js";
import { surplus } from "../surplus.js";

/** softmax(x)_i = exp(x_i − m) / Σ_j exp(x_j − m) along `dim`, m = max (stable for any magnitude). */
export function softmax(x: Tensor, dim: number): Tensor {
  if (arguments.length > 2) surplus(arguments, "softmax(x, dim)");
  const d = normDim(dim, x.ndim, "softmax");
  return traceOp("softmax", [x], { dim: d }, () => {
    const e = exp(sub(x, amax(x, d, { keepdim: true }).detach()));
    return labelGradFn(div(e, sum(e, d, { keepdim: true })), "SoftmaxBackward0");
  });
}

/** log softmax along `dim`: x − m − log Σ exp(x − m); exact for logits of ±1e4. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  if (arguments.length > 2) surplus(arguments, "logSoftmax(x, dim)");
  const d = normDim(dim, x.ndim, "logSoftmax");
  return traceOp("logSoftmax", [x], { dim: d }, () => {
    const shifted = sub(x, amax(x, d, { keepdim: true }).detach());
    return labelGradFn(sub(shifted, log(sum(exp(shifted), d, { keepdim: true }))), "LogSoftmaxBackward0");
  });
}

/** max(0, x) + negativeSlope·min(0, x). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  if (arguments.length > 2) surplus(arguments, "leakyRelu(x, negativeSlope)");
  return traceOp("leakyRelu", [x], { negativeSlope }, () => where(gt(x, 0), x, mul(x, negativeSlope)));
}

/**
 * Dropout: in training, zero each element with probability `p` and scale the rest by 1/(1−p);
 * identity otherwise. Masks come from the seeded generator.
 */
export function dropout(x: Tensor, p = 0.5, training = true, options: { generator?: Generator } = {}): Tensor {
  if (arguments.length > 4) surplus(arguments, "dropout(x, p, training, options)");
  const opts = optionsArg<{ generator?: Generator }>(options, "dropout", ["generator"]);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: probability has to be between 0 and 1, but got ${p}`);
  if (!training || p === 0) return x;
  return traceOp("dropout", [x], { p, training }, () => dropoutMask(x, p, opts.generator));
}

function dropoutMask(x: Tensor, p: number, generator: Generator | undefined): Tensor {
  if (p === 1) return mul(x, 0);
  const mask = rand(x.shape, { dtype: x.dtype, generator: generator ?? defaultGenerator });
  const m = mask.data;
  const scale = 1 / (1 - p);
  for (let i = 0; i < m.length; i++) m[i] = m[i] < p ? 0 : scale;
  return mul(x, mask);
}
