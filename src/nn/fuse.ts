// The fusion table: rewrites of consecutive steps that give the same values and gradients as running the
// steps one by one, with fewer passes over the activations. Models and Sequential write their layers as
// the papers draw them and run them through `chain`; the rules here are the only place fusion happens
// (each has an equivalence test in test/fuse.test.ts).

import type { Tensor } from "../tensor/tensor.js";
import { relu } from "../ops/math.js";
import { Module } from "./module.js";
import { BatchNorm1d, BatchNorm2d, BatchNormBase } from "./layers/normalization.js";
import { MaxPool2d } from "./layers/pooling.js";
import { ReLU } from "./layers/activation.js";

/** A step of a chain: a module (its forward) or a tensor function such as `relu`. */
export type Step = Module | ((x: Tensor) => Tensor);

export interface FusionRule {
  readonly name: string;
  /** Whether `a` then `b` is this rule's pattern. */
  matches(a: Step, b: Step): boolean;
  /** b(a(x)), fused. */
  run(a: Step, b: Step, x: Tensor): Tensor;
}

/** A module of exactly class `cls` (not a subclass, which may change forward) with no forward hooks. */
function plain(s: Step, cls: abstract new (...args: never[]) => Module): boolean {
  return s instanceof Module && s.constructor === cls && !s.hasForwardHooks();
}

/** The functional relu, or a plain ReLU module. */
const isRelu = (s: Step) => s === relu || plain(s, ReLU);

/** The rules, tried in order at each step. */
export const fusionRules: readonly FusionRule[] = [
  {
    // y = max(bn(x), 0) in one primitive: the affine pass writes the ReLU's output, and the backward masks
    // the gradient inside batch norm's two passes (no ReLU pass, no ReLU-backward pass)
    name: "BatchNorm → ReLU",
    matches: (a, b) => (plain(a, BatchNorm2d) || plain(a, BatchNorm1d)) && isRelu(b),
    run: (a, _b, x) => (a as BatchNormBase).forwardRelu(x),
  },
  {
    // ReLU → max-pool as max-pool → ReLU: max commutes with the monotone ReLU (−∞ padding never wins, NaN
    // wins either way), and the gradient is the same — the window's winner gets g where the pooled value is
    // > 0, every other input 0 — with the ReLU and its backward on the smaller pooled tensor
    name: "ReLU → MaxPool2d",
    matches: (a, b) => isRelu(a) && plain(b, MaxPool2d),
    run: (_a, b, x) => relu((b as MaxPool2d).forward(x)),
  },
];

function runStep(s: Step, x: Tensor): Tensor {
  return s instanceof Module ? s.forward(x) : s(x);
}

/**
 * x through the steps in order, with the fusion rules applied to consecutive pairs: the same values and
 * gradients as `steps.reduce((h, s) => s(h), x)`.
 *
 * @example out = chain(x, this.conv1, this.bn1, relu, this.conv2, this.bn2); // conv → BN → ReLU → conv → BN
 */
export function chain(x: Tensor, ...steps: Step[]): Tensor {
  for (let i = 0; i < steps.length; i++) {
    const next = steps[i + 1];
    const rule = next === undefined ? undefined : fusionRules.find((r) => r.matches(steps[i], next));
    if (rule) {
      x = rule.run(steps[i], next!, x);
      i++;
    } else x = runStep(steps[i], x);
  }
  return x;
}
