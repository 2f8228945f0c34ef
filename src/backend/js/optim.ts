// js backend: the in-place optimizer updates that run over every parameter element each step.

import type { TypedArray } from "../../tensor/dtype.js";
import type { AdadeltaUpdate, AdagradUpdate, AdamaxUpdate, AdamUpdate, NadamUpdate, RmspropUpdate, SgdUpdate } from "../backend.js";

/**
 * One Adam / AdamW update in place, with torch.optim's single-tensor formulas (1.13), each element
 * computed in double and stored in the parameter's type.
 */
export function adamUpdate(
  param: TypedArray,
  grad: TypedArray,
  expAvg: TypedArray,
  expAvgSq: TypedArray,
  maxExpAvgSq: TypedArray | null,
  h: AdamUpdate,
): void {
  const { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, step, decoupled, maximize } = h;
  const bc1 = 1 - b1 ** step,
    bc2 = 1 - b2 ** step;
  const stepSize = lr / bc1,
    bc2Sqrt = Math.sqrt(bc2);
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

/** One RMSprop update in place (torch.optim.RMSprop, 1.13): gradAvg when centered, momentumBuffer when momentum > 0. */
export function rmspropUpdate(
  param: TypedArray,
  grad: TypedArray,
  squareAvg: TypedArray,
  gradAvg: TypedArray | null,
  momentumBuffer: TypedArray | null,
  h: RmspropUpdate,
): void {
  const { lr, alpha, eps, weightDecay: wd, momentum: mu, maximize } = h;
  const v = squareAvg,
    ga = gradAvg,
    b = momentumBuffer;
  for (let i = 0; i < param.length; i++) {
    let d = maximize ? -grad[i] : grad[i];
    if (wd !== 0) d = d + wd * param[i];
    v[i] = v[i] * alpha + (1 - alpha) * d * d;
    let avg: number;
    if (ga) {
      ga[i] = ga[i] * alpha + (1 - alpha) * d;
      avg = Math.sqrt(v[i] + -1 * ga[i] * ga[i]) + eps;
    } else avg = Math.sqrt(v[i]) + eps;
    if (b) {
      b[i] = b[i] * mu + d / avg;
      param[i] = param[i] + -lr * b[i];
    } else param[i] = param[i] + -lr * (d / avg);
  }
}

/** One Adagrad update in place (torch.optim.Adagrad, 1.13); `clr` is the decayed learning rate of this step. */
export function adagradUpdate(param: TypedArray, grad: TypedArray, sum: TypedArray, h: AdagradUpdate): void {
  const { clr, eps, weightDecay: wd, maximize } = h;
  for (let i = 0; i < param.length; i++) {
    let d = maximize ? -grad[i] : grad[i];
    if (wd !== 0) d = d + wd * param[i];
    sum[i] = sum[i] + d * d;
    param[i] = param[i] + -clr * (d / (Math.sqrt(sum[i]) + eps));
  }
}

/** One Adadelta update in place (torch.optim.Adadelta, 1.13). */
export function adadeltaUpdate(param: TypedArray, grad: TypedArray, squareAvg: TypedArray, accDelta: TypedArray, h: AdadeltaUpdate): void {
  const { lr, rho, eps, weightDecay: wd, maximize } = h;
  const v = squareAvg,
    u = accDelta;
  for (let i = 0; i < param.length; i++) {
    let d = maximize ? -grad[i] : grad[i];
    if (wd !== 0) d = d + wd * param[i];
    v[i] = v[i] * rho + (1 - rho) * d * d;
    const delta = (Math.sqrt(u[i] + eps) / Math.sqrt(v[i] + eps)) * d;
    u[i] = u[i] * rho + (1 - rho) * delta * delta;
    param[i] = param[i] + -lr * delta;
  }
}

/** One NAdam update in place (torch.optim.NAdam, 1.13); c1, c2 are the step's coefficients of g and m, bc2 = 1 − β2ᵗ. */
export function nadamUpdate(param: TypedArray, grad: TypedArray, expAvg: TypedArray, expAvgSq: TypedArray, h: NadamUpdate): void {
  const { beta1: b1, beta2: b2, eps, weightDecay: wd, bc2, c1, c2 } = h;
  const m = expAvg,
    v = expAvgSq;
  for (let i = 0; i < param.length; i++) {
    let d = grad[i];
    if (wd !== 0) d = d + wd * param[i];
    m[i] = m[i] * b1 + (1 - b1) * d;
    v[i] = v[i] * b2 + (1 - b2) * d * d;
    const denom = Math.sqrt(v[i] / bc2) + eps;
    param[i] = param[i] + c1 * (d / denom);
    param[i] = param[i] + c2 * (m[i] / denom);
  }
}

/** One Adamax update in place (torch.optim.Adamax, 1.13); `clr` = lr / (1 − β1ᵗ). */
export function adamaxUpdate(param: TypedArray, grad: TypedArray, expAvg: TypedArray, expInf: TypedArray, h: AdamaxUpdate): void {
  const { clr, beta1: b1, beta2: b2, eps, weightDecay: wd, maximize } = h;
  const m = expAvg,
    u = expInf;
  for (let i = 0; i < param.length; i++) {
    let d = maximize ? -grad[i] : grad[i];
    if (wd !== 0) d = d + wd * param[i];
    m[i] = m[i] * b1 + (1 - b1) * d;
    u[i] = Math.max(u[i] * b2, Math.abs(d) + eps);
    param[i] = param[i] + -clr * (m[i] / u[i]);
  }
}
