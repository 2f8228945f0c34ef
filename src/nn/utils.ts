// nb.nn.utils: gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_.

import type { Tensor } from "../tensor/tensor.js";
import { surplus } from "../surplus.js";

/**
 * Scale all gradients together so their global norm is at most `maxNorm` (coefficient
 * maxNorm / (norm + 1e-6), applied only when below 1). Returns the norm before clipping.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, normType = 2): number {
  if (arguments.length > 3) surplus(arguments, "clipGradNorm(params, maxNorm, normType)");
  const grads = [...params].map((p) => p.grad).filter((g): g is Tensor => g !== null);
  let total = 0;
  if (normType === Infinity) {
    for (const g of grads) for (let i = 0; i < g.data.length; i++) total = Math.max(total, Math.abs(g.data[i]));
  } else {
    for (const g of grads) for (let i = 0; i < g.data.length; i++) total += Math.abs(g.data[i]) ** normType;
    total = total ** (1 / normType);
  }
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) for (const g of grads) for (let i = 0; i < g.data.length; i++) g.data[i] *= coef;
  return total;
}

/** Clamp every gradient element into [−clipValue, clipValue]. */
export function clipGradValue(params: Iterable<Tensor>, clipValue: number): void {
  if (arguments.length > 2) surplus(arguments, "clipGradValue(params, clipValue)");
  for (const p of params) {
    if (!p.grad) continue;
    const d = p.grad.data;
    for (let i = 0; i < d.length; i++) d[i] = Math.min(Math.max(d[i], -clipValue), clipValue);
  }
}
