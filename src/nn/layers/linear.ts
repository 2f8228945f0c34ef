// Linear, Identity and Flatten, as torch.nn defines them (same default initialization).

import { Tensor } from "../../tensor/tensor.js";
import { zeros } from "../../ops/creation.js";
import { Module, Parameter } from "../module.js";
import { kaimingUniform, uniform } from "../init.js";
import { linear } from "../../ops/math.js";
import { flatten } from "../../ops/movement.js";
import { pyBool } from "./repr.js";
import type { DType } from "../../tensor/dtype.js";

export interface LinearOptions {
  bias?: boolean;
  dtype?: DType;
}

/**
 * y = x·Wᵀ + b, W [outFeatures, inFeatures]. Initialized like PyTorch: W by kaiming-uniform with
 * a = √5 (i.e. U(±1/√in)), b from U(±1/√in).
 *
 * @example const fc = new nb.nn.Linear(784, 10); fc.forward(x); // [N, 10]
 */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    this.weight = new Parameter(zeros([outFeatures, inFeatures], { dtype: opts.dtype }));
    this.bias = (opts.bias ?? true) ? new Parameter(zeros([outFeatures], { dtype: opts.dtype })) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    kaimingUniform(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const b = this.inFeatures > 0 ? 1 / Math.sqrt(this.inFeatures) : 0;
      uniform(this.bias, -b, b);
    }
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias); // [..., in] → [..., out]
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyBool(this.bias !== null)}`;
  }
}

/** Returns its input. */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flattens dims startDim..endDim (default 1..−1): [N, C, H, W] → [N, C·H·W]. */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
