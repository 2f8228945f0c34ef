// Adagrad — torch.optim.Adagrad (1.13).

import { noGrad } from "../autograd/engine.js";
import { check, Optimizer, zerosLikeParam, stateCount, stateTensor, type Closure, type ParamsInput, type StateSpec } from "./optimizer.js";
import { flag, hyper, optimArgs } from "./optimizer.js";
import { optimizerUpdates } from "../ops/prims.js";
import type { Tensor } from "../tensor/tensor.js";

export interface AdagradOptions {
  /** Learning rate η (default 1e-2). */
  lr?: number;
  /** Learning-rate decay (default 0). */
  lrDecay?: number;
  weightDecay?: number;
  /** Starting value of the squared-gradient sum (default 0). */
  initialAccumulatorValue?: number;
  eps?: number;
  maximize?: boolean;
}

/**
 * Adagrad (Duchi, Hazan & Singer 2011): per-coordinate rates shrink with the accumulated squared
 * gradients, so frequently-updated coordinates slow down — and the rate only ever decreases.
 *
 * 1. g ← −g if maximize;  g ← g + λθ
 * 2. η̃ ← η / (1 + (t − 1)·lrDecay)
 * 3. s ← s + g²
 * 4. θ ← θ − η̃ · g / (√s + ε)
 *
 * Defaults η = 1e-2, ε = 1e-10. State: `step`, `sum`.
 */
export class Adagrad extends Optimizer<Required<AdagradOptions>> {
  constructor(params: ParamsInput<Required<AdagradOptions>>, opts?: AdagradOptions);
  constructor(
    params: ParamsInput<Required<AdagradOptions>>,
    lr?: number,
    lrDecay?: number,
    weightDecay?: number,
    initialAccumulatorValue?: number,
    eps?: number,
    opts?: { maximize?: boolean },
  );
  constructor(params: ParamsInput<Required<AdagradOptions>>, ...args: unknown[]) {
    const o = optimArgs<AdagradOptions>(
      "Adagrad",
      [hyper("lr"), hyper("lrDecay"), hyper("weightDecay"), hyper("initialAccumulatorValue"), hyper("eps"), flag("maximize", true)],
      args,
    );
    super(params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false, ...o });
  }

  protected override stateSpec(): StateSpec {
    return { step: stateCount, sum: stateTensor };
  }
  protected validate(o: Required<AdagradOptions>): void {
    check(o.lr >= 0, `Invalid learning rate: ${o.lr}`);
    check(o.lrDecay >= 0, `Invalid lr_decay value: ${o.lrDecay}`);
    check(o.weightDecay >= 0, `Invalid weight_decay value: ${o.weightDecay}`);
    check(o.initialAccumulatorValue >= 0, `Invalid initial_accumulator_value value: ${o.initialAccumulatorValue}`);
    check(o.eps >= 0, `Invalid epsilon value: ${o.eps}`);
  }

  step(closure?: Closure): number | null {
    const loss = this.evaluate(closure);
    noGrad(() => {
      for (const g of this.paramGroups) {
        for (const p of g.params) {
          if (p.grad === null) continue;
          const st = this.stateOf(p);
          if (st.sum === undefined) {
            st.step = 0;
            st.sum = zerosLikeParam(p, g.initialAccumulatorValue);
          }
          st.step = (st.step as number) + 1;
          const clr = g.lr / (1 + ((st.step as number) - 1) * g.lrDecay);
          optimizerUpdates.adagrad(p, p.grad, st.sum as Tensor, { clr, eps: g.eps, weightDecay: g.weightDecay, maximize: g.maximize });
        }
      }
    });
    return loss;
  }
}
