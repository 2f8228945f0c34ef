// The fusion table: rewrites of consecutive steps that give the same values and gradients as running the
// steps one by one, with fewer passes over the activations. Models and Sequential write their layers as
// the papers draw them and run them through `chain`; the rules here are the only place fusion happens
// (each has an equivalence test in test/fuse.test.ts).

import type { Tensor } from "../tensor/tensor.js";
import { linearRelu, relu } from "../ops/math.js";
import { conv2dMaxPool2d } from "../ops/conv_pool.js";
import { isTracing } from "../ops/trace.js";
import { isGradEnabled, recordsGradient } from "../autograd/engine.js";
import { Module } from "./module.js";
import { BatchNorm1d, BatchNorm2d, BatchNormBase } from "./layers/normalization.js";
import { Conv2d, ZeroPad2d } from "./layers/conv.js";
import { Sequential } from "./layers/container.js";
import { MaxPool2d } from "./layers/pooling.js";
import { ReLU } from "./layers/activation.js";
import { Flatten, Linear } from "./layers/linear.js";
import { releaseSpare } from "../tensor/dtype.js";

/** A step of a chain: a module (its forward) or a tensor function such as `relu`. */
export type Step = Module | ((x: Tensor) => Tensor);

export interface FusionRule {
  readonly name: string;
  /** The consecutive steps the pattern spans. */
  readonly length: number;
  /** Whether steps[0 … length) are this rule's pattern. */
  matches(steps: readonly Step[]): boolean;
  /** The steps (its pattern) applied to x, fused. */
  run(steps: readonly Step[], x: Tensor): Tensor;
}

/** A module of exactly class `cls` (not a subclass, which may change forward) with no forward hooks. */
function plain(s: Step, cls: abstract new (...args: never[]) => Module): boolean {
  return s instanceof Module && s.constructor === cls && !s.hasForwardHooks();
}

/**
 * Steps whose forward keeps no reference to its input or output tensors: the functional relu, and plain
 * modules (exact class, no hooks) of these classes.
 */
const keepsNothing = (s: Step) =>
  s === relu ||
  [Conv2d, ZeroPad2d, MaxPool2d, ReLU, Linear, Flatten].some((cls: abstract new (...args: never[]) => Module) => plain(s, cls));

/** The functional relu, or a plain ReLU module. */
const isRelu = (s: Step) => s === relu || plain(s, ReLU);

/**
 * (zero pad →) conv → max-pool, then ReLU with `withRelu`, as one kernel when the forward records no
 * gradient (the convolution's output is never materialized: at LeNet-5's first layer it is 4× the pooled
 * output; a pad is done inside the kernel) and no trace is running (an ONNX export sees the ops);
 * otherwise the ops one by one, with the ReLU after the pooling (as the "ReLU → MaxPool2d" rule runs it).
 */
function convMaxPool(padStep: ZeroPad2d | null, conv: Conv2d, pool: MaxPool2d, withRelu: boolean, x: Tensor): Tensor {
  const padFolds = padStep === null || (padStep.padding.every((p) => p >= 0) && conv.padding !== "same");
  if (recordsGradient([x, conv.weight, conv.bias]) || isTracing() || x.ndim !== 4 || !padFolds) {
    const y = pool.forward(conv.forward(padStep ? padStep.forward(x) : x));
    return withRelu ? relu(y) : y;
  }
  const convOpts = { bias: conv.bias, stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups };
  // ZeroPad2d's [left, right, top, bottom] as the kernel's [top, bottom, left, right]
  const p = padStep?.padding;
  return conv2dMaxPool2d(x, conv.weight, convOpts, pool.kernelSize, pool.opts, withRelu, p && [p[2], p[3], p[0], p[1]]);
}

/** The rules, tried in order at each step (the first that matches is taken). */
export const fusionRules: readonly FusionRule[] = [
  {
    // max-pool commutes with the monotone ReLU (see "ReLU → MaxPool2d"), so the ReLU is applied to the
    // pooled values inside the same kernel
    name: "ZeroPad2d → Conv2d → ReLU → MaxPool2d",
    length: 4,
    matches: ([a, b, c, d]) => plain(a, ZeroPad2d) && plain(b, Conv2d) && isRelu(c) && plain(d, MaxPool2d),
    run: ([a, b, , d], x) => convMaxPool(a as ZeroPad2d, b as Conv2d, d as MaxPool2d, true, x),
  },
  {
    name: "ZeroPad2d → Conv2d → MaxPool2d",
    length: 3,
    matches: ([a, b, c]) => plain(a, ZeroPad2d) && plain(b, Conv2d) && plain(c, MaxPool2d),
    run: ([a, b, c], x) => convMaxPool(a as ZeroPad2d, b as Conv2d, c as MaxPool2d, false, x),
  },
  {
    name: "Conv2d → ReLU → MaxPool2d",
    length: 3,
    matches: ([a, b, c]) => plain(a, Conv2d) && isRelu(b) && plain(c, MaxPool2d),
    run: ([a, , c], x) => convMaxPool(null, a as Conv2d, c as MaxPool2d, true, x),
  },
  {
    name: "Conv2d → MaxPool2d",
    length: 2,
    matches: ([a, b]) => plain(a, Conv2d) && plain(b, MaxPool2d),
    run: ([a, b], x) => convMaxPool(null, a as Conv2d, b as MaxPool2d, false, x),
  },
  {
    // inference's x·Wᵀ + b → max(·, 0) in one backend call (no matmul or bias-add array; MLP heads such as
    // LeNet-5's classifier); with a gradient recorded or a trace running, Linear then relu
    name: "Linear → ReLU",
    length: 2,
    matches: ([a, b]) => plain(a, Linear) && isRelu(b),
    run: ([a], x) => linearRelu(x, (a as Linear).weight, (a as Linear).bias),
  },
  {
    // y = max(bn(x), 0) in one primitive: the affine pass writes the ReLU's output, and the backward masks
    // the gradient inside batch norm's two passes (no ReLU pass, no ReLU-backward pass)
    name: "BatchNorm → ReLU",
    length: 2,
    matches: ([a, b]) => (plain(a, BatchNorm2d) || plain(a, BatchNorm1d)) && isRelu(b),
    run: ([a], x) => (a as BatchNormBase).forwardRelu(x),
  },
  {
    // ReLU → max-pool as max-pool → ReLU: max commutes with the monotone ReLU (−∞ padding never wins, NaN
    // wins either way), and the gradient is the same — the window's winner gets g where the pooled value is
    // > 0, every other input 0 — with the ReLU and its backward on the smaller pooled tensor
    name: "ReLU → MaxPool2d",
    length: 2,
    matches: ([a, b]) => isRelu(a) && plain(b, MaxPool2d),
    run: ([, b], x) => relu((b as MaxPool2d).forward(x)),
  },
];

/** A step's result's storage buffer (a user's step may return something other than a tensor: undefined). */
const bufferOf = (t: Tensor) => (t as Partial<Tensor> | null)?.data?.buffer;

function runStep(s: Step, x: Tensor): Tensor {
  return s instanceof Module ? s.forward(x) : s(x);
}

/**
 * x through the steps in order, with the fusion rules applied to consecutive steps: the same values and
 * gradients as `steps.reduce((h, s) => s(h), x)`. A plain Sequential step (no hooks) counts as its layers,
 * so that rules also match across its boundary.
 *
 * @example out = chain(x, this.conv1, this.bn1, relu, this.conv2, this.bn2); // conv → BN → ReLU → conv → BN
 */
export function chain(x: Tensor, ...given: Step[]): Tensor {
  const flat = (s: Step) => (plain(s, Sequential) ? (s as Sequential).children() : [s]);
  const steps = given.some((s) => plain(s, Sequential)) ? given.flatMap(flat) : given;
  // In a forward that records nothing and is not traced, an intermediate made here by steps that keep
  // nothing is reachable only through `x`: once the next such steps have read it into a new array, its
  // array is handed back for the next output of its size (releaseSpare). The chain's input, a view of it,
  // and anything a user's module or a hook may have kept are never handed back.
  const reuse = !isGradEnabled() && !isTracing();
  let owned = false; // x is an intermediate that only this chain reaches
  for (let i = 0; i < steps.length;) {
    const rule = fusionRules.find((r) => i + r.length <= steps.length && r.matches(steps.slice(i, i + r.length)));
    const span = steps.slice(i, i + (rule ? rule.length : 1));
    const input = x;
    x = rule ? rule.run(span, x) : runStep(span[0], x);
    i += span.length;
    const keeps = !reuse || !span.every(keepsNothing);
    const out = bufferOf(x);
    if (out === undefined) owned = false;
    else if (out === bufferOf(input))
      owned &&= !keeps; // x is its input, or a view of it
    else {
      if (owned && !keeps) releaseSpare(input.data);
      owned = !keeps;
    }
  }
  return x;
}
