// The autograd engine: graph nodes, grad mode, and an iterative (never recursive) reverse-mode sweep.

import type { Tensor } from "../tensor/tensor.js";
import { surplus } from "../surplus.js";

/** A backward rule: given the gradient of the output, the gradients of each input (null = none). */
export type BackwardFn = (g: Tensor) => (Tensor | null)[];

/**
 * Versions of storages, as PyTorch's version counter: every in-place write to a tensor's storage
 * (`add_`, `copy_`, …) bumps it, and a node remembers the versions its inputs and output had when it was
 * recorded, so a backward pass through values changed since is an error instead of a wrong gradient.
 * Keyed by the storage's buffer: tensors sharing storage (`detach()`, `reshape`) share a version.
 */
const versions = new WeakMap<ArrayBufferLike, number>();

export function versionOf(t: Tensor): number {
  return versions.get(t.data.buffer) ?? 0;
}

export function bumpVersion(t: Tensor): void {
  versions.set(t.data.buffer, versionOf(t) + 1);
}

/** One recorded operation: its primitive's name, its inputs and its backward rule. */
export class Node {
  /** The versions of the inputs when the node was recorded. */
  readonly versions: number[];
  /** The output's version when it was recorded (set by the recorder). */
  outVersion = 0;
  /** PyTorch's name for this node's backward (`NllLossBackward0`), when an op set one; printed as grad_fn. */
  label: string | null = null;
  constructor(
    readonly name: string,
    readonly inputs: readonly Tensor[],
    public backward: BackwardFn | null,
  ) {
    this.versions = inputs.map(versionOf);
  }
}

function checkVersions(node: Node, out: Tensor): void {
  const stale = (t: Tensor, was: number, what: string) =>
    new Error(
      `backward: ${what} of '${node.name}' (a tensor of shape [${t.shape.join(", ")}]) was modified by an in-place operation ` +
        `after it was used (it is at version ${versionOf(t)}; the graph needs version ${was}): ` +
        "clone() it before changing it, or change it before the forward pass",
    );
  node.inputs.forEach((x, i) => {
    if (versionOf(x) !== node.versions[i]) throw stale(x, node.versions[i], `input ${i}`);
  });
  if (versionOf(out) !== node.outVersion) throw stale(out, node.outVersion, "the output");
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  if (arguments.length > 0) surplus(arguments, "isGradEnabled()");
  return gradEnabled;
}

/** Whether an op on these tensors is recorded: gradients are enabled and one of them requires grad. */
export function recordsGradient(tensors: readonly (Tensor | null | undefined)[]): boolean {
  return gradEnabled && tensors.some((t) => t?.requiresGrad);
}

/** Run `fn` with gradient recording switched on or off, restoring the previous mode afterwards. */
export function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Run `fn` without recording a graph, like `with torch.no_grad()`.
 * @example const y = nb.noGrad(() => model.forward(x));
 */
export function noGrad<T>(fn: () => T): T {
  if (arguments.length > 1) surplus(arguments, "noGrad(fn)");
  return withGradMode(false, fn);
}

/** Run `fn` with recording switched back on inside a `noGrad` region. */
export function enableGrad<T>(fn: () => T): T {
  if (arguments.length > 1) surplus(arguments, "enableGrad(fn)");
  return withGradMode(true, fn);
}

export interface BackwardOptions {
  /** Keep the graph so that it can be differentiated again (default: `createGraph`). */
  retainGraph?: boolean;
  /** Record the backward pass itself, so the gradients can be differentiated (default false). */
  createGraph?: boolean;
}

/** Reverse postorder of the tensors reachable from `roots` through recorded nodes (iterative DFS). */
function topoOrder(roots: readonly Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [];
  for (const r of roots) {
    if (seen.has(r)) continue;
    seen.add(r);
    stack.push([r, 0]);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const inputs = top[0].gradFn?.inputs ?? [];
      if (top[1] < inputs.length) {
        const child = inputs[top[1]++];
        if (child.requiresGrad && !seen.has(child)) {
          seen.add(child);
          stack.push([child, 0]);
        }
      } else {
        order.push(top[0]);
        stack.pop();
      }
    }
  }
  return order.reverse();
}

/**
 * Propagate `rootGrads` backwards from `roots`, summing the gradients that meet at a tensor with `add`
 * (the ops layer's, passed in so the engine sits below ops/). With `capture` given, returns the gradients
 * of those tensors and leaves `.grad` untouched; otherwise accumulates into every reachable leaf's `.grad`.
 */
export function runBackward(
  roots: readonly Tensor[],
  rootGrads: readonly Tensor[],
  opts: BackwardOptions,
  add: (a: Tensor, b: Tensor) => Tensor,
  capture?: readonly Tensor[],
): Map<Tensor, Tensor> {
  const createGraph = opts.createGraph ?? false;
  const retainGraph = opts.retainGraph ?? createGraph;
  const accumulate = add;
  const order = topoOrder(roots);
  const grads = new Map<Tensor, Tensor>();
  roots.forEach((r, i) => grads.set(r, grads.has(r) ? accumulate(grads.get(r)!, rootGrads[i]) : rootGrads[i]));
  const wanted = capture ? new Set(capture) : null;
  const captured = new Map<Tensor, Tensor>();
  const visited: Node[] = [];
  withGradMode(createGraph, () => {
    for (const t of order) {
      const g = grads.get(t);
      if (g === undefined) continue;
      if (wanted?.has(t)) captured.set(t, g);
      const node = t.gradFn;
      if (node === null) {
        if (!wanted) t.grad = t.grad === null ? (createGraph ? g : g.detach()) : accumulate(t.grad, createGraph ? g : g.detach());
        continue;
      }
      if (node.backward === null) {
        throw new Error(
          `backward: trying to backward through the graph a second time (through '${node.name}'), ` +
            "or to use the gradients of a graph that was already freed; pass { retainGraph: true } to the first backward()",
        );
      }
      checkVersions(node, t);
      const inGrads = node.backward(g);
      visited.push(node);
      node.inputs.forEach((x, i) => {
        const gi = inGrads[i];
        if (!gi || !x.requiresGrad) return;
        const prev = grads.get(x);
        grads.set(x, prev === undefined ? gi : accumulate(prev, gi));
      });
      if (!wanted?.has(t)) grads.delete(t);
    }
  });
  if (!retainGraph) for (const n of visited) n.backward = null;
  return captured;
}
