// Adadelta — torch.optim.Adadelta (1.13).

import { noGrad } from "../autograd/engine.js";
import { check, Optimizer, zerosLikeParam, stateCount, stateTensor, type Closure, type ParamsInput, type StateSpec } from "./optimizer.js";
import { flag, hyper, optimArgs } from "./optimizer.js";
import { optimizerUpdates } from "../ops/prims.js";
import type { Tensor } from "../tensor/tensor.js";

export interface AdadeltaOptions {
  /** Scale of the update (default 1.0 — Adadelta needs no learning rate). */
  lr?: number;
  /** Decay ρ of both running averages (default 0.9). */
  rho?: number;
  eps?: number;
  weightDecay?: number;
  maximize?: boolean;
}

/**
 * Adadelta (Zeiler 2012): the step is the ratio of two decaying RMS values — of past updates and of
 * gradients — so its units match θ's and no global learning rate is needed.
 *
 * 1. g ← −g if maximize;  g ← g + λθ
 * 2. v ← ρ·v + (1 − ρ)·g²
 * 3. Δ ← √(u + ε) / √(v + ε) · g
 * 4. u ← ρ·u + (1 − ρ)·Δ²
 * 5. θ ← θ − lr·Δ
 *
 * Defaults lr = 1, ρ = 0.9, ε = 1e-6. State: `step`, `square_avg` (v), `acc_delta` (u).
 */
export class Adadelta extends Optimizer<Required<AdadeltaOptions>> {
  constructor(params: ParamsInput<Required<AdadeltaOptions>>, opts?: AdadeltaOptions);
  constructor(
    params: ParamsInput<Required<AdadeltaOptions>>,
    lr?: number,
    rho?: number,
    eps?: number,
    weightDecay?: number,
    opts?: { maximize?: boolean },
  );
  constructor(params: ParamsInput<Required<AdadeltaOptions>>, ...args: unknown[]) {
    const o = optimArgs<AdadeltaOptions>(
      "Adadelta",
      [hyper("lr"), hyper("rho"), hyper("eps"), hyper("weightDecay"), flag("maximize", true)],
      args,
    );
    super(params, { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false, ...o });
  }

  protected override stateSpec(): StateSpec {
    return { step: stateCount, square_avg: stateTensor, acc_delta: stateTensor };
  }
  protected validate(o: Required<AdadeltaOptions>): void {
    check(o.lr >= 0, `Invalid learning rate: ${o.lr}`);
    check(o.rho >= 0 && o.rho <= 1, `Invalid rho value: ${o.rho}`);
    check(o.eps >= 0, `Invalid epsilon value: ${o.eps}`);
    check(o.weightDecay >= 0, `Invalid weight_decay value: ${o.weightDecay}`);
  }

  step(closure?: Closure): number | null {
    const loss = this.evaluate(closure);
    noGrad(() => {
      for (const g of this.paramGroups) {
        const { lr, rho, eps, weightDecay: wd } = g;
        for (const p of g.params) {
          if (p.grad === null) continue;
          const st = this.stateOf(p);
          if (st.square_avg === undefined) {
            st.step = 0;
            st.square_avg = zerosLikeParam(p);
            st.acc_delta = zerosLikeParam(p);
          }
          st.step = (st.step as number) + 1;
          optimizerUpdates.adadelta(p, p.grad, st.square_avg as Tensor, st.acc_delta as Tensor, {
            lr,
            rho,
            eps,
            weightDecay: wd,
            maximize: g.maximize,
          });
        }
      }
    });
    return loss;
  }
}
