// js backend: the in-place optimizer updates that run over every parameter element each step.

import type { TypedArray } from "../../tensor/dtype.js";
import type { AdamUpdate, SgdUpdate } from "../backend.js";

/**
 * One Adam / AdamW update in place, with torch.optim's single-tensor formulas (1.13), each element
 * computed in double and stored in the parameter's type.
 */
export function adamUpdate(param: TypedArray, grad: TypedArray, expAvg: TypedArray, expAvgSq: TypedArray, maxExpAvgSq: TypedArray | null, h: AdamUpdate): void {
  const { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, step, decoupled, maximize } = h;
  const bc1 = 1 - b1 ** step, bc2 = 1 - b2 ** step;
  const stepSize = lr / bc1, bc2Sqrt = Math.sqrt(bc2);
  const decay = 1 - lr * wd;
  for (let i = 0; i < param.length; i++) {
    let d = maximize ? -grad[i] : grad[i];
    if (decoupled) param[i] = param[i] * decay;
    else if (wd !== 0) d = d + wd * param[i];
    expAvg[i] = expAvg[i] * b1 + (1 - b1) * d;
    expAvgSq[i] = expAvgSq[i] * b2 + (1 - b2) * d * d;
    let denom: number;
    if (maxExpAvgSq) {
      maxExpAvgSq[i] = Math.max(maxExpAvgSq[i], expAvgSq[i]);
      denom = Math.sqrt(maxExpAvgSq[i]) / bc2Sqrt + eps;
    } else denom = Math.sqrt(expAvgSq[i]) / bc2Sqrt + eps;
    param[i] = param[i] + -stepSize * (expAvg[i] / denom);
  }
}

/** One SGD update in place, torch.optim.SGD's single-tensor formulas (1.13), each element in double. */
export function sgdUpdate(param: TypedArray, grad: TypedArray, buf: TypedArray | null, h: SgdUpdate): void {
  const { lr, momentum: mu, dampening, weightDecay: wd, nesterov, maximize, first } = h;
  for (let i = 0; i < param.length; i++) {
    let d = maximize ? -grad[i] : grad[i];
    if (wd !== 0) d = d + wd * param[i];
    if (mu !== 0 && buf) {
      buf[i] = first ? d : mu * buf[i] + (1 - dampening) * d;
      d = nesterov ? d + mu * buf[i] : buf[i];
    }
    param[i] = param[i] + -lr * d;
  }
}
