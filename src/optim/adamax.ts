// Adamax — torch.optim.Adamax (1.13).

import { noGrad } from "../autograd/engine.js";
import {
  checkAdamFamily,
  Optimizer,
  zerosLikeParam,
  stateCount,
  stateTensor,
  type Closure,
  type ParamsInput,
  type StateSpec,
} from "./optimizer.js";
import { betasParam, flag, hyper, optimArgs } from "./optimizer.js";
import { optimizerUpdates } from "../ops/prims.js";
import type { Tensor } from "../tensor/tensor.js";

export interface AdamaxOptions {
  /** Learning rate η (default 2e-3). */
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  maximize?: boolean;
}

/**
 * Adamax (Kingma & Ba 2015, §7.1): Adam with the infinity norm in place of the second moment.
 *
 * 1. g ← −g if maximize;  g ← g + λθ
 * 2. m ← β1·m + (1 − β1)·g
 * 3. u ← max(β2·u, |g| + ε)
 * 4. θ ← θ − η/(1 − β1ᵗ) · m / u
 *
 * Defaults η = 2e-3, β = (0.9, 0.999), ε = 1e-8. State: `step`, `exp_avg`, `exp_inf`.
 */
export class Adamax extends Optimizer<Required<AdamaxOptions>> {
  constructor(params: ParamsInput<Required<AdamaxOptions>>, opts?: AdamaxOptions);
  constructor(
    params: ParamsInput<Required<AdamaxOptions>>,
    lr?: number,
    betas?: [number, number],
    eps?: number,
    weightDecay?: number,
    opts?: { maximize?: boolean },
  );
  constructor(params: ParamsInput<Required<AdamaxOptions>>, ...args: unknown[]) {
    const o = optimArgs<AdamaxOptions>(
      "Adamax",
      [hyper("lr"), betasParam, hyper("eps"), hyper("weightDecay"), flag("maximize", true)],
      args,
    );
    super(params, { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false, ...o });
  }

  protected override stateSpec(): StateSpec {
    return { step: stateCount, exp_avg: stateTensor, exp_inf: stateTensor };
  }
  protected validate(o: Required<AdamaxOptions>): void {
    checkAdamFamily(o);
  }

  step(closure?: Closure): number | null {
    const loss = this.evaluate(closure);
    noGrad(() => {
      for (const g of this.paramGroups) {
        const {
          lr,
          betas: [b1, b2],
          eps,
          weightDecay: wd,
          maximize,
        } = g;
        for (const p of g.params) {
          if (p.grad === null) continue;
          const st = this.stateOf(p);
          if (st.exp_avg === undefined) {
            st.step = 0;
            st.exp_avg = zerosLikeParam(p);
            st.exp_inf = zerosLikeParam(p);
          }
          const step = (st.step as number) + 1;
          st.step = step;
          const clr = lr / (1 - b1 ** step);
          optimizerUpdates.adamax(p, p.grad, st.exp_avg as Tensor, st.exp_inf as Tensor, {
            clr,
            beta1: b1,
            beta2: b2,
            eps,
            weightDecay: wd,
            maximize,
          });
        }
      }
    });
    return loss;
  }
}
