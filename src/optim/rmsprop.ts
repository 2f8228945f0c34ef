// RMSprop — torch.optim.RMSprop (1.13).

import { noGrad } from "../autograd/engine.js";
import { check, Optimizer, zerosLikeParam, stateCount, stateTensor, type Closure, type ParamsInput, type StateSpec } from "./optimizer.js";
import { flag, hyper, optimArgs } from "./optimizer.js";
import { optimizerUpdates } from "../ops/prims.js";
import type { Tensor } from "../tensor/tensor.js";

export interface RMSpropOptions {
  /** Learning rate η (default 1e-2). */
  lr?: number;
  /** Smoothing constant α of the squared-gradient average (default 0.99; the primer's γ = 0.9). */
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  /** Normalize by the estimated variance (subtract the squared mean gradient), default false. */
  centered?: boolean;
  maximize?: boolean;
}

/**
 * RMSprop (Hinton, Coursera lecture 6e, 2012): divide by a decaying RMS of recent gradients, which
 * fixes Adagrad's ever-shrinking rate.
 *
 * 1. g ← −g if maximize;  g ← g + λθ
 * 2. v ← α·v + (1 − α)·g²
 * 3. if centered: ḡ ← α·ḡ + (1 − α)·g;  a ← √(v − ḡ²) + ε   else a ← √v + ε
 * 4. if μ > 0: b ← μ·b + g / a;  θ ← θ − η·b     else θ ← θ − η·g / a
 *
 * Defaults η = 1e-2, α = 0.99, ε = 1e-8. State: `step`, `square_avg`, `momentum_buffer`, `grad_avg`.
 */
export class RMSprop extends Optimizer<Required<RMSpropOptions>> {
  constructor(params: ParamsInput<Required<RMSpropOptions>>, opts?: RMSpropOptions);
  constructor(
    params: ParamsInput<Required<RMSpropOptions>>,
    lr?: number,
    alpha?: number,
    eps?: number,
    weightDecay?: number,
    momentum?: number,
    centered?: boolean,
    opts?: { maximize?: boolean },
  );
  constructor(params: ParamsInput<Required<RMSpropOptions>>, ...args: unknown[]) {
    // torch.optim.RMSprop's order: lr, alpha, eps, weight_decay, momentum, centered (then foreach, which nabla does not take, and maximize)
    const o = optimArgs<RMSpropOptions>(
      "RMSprop",
      [hyper("lr"), hyper("alpha"), hyper("eps"), hyper("weightDecay"), hyper("momentum"), flag("centered"), flag("maximize", true)],
      args,
    );
    super(params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false, ...o });
  }

  protected override stateSpec(g: Required<RMSpropOptions>): StateSpec {
    const spec: StateSpec = { step: stateCount, square_avg: stateTensor };
    if (g.momentum > 0) spec.momentum_buffer = stateTensor;
    if (g.centered) spec.grad_avg = stateTensor;
    return spec;
  }
  protected validate(o: Required<RMSpropOptions>): void {
    check(o.lr >= 0, `Invalid learning rate: ${o.lr}`);
    check(o.eps >= 0, `Invalid epsilon value: ${o.eps}`);
    check(o.momentum >= 0, `Invalid momentum value: ${o.momentum}`);
    check(o.weightDecay >= 0, `Invalid weight_decay value: ${o.weightDecay}`);
    check(o.alpha >= 0, `Invalid alpha value: ${o.alpha}`);
  }

  step(closure?: Closure): number | null {
    const loss = this.evaluate(closure);
    noGrad(() => {
      for (const g of this.paramGroups) {
        const { lr, alpha, eps, weightDecay: wd, momentum: mu, centered } = g;
        for (const p of g.params) {
          if (p.grad === null) continue;
          const st = this.stateOf(p);
          if (st.square_avg === undefined) {
            st.step = 0;
            st.square_avg = zerosLikeParam(p);
            if (mu > 0) st.momentum_buffer = zerosLikeParam(p);
            if (centered) st.grad_avg = zerosLikeParam(p);
          }
          st.step = (st.step as number) + 1;
          optimizerUpdates.rmsprop(
            p,
            p.grad,
            st.square_avg as Tensor,
            centered ? (st.grad_avg as Tensor) : null,
            mu > 0 ? (st.momentum_buffer as Tensor) : null,
            { lr, alpha, eps, weightDecay: wd, momentum: mu, maximize: g.maximize },
          );
        }
      }
    });
    return loss;
  }
}
