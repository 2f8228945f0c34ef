// autograd.grad and the functional helpers built on it: jacobian-free hvp, hessian, vjp.

import { runBackward } from "./engine.js";
import { Tensor } from "../tensor/tensor.js";
import { fmt } from "../tensor/shape.js";
import { add, mul, onesLike, reshape, stack, sum, zerosLike } from "../ops/index.js";
import { surplus } from "../surplus.js";

export interface GradOptions {
  /** The vector(s) of the vector-Jacobian product; required for non-scalar outputs. */
  gradOutputs?: Tensor | readonly (Tensor | null)[] | null;
  /** Keep the graph for another backward (default: `createGraph`). */
  retainGraph?: boolean;
  /** Record the gradient computation so it can be differentiated again (default false). */
  createGraph?: boolean;
  /** Return zeros instead of failing for an input the outputs do not depend on (default false). */
  allowUnused?: boolean;
}

/**
 * Gradients of `outputs` with respect to `inputs`, without touching `.grad`, like `torch.autograd.grad`.
 *
 * @example
 * const x = nb.tensor([3], { requiresGrad: true });
 * const [g] = nb.autograd.grad(x.pow(3).sum(), [x], { createGraph: true }); // 27
 * const [h] = nb.autograd.grad(g.sum(), [x]);                               // 18
 */
export function grad(outputs: Tensor | readonly Tensor[], inputs: Tensor | readonly Tensor[], opts: GradOptions = {}): Tensor[] {
  if (arguments.length > 3) surplus(arguments, "grad(outputs, inputs, opts)");
  const outs = outputs instanceof Tensor ? [outputs] : [...outputs];
  const ins = inputs instanceof Tensor ? [inputs] : [...inputs];
  const gos = opts.gradOutputs instanceof Tensor ? [opts.gradOutputs] : opts.gradOutputs ? [...opts.gradOutputs] : outs.map(() => null);
  if (gos.length !== outs.length) throw new RangeError(`grad: got ${gos.length} gradOutputs for ${outs.length} outputs`);
  outs.forEach((o, i) => {
    if (!o.requiresGrad) throw new Error(`grad: output ${i} does not require grad and does not have a gradFn`);
  });
  ins.forEach((x, i) => {
    if (!x.requiresGrad) throw new Error(`grad: input ${i} does not require grad (set requiresGrad: true)`);
  });
  const rootGrads = outs.map((o, i) => {
    const g = gos[i];
    if (g === null || g === undefined) {
      if (o.data.length !== 1)
        throw new Error(
          `grad: grad can be implicitly created only for scalar outputs (output ${i} has shape ${fmt(o.shape)}); pass gradOutputs`,
        );
      return onesLike(o);
    }
    if (g.shape.length !== o.shape.length || g.shape.some((s, k) => s !== o.shape[k])) {
      throw new RangeError(`grad: gradOutputs[${i}] has shape ${fmt(g.shape)} but output ${i} has shape ${fmt(o.shape)}`);
    }
    return g;
  });
  const got = runBackward(outs, rootGrads, { retainGraph: opts.retainGraph, createGraph: opts.createGraph }, add, ins);
  return ins.map((x, i) => {
    const g = got.get(x);
    if (g !== undefined) return g;
    if (opts.allowUnused) return zerosLike(x);
    throw new Error(`grad: input ${i} was not used in the graph of the outputs (pass allowUnused: true to get zeros)`);
  });
}

/** Fresh leaf copy of x that requires grad, so f can be differentiated at x without touching the caller's tensor. */
function leaf(x: Tensor): Tensor {
  return new Tensor(x.data.slice(), x.shape, true);
}

/**
 * Hessian-vector product H(x)·v of a scalar function, by differentiating ⟨∇f(x), v⟩ (no Hessian is formed).
 * Returns `[f(x), H·v]`.
 */
export function hvp(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): [Tensor, Tensor] {
  if (arguments.length > 3) surplus(arguments, "hvp(f, x, v)");
  const xl = leaf(x);
  const y = f(xl);
  if (y.data.length !== 1) throw new RangeError(`hvp: f must return a scalar, got shape ${fmt(y.shape)}`);
  const [g] = grad(y, xl, { createGraph: true });
  if (!g.requiresGrad) return [y.detach(), zerosLike(x)]; // f is linear in x
  const [hv] = grad(sum(mul(g, v.detach())), xl, { allowUnused: true });
  return [y.detach(), hv.detach()];
}

/**
 * The Hessian of a scalar function f at x, shape [...x.shape, ...x.shape], row by row from
 * second derivatives of the autograd gradient.
 */
export function hessian(f: (x: Tensor) => Tensor, x: Tensor): Tensor {
  if (arguments.length > 2) surplus(arguments, "hessian(f, x)");
  const xl = leaf(x);
  const y = f(xl);
  if (y.data.length !== 1) throw new RangeError(`hessian: f must return a scalar, got shape ${fmt(y.shape)}`);
  const [g] = grad(y, xl, { createGraph: true });
  const n = x.data.length;
  const flat = reshape(g, [n]);
  const rows: Tensor[] = [];
  for (let i = 0; i < n; i++) {
    if (!flat.requiresGrad) {
      rows.push(zerosLike(reshape(x, [n])));
      continue;
    }
    const e = zerosLike(flat);
    e.data[i] = 1;
    const [r] = grad(flat, xl, { gradOutputs: e, retainGraph: true, allowUnused: true });
    rows.push(reshape(r.detach(), [n]));
  }
  return reshape(stack(rows), [...x.shape, ...x.shape]);
}

/** Vector-Jacobian product: `[f(x), vᵀ·J_f(x)]`. */
export function vjp(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): [Tensor, Tensor] {
  if (arguments.length > 3) surplus(arguments, "vjp(f, x, v)");
  const xl = leaf(x);
  const y = f(xl);
  const [g] = grad(y, xl, { gradOutputs: v, allowUnused: true });
  return [y.detach(), g.detach()];
}

/** The Jacobian of f at x, shape [...f(x).shape, ...x.shape]. */
export function jacobian(f: (x: Tensor) => Tensor, x: Tensor): Tensor {
  if (arguments.length > 2) surplus(arguments, "jacobian(f, x)");
  const xl = leaf(x);
  const y = f(xl);
  const rows: Tensor[] = [];
  for (let i = 0; i < y.data.length; i++) {
    const e = zerosLike(y);
    e.data[i] = 1;
    const [r] = grad(y, xl, { gradOutputs: e, retainGraph: true, allowUnused: true });
    rows.push(reshape(r.detach(), [x.data.length]));
  }
  return reshape(stack(rows), [...y.shape, ...x.shape]);
}
