// Linear, Identity and Flatten, as torch.nn defines them (same default initialization).

import { Tensor } from "../../tensor/tensor.js";
import { zeros } from "../../ops/creation.js";
import { Module, Parameter } from "../module.js";
import { kaimingUniform, uniform } from "../init.js";
import { linear } from "../../ops/math.js";
import { flatten } from "../../ops/movement.js";
import { pyBool } from "./repr.js";
import type { DType } from "../../tensor/dtype.js";
import { bindArgs, checks, type Param } from "../../ops/args.js";

export interface LinearOptions {
  bias?: boolean;
  /** PyTorch's device: nabla runs on the CPU. */
  device?: "cpu" | null;
  dtype?: DType;
}

const LINEAR: Param[] = [
  { name: "inFeatures", check: checks.int(0), required: true },
  { name: "outFeatures", check: checks.int(0), required: true },
  { name: "bias", check: checks.bool },
  { name: "device", check: checks.device },
  { name: "dtype", check: checks.dtype },
];

/**
 * y = x·Wᵀ + b, W [outFeatures, inFeatures]. Initialized like PyTorch: W by kaiming-uniform with
 * a = √5 (i.e. U(±1/√in)), b from U(±1/√in). Takes torch.nn.Linear's positional order or options.
 *
 * @example const fc = new nb.nn.Linear(784, 10); fc.forward(x); // [N, 10]
 * @example new nb.nn.Linear(784, 10, false) // no bias, as in PyTorch
 */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, opts?: LinearOptions);
  constructor(inFeatures: number, outFeatures: number, bias?: boolean, device?: "cpu" | null, dtype?: DType);
  constructor(opts: LinearOptions & { inFeatures: number; outFeatures: number });
  constructor(...args: unknown[]) {
    super();
    const o = bindArgs<LinearOptions & { inFeatures: number; outFeatures: number }>("Linear", LINEAR, args);
    this.inFeatures = o.inFeatures;
    this.outFeatures = o.outFeatures;
    this.weight = new Parameter(zeros([o.outFeatures, o.inFeatures], { dtype: o.dtype }));
    this.bias = (o.bias ?? true) ? new Parameter(zeros([o.outFeatures], { dtype: o.dtype })) : null;
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
  readonly startDim: number;
  readonly endDim: number;
  constructor(startDim?: number, endDim?: number);
  constructor(opts: { startDim?: number; endDim?: number });
  constructor(...args: unknown[]) {
    super();
    const o = bindArgs<{ startDim?: number; endDim?: number }>(
      "Flatten",
      [
        { name: "startDim", check: checks.int() },
        { name: "endDim", check: checks.int() },
      ],
      args,
    );
    this.startDim = o.startDim ?? 1;
    this.endDim = o.endDim ?? -1;
  }
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
