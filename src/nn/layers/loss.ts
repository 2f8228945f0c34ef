// Module forms of the losses (`new nb.nn.CrossEntropyLoss({ labelSmoothing: 0.1 })`), as torch.nn.

import { Tensor } from "../../tensor/tensor.js";
import { Module } from "../module.js";
import * as L from "../../ops/losses.js";

abstract class Loss<O extends L.ReductionOptions> extends Module {
  constructor(readonly opts: O = {} as O) {
    super();
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
