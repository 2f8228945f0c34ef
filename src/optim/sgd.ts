// SGD with momentum, dampening, Nesterov, weight decay and maximize — torch.optim.SGD (1.13).

import { noGrad } from "../autograd/engine.js";
import { optimizerUpdates } from "../ops/prims.js";
import {
  check,
  flag,
  hyper,
  optimArgs,
  Optimizer,
  stateTensor,
  type Param,
  type Closure,
  type ParamsInput,
  type StateSpec,
} from "./optimizer.js";
import { Tensor } from "../tensor/tensor.js";

export interface SGDOptions {
  /** Learning rate η (required, as in PyTorch). */
  lr: number;
  /** Momentum factor μ (default 0). */
  momentum?: number;
  /** Dampening τ for momentum (default 0). */
  dampening?: number;
  /** L2 penalty λ (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false). */
  nesterov?: boolean;
  /** Maximize the objective instead (default false). */
  maximize?: boolean;
}

/**
 * Stochastic gradient descent, optionally with momentum (Polyak 1964; Sutskever et al. 2013 for
 * Nesterov's form). For each parameter θ with gradient g, at step t:
 *
 * 1. g ← −g if maximize
 * 2. g ← g + λθ                                  (weight decay)
 * 3. if μ ≠ 0: b ← g at t = 1, else b ← μ·b + (1 − τ)·g
 *              g ← g + μ·b if nesterov, else g ← b
 * 4. θ ← θ − η·g
 *
 * Plain gradient descent is momentum 0; "Momentum" is μ ≈ 0.9; "NAG" is `nesterov: true`.
 * State: `momentum_buffer`.
 *
 * @example
 * const opt = new nb.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
const SGD_ARGS: Param[] = [
  hyper("lr"),
  hyper("momentum"),
  hyper("dampening"),
  hyper("weightDecay"),
  flag("nesterov"),
  flag("maximize", true),
];

export class SGD extends Optimizer<Required<SGDOptions>> {
  constructor(params: ParamsInput<Required<SGDOptions>>, opts: SGDOptions);
  constructor(
    params: ParamsInput<Required<SGDOptions>>,
    lr: number,
    momentum?: number,
    dampening?: number,
    weightDecay?: number,
    nesterov?: boolean,
    opts?: { maximize?: boolean },
  );
  constructor(params: ParamsInput<Required<SGDOptions>>, ...args: unknown[]) {
    const o = optimArgs<SGDOptions>("SGD", SGD_ARGS, args);
    if (o.lr === undefined) throw new TypeError("SGD: missing required argument lr (PyTorch's SGD has no default learning rate)");
    super(params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...o });
  }

  protected override stateSpec(g: Required<SGDOptions>): StateSpec {
    // PyTorch saves momentum_buffer: None without momentum
    return {
      momentum_buffer: g.momentum !== 0 ? stateTensor : (v) => (v === null || v instanceof Tensor ? null : "must be a tensor or null"),
    };
  }
  protected validate(o: Required<SGDOptions>): void {
    check(typeof o.lr === "number" && o.lr >= 0, `Invalid learning rate: ${o.lr}`);
    check(o.momentum >= 0, `Invalid momentum value: ${o.momentum}`);
    check(o.weightDecay >= 0, `Invalid weight_decay value: ${o.weightDecay}`);
    check(!o.nesterov || (o.momentum > 0 && o.dampening === 0), "Nesterov momentum requires a momentum and zero dampening");
  }

  step(closure?: Closure): number | null {
    const loss = this.evaluate(closure);
    noGrad(() => {
      for (const g of this.paramGroups) {
        const { lr, momentum: mu, dampening, weightDecay: wd, nesterov, maximize } = g;
        for (const p of g.params) {
          if (p.grad === null) continue;
          const state = this.stateOf(p);
          let buf = state.momentum_buffer as Tensor | undefined;
          const first = mu !== 0 && buf === undefined;
          if (first) {
            buf = p.grad.detach().clone();
            state.momentum_buffer = buf;
          }
          optimizerUpdates.sgd(p, p.grad, mu !== 0 ? buf! : null, {
            lr,
            momentum: mu,
            dampening,
            weightDecay: wd,
            nesterov,
            maximize,
            first,
          });
        }
      }
    });
    return loss;
  }
}
