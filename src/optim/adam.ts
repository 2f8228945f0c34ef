// Adam and AdamW — torch.optim.Adam / AdamW (1.13).

import { noGrad } from "../autograd/engine.js";
import { optimizerUpdates } from "../ops/prims.js";
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
import { betasParam, flag, hyper, optimArgs, type Param } from "./optimizer.js";
import type { Tensor } from "../tensor/tensor.js";

export interface AdamOptions {
  /** Learning rate η (default 1e-3). */
  lr?: number;
  /** Decay rates (β1, β2) of the first and second moments (default [0.9, 0.999]). */
  betas?: [number, number];
  eps?: number;
  /** L2 penalty added to the gradient (Adam, default 0) or decoupled decay (AdamW, default 1e-2). */
  weightDecay?: number;
  /** Use the running maximum of the second moment (AMSGrad, Reddi et al. 2018); default false. */
  amsgrad?: boolean;
  maximize?: boolean;
}

type AdamConfig = Required<AdamOptions>;

const validateAdam = (o: AdamConfig): void => checkAdamFamily(o);

/** One Adam step over every group; `decoupled` selects AdamW's weight decay. */
function adamStep(opt: Optimizer<AdamConfig>, stateOf: (p: Tensor) => Record<string, unknown>, decoupled: boolean): void {
  noGrad(() => {
    for (const g of opt.paramGroups) {
      const {
        lr,
        betas: [b1, b2],
        eps,
        weightDecay: wd,
        amsgrad,
        maximize,
      } = g;
      for (const p of g.params) {
        if (p.grad === null) continue;
        const st = stateOf(p);
        if (st.exp_avg === undefined) {
          st.step = 0;
          st.exp_avg = zerosLikeParam(p);
          st.exp_avg_sq = zerosLikeParam(p);
          if (amsgrad) st.max_exp_avg_sq = zerosLikeParam(p);
        }
        const step = (st.step as number) + 1;
        st.step = step;
        optimizerUpdates.adam(p, p.grad, st.exp_avg as Tensor, st.exp_avg_sq as Tensor, amsgrad ? (st.max_exp_avg_sq as Tensor) : null, {
          lr,
          beta1: b1,
          beta2: b2,
          eps,
          weightDecay: wd,
          step,
          decoupled,
          maximize,
        });
      }
    }
  });
}

/**
 * Adam (Kingma & Ba 2015): momentum on the gradient and an RMSprop-style scale, both bias-corrected.
 *
 * 1. g ← −g if maximize;  g ← g + λθ
 * 2. m ← β1·m + (1 − β1)·g
 * 3. v ← β2·v + (1 − β2)·g²
 * 4. v̂ ← max(v̂, v) if amsgrad, else v̂ ← v
 * 5. θ ← θ − η/(1 − β1ᵗ) · m / (√v̂ / √(1 − β2ᵗ) + ε)
 *
 * Defaults η = 1e-3, β = (0.9, 0.999), ε = 1e-8. State: `step`, `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`.
 *
 * @example const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
 */
/** torch.optim.Adam's and AdamW's settings in their positional order (maximize is keyword-only). */
const ADAM_ARGS: Param[] = [hyper("lr"), betasParam, hyper("eps"), hyper("weightDecay"), flag("amsgrad"), flag("maximize", true)];

/** Adam's and AdamW's per-parameter state. */
function adamSpec(g: AdamConfig): StateSpec {
  const spec: StateSpec = { step: stateCount, exp_avg: stateTensor, exp_avg_sq: stateTensor };
  if (g.amsgrad) spec.max_exp_avg_sq = stateTensor;
  return spec;
}

export class Adam extends Optimizer<AdamConfig> {
  constructor(params: ParamsInput<AdamConfig>, opts?: AdamOptions);
  constructor(
    params: ParamsInput<AdamConfig>,
    lr?: number,
    betas?: [number, number],
    eps?: number,
    weightDecay?: number,
    amsgrad?: boolean,
    opts?: { maximize?: boolean },
  );
  constructor(params: ParamsInput<AdamConfig>, ...args: unknown[]) {
    super(params, {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0,
      amsgrad: false,
      maximize: false,
      ...optimArgs<AdamOptions>("Adam", ADAM_ARGS, args),
    });
  }
  protected override stateSpec(g: AdamConfig): StateSpec {
    return adamSpec(g);
  }
  protected validate(o: AdamConfig): void {
    validateAdam(o);
  }
  step(closure?: Closure): number | null {
    const loss = this.evaluate(closure);
    adamStep(this, (p) => this.stateOf(p), false);
    return loss;
  }
}

/**
 * AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay — step 1 becomes θ ← θ·(1 − η·λ)
 * and the gradient is left alone. Default λ = 1e-2.
 */
export class AdamW extends Optimizer<AdamConfig> {
  constructor(params: ParamsInput<AdamConfig>, opts?: AdamOptions);
  constructor(
    params: ParamsInput<AdamConfig>,
    lr?: number,
    betas?: [number, number],
    eps?: number,
    weightDecay?: number,
    amsgrad?: boolean,
    opts?: { maximize?: boolean },
  );
  constructor(params: ParamsInput<AdamConfig>, ...args: unknown[]) {
    super(params, {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 1e-2,
      amsgrad: false,
      maximize: false,
      ...optimArgs<AdamOptions>("AdamW", ADAM_ARGS, args),
    });
  }
  protected override stateSpec(g: AdamConfig): StateSpec {
    return adamSpec(g);
  }
  protected validate(o: AdamConfig): void {
    validateAdam(o);
  }
  step(closure?: Closure): number | null {
    const loss = this.evaluate(closure);
    adamStep(this, (p) => this.stateOf(p), true);
    return loss;
  }
}
