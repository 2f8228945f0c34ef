// NAdam — torch.optim.NAdam (the corrected momentum product of PyTorch ≥ 2.0; see below).

import { noGrad } from "../autograd/engine.js";
import {
  check,
  checkAdamFamily,
  Optimizer,
  zerosLikeParam,
  stateCount,
  stateNumber,
  stateTensor,
  type Closure,
  type ParamsInput,
  type StateSpec,
} from "./optimizer.js";
import { betasParam, hyper, optimArgs } from "./optimizer.js";
import { optimizerUpdates } from "../ops/prims.js";
import type { Tensor } from "../tensor/tensor.js";

export interface NAdamOptions {
  /** Learning rate η (default 2e-3). */
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** ψ in the momentum schedule μₜ = β1·(1 − ½·0.96^(t·ψ)) (default 4e-3). */
  momentumDecay?: number;
}

/**
 * NAdam (Dozat 2016): Adam with Nesterov momentum — the update looks ahead using next step's momentum.
 *
 * 1. g ← g + λθ
 * 2. μₜ = β1·(1 − ½·0.96^(tψ)),  μₜ₊₁ = β1·(1 − ½·0.96^((t+1)ψ)),  Π ← Π·μₜ   (Π kept in float32 as PyTorch)
 * 3. m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²
 * 4. d = √(v / (1 − β2ᵗ)) + ε
 * 5. θ ← θ − η(1 − μₜ)/(1 − Π) · g/d − η·μₜ₊₁/(1 − Π·μₜ₊₁) · m/d
 *
 * PyTorch 1.13 computed the second factor's product as Π·μₜ·μₜ₊₁ (μₜ counted twice); PyTorch fixed this in
 * pull request #92699 and nabla follows the fixed form. Defaults η = 2e-3, ψ = 4e-3.
 * State: `step`, `mu_product`, `exp_avg`, `exp_avg_sq`.
 */
export class NAdam extends Optimizer<Required<NAdamOptions>> {
  constructor(params: ParamsInput<Required<NAdamOptions>>, opts?: NAdamOptions);
  constructor(
    params: ParamsInput<Required<NAdamOptions>>,
    lr?: number,
    betas?: [number, number],
    eps?: number,
    weightDecay?: number,
    momentumDecay?: number,
  );
  constructor(params: ParamsInput<Required<NAdamOptions>>, ...args: unknown[]) {
    const o = optimArgs<NAdamOptions>("NAdam", [hyper("lr"), betasParam, hyper("eps"), hyper("weightDecay"), hyper("momentumDecay")], args);
    super(params, { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, ...o });
  }

  protected override stateSpec(): StateSpec {
    return { step: stateCount, mu_product: stateNumber, exp_avg: stateTensor, exp_avg_sq: stateTensor };
  }
  protected validate(o: Required<NAdamOptions>): void {
    checkAdamFamily(o);
    check(o.momentumDecay >= 0, `Invalid momentum_decay value: ${o.momentumDecay}`);
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
          momentumDecay: psi,
        } = g;
        for (const p of g.params) {
          if (p.grad === null) continue;
          const st = this.stateOf(p);
          if (st.exp_avg === undefined) {
            st.step = 0;
            st.mu_product = 1;
            st.exp_avg = zerosLikeParam(p);
            st.exp_avg_sq = zerosLikeParam(p);
          }
          const step = (st.step as number) + 1;
          st.step = step;
          const bc2 = 1 - b2 ** step;
          const mu = b1 * (1 - 0.5 * 0.96 ** (step * psi));
          const muNext = b1 * (1 - 0.5 * 0.96 ** ((step + 1) * psi));
          const muProduct = Math.fround((st.mu_product as number) * Math.fround(mu)); // a float32 tensor in PyTorch
          st.mu_product = muProduct;
          const muProductNext = Math.fround(muProduct * Math.fround(muNext));
          const c1 = (-lr * (1 - mu)) / (1 - muProduct),
            c2 = (-lr * muNext) / (1 - muProductNext);
          optimizerUpdates.nadam(p, p.grad, st.exp_avg as Tensor, st.exp_avg_sq as Tensor, {
            beta1: b1,
            beta2: b2,
            eps,
            weightDecay: wd,
            bc2,
            c1,
            c2,
          });
        }
      }
    });
    return loss;
  }
}
