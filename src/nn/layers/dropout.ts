// Dropout as a layer (torch.nn.Dropout).

import { Tensor } from "../../tensor/tensor.js";
import { Module } from "../module.js";
import { dropout } from "../../ops/activation.js";
import { pyFloat } from "./repr.js";
import { bindArgs, checks } from "../../ops/args.js";

/** Zeroes elements with probability p during training (scaling the rest by 1/(1−p)); identity in eval. */
export class Dropout extends Module {
  readonly p: number;
  constructor(p?: number, inplace?: boolean);
  constructor(opts: { p?: number; inplace?: boolean });
  constructor(...args: unknown[]) {
    super();
    // PyTorch's inplace flag is accepted; nabla's dropout never writes into its input
    const o = bindArgs<{ p?: number }>(
      "Dropout",
      [
        { name: "p", check: checks.number() },
        { name: "inplace", check: checks.bool },
      ],
      args,
    );
    const p = (this.p = o.p ?? 0.5);
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Dropout: probability has to be between 0 and 1, but got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=False`;
  }
}
