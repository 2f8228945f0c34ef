// Module forms of the losses (`new nb.nn.CrossEntropyLoss({ labelSmoothing: 0.1 })`), as torch.nn.

import { Tensor } from "../../tensor/tensor.js";
import { Module } from "../module.js";
import * as L from "../../ops/losses.js";
import { bindArgs, checks, type Param } from "../../ops/args.js";

const reduction: Param = { name: "reduction", check: checks.oneOf("mean", "sum", "none") };
const weight: Param = { name: "weight", check: checks.orNull(checks.tensor) };
// PyTorch's deprecated size_average / reduce keep their positional slots; only null (unset) is accepted
const deprecated = (name: string): Param => ({ name, check: (v) => (v === null ? null : "null (deprecated in PyTorch: use reduction)") });
const sizeAverage = deprecated("sizeAverage"),
  reduce = deprecated("reduce");

/** Each loss's parameters in torch.nn's positional order. */
const SIGNATURES: Record<string, Param[]> = {
  L1Loss: [sizeAverage, reduce, reduction],
  MSELoss: [sizeAverage, reduce, reduction],
  SmoothL1Loss: [sizeAverage, reduce, reduction, { name: "beta", check: checks.number(0) }],
  HuberLoss: [reduction, { name: "delta", check: checks.number(0) }],
  CrossEntropyLoss: [
    weight,
    sizeAverage,
    { name: "ignoreIndex", check: checks.int() },
    reduce,
    reduction,
    { name: "labelSmoothing", check: checks.number(0) },
  ],
  NLLLoss: [weight, sizeAverage, { name: "ignoreIndex", check: checks.int() }, reduce, reduction],
  BCELoss: [weight, sizeAverage, reduce, reduction],
  BCEWithLogitsLoss: [weight, sizeAverage, reduce, reduction, { name: "posWeight", check: checks.orNull(checks.tensor) }],
  MultiLabelSoftMarginLoss: [weight, sizeAverage, reduce, reduction],
};

/** A loss module: torch.nn's positional order or an options object (`new CrossEntropyLoss({ labelSmoothing: 0.1 })`). */
abstract class Loss<O extends L.ReductionOptions> extends Module {
  readonly opts: O;
  constructor(opts?: O);
  constructor(...args: unknown[]);
  constructor(...args: unknown[]) {
    super();
    const cls = new.target.name;
    const { sizeAverage: _s, reduce: _r, ...opts } = bindArgs<O & { sizeAverage?: null; reduce?: null }>(cls, SIGNATURES[cls], args);
    this.opts = opts as unknown as O;
  }
  abstract override forward(input: Tensor, target: Tensor): Tensor;
}

/** Mean absolute error. */
export class L1Loss extends Loss<L.ReductionOptions> {
  forward(input: Tensor, target: Tensor): Tensor {
    return L.l1Loss(input, target, this.opts);
  }
}
/** Mean squared error. */
export class MSELoss extends Loss<L.ReductionOptions> {
  forward(input: Tensor, target: Tensor): Tensor {
    return L.mseLoss(input, target, this.opts);
  }
}
export class SmoothL1Loss extends Loss<L.ReductionOptions & { beta?: number }> {
  forward(input: Tensor, target: Tensor): Tensor {
    return L.smoothL1Loss(input, target, this.opts);
  }
}
export class HuberLoss extends Loss<L.ReductionOptions & { delta?: number }> {
  forward(input: Tensor, target: Tensor): Tensor {
    return L.huberLoss(input, target, this.opts);
  }
}
/** Softmax + negative log likelihood on logits; class-index or probability targets. */
export class CrossEntropyLoss extends Loss<L.CrossEntropyOptions> {
  forward(input: Tensor, target: Tensor): Tensor {
    return L.crossEntropy(input, target, this.opts);
  }
}
export class NLLLoss extends Loss<L.NllOptions> {
  forward(input: Tensor, target: Tensor): Tensor {
    return L.nllLoss(input, target, this.opts);
  }
}
/** BCE on probabilities (after a sigmoid). */
export class BCELoss extends Loss<L.BceOptions> {
  forward(input: Tensor, target: Tensor): Tensor {
    return L.binaryCrossEntropy(input, target, this.opts);
  }
}
/** Sigmoid + BCE on logits, numerically stable. */
export class BCEWithLogitsLoss extends Loss<L.BceLogitsOptions> {
  forward(input: Tensor, target: Tensor): Tensor {
    return L.binaryCrossEntropyWithLogits(input, target, this.opts);
  }
}
/** The multi-label recipe: one sigmoid + BCE per label, averaged over labels. */
export class MultiLabelSoftMarginLoss extends Loss<L.BceOptions> {
  forward(input: Tensor, target: Tensor): Tensor {
    return L.multilabelSoftMarginLoss(input, target, this.opts);
  }
}
