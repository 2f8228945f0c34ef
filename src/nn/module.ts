// Module: the base of every layer, with PyTorch's registration, traversal and state-dict semantics.

import { Tensor } from "../tensor/tensor.js";
import { fmt } from "../tensor/shape.js";
import { noGrad } from "../autograd/engine.js";

/**
 * A tensor that is a module parameter: assigning one to a module property registers it, like
 * `torch.nn.Parameter`. Requires grad by default.
 */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    super(data.data, data.shape, requiresGrad);
  }
}

export type StateDict = Record<string, Tensor> | Map<string, Tensor>;

/**
 * Base class for layers and models. Parameters (`Parameter` values) and child modules assigned to
 * properties are registered under the property name, in assignment order; buffers are registered
 * with `registerBuffer`. State-dict keys are exactly PyTorch's: `features.0.weight`,
 * `bn1.running_mean`, `bn1.num_batches_tracked`.
 *
 * @example
 * class Net extends nb.nn.Module {
 *   fc1 = new nb.nn.Linear(4, 8);
 *   fc2 = new nb.nn.Linear(8, 2);
 *   forward(x: nb.Tensor) { return this.fc2.forward(this.fc1.forward(x).relu()); }
 * }
 */
/** A forward hook: sees the module, its inputs and its output; a returned tensor replaces the output. */
export type ForwardHook = (module: Module, inputs: unknown[], output: Tensor) => Tensor | void;

/** A forward pre-hook: sees the module and its inputs before forward; a returned array replaces the inputs. */
export type ForwardPreHook = (module: Module, inputs: unknown[]) => unknown[] | void;

/** The hooks of each module (kept outside the instances, so they never appear among its attributes). */
const forwardHooks = new WeakMap<Module, { pre: ForwardPreHook[]; post: ForwardHook[] }>();

export abstract class Module {
  /** True in training mode (the default), false after `eval()`. */
  training = true;
  private readonly _buffers = new Map<string, { tensor: Tensor | null; persistent: boolean }>();

  abstract forward(...args: any[]): Tensor;

  /** Register a buffer (state that is not a parameter, e.g. BatchNorm's running statistics). */
  registerBuffer(name: string, tensor: Tensor | null, persistent = true): void {
    if (name.includes(".") || name === "") throw new Error(`registerBuffer: invalid buffer name '${name}'`);
    this._buffers.set(name, { tensor, persistent });
  }

  /** The buffer registered under `name`. */
  getBuffer(name: string): Tensor | null {
    const b = this._buffers.get(name);
    if (!b) throw new Error(`${this.constructor.name} has no buffer '${name}'`);
    return b.tensor;
  }

  /** Replace the tensor of a registered buffer. */
  setBuffer(name: string, tensor: Tensor | null): void {
    const b = this._buffers.get(name);
    if (!b) throw new Error(`${this.constructor.name} has no buffer '${name}'`);
    b.tensor = tensor;
  }

  /** Direct parameters, in registration order (null-valued ones skipped). */
  namedDirectParameters(): [string, Parameter][] {
    return Object.entries(this).filter((e): e is [string, Parameter] => e[1] instanceof Parameter);
  }

  /** Direct children, in registration order. */
  namedChildren(): [string, Module][] {
    return Object.entries(this).filter((e): e is [string, Module] => e[1] instanceof Module);
  }

  children(): Module[] {
    return this.namedChildren().map((e) => e[1]);
  }

  /** This module and every descendant, with dotted names ("" for this one). */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [];
    const stack: [string, Module][] = [[prefix, this]];
    const seen = new Set<Module>();
    while (stack.length) {
      const [name, m] = stack.pop()!;
      if (seen.has(m)) continue;
      seen.add(m);
      out.push([name, m]);
      const kids = m.namedChildren();
      for (let i = kids.length - 1; i >= 0; i--) stack.push([name ? `${name}.${kids[i][0]}` : kids[i][0], kids[i][1]]);
    }
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map((e) => e[1]);
  }

  /** Every parameter with its dotted name, each shared parameter once. */
  namedParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [n, p] of m.namedDirectParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([prefix ? `${prefix}.${n}` : n, p]);
      }
    }
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map((e) => e[1]);
  }

  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [n, b] of m._buffers) if (b.tensor !== null) out.push([prefix ? `${prefix}.${n}` : n, b.tensor]);
    }
    return out;
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map((e) => e[1]);
  }

  /** Set training mode for this module and all descendants. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Switch to evaluation mode: BatchNorm uses running statistics, Dropout is the identity. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Convert every floating-point parameter and buffer to `dtype` in place (new storage), like
   * `module.to(torch.float64)`; integer buffers such as `num_batches_tracked` are kept.
   */
  to(dtype: "float32" | "float64"): this {
    const conv = (t: Tensor) => new Tensor(dtype === "float64" ? Float64Array.from(t.data) : Float32Array.from(t.data), t.shape);
    for (const m of this.modules()) {
      for (const [name, p] of m.namedDirectParameters()) {
        if (p.dtype !== dtype) (m as unknown as Record<string, unknown>)[name] = new Parameter(conv(p), p.requiresGrad);
      }
      for (const b of m._buffers.values()) {
        if (b.tensor && b.tensor.dtype !== "int32" && b.tensor.dtype !== dtype) b.tensor = conv(b.tensor);
      }
    }
    return this;
  }

  /** Same as `to("float64")`. */
  double(): this {
    return this.to("float64");
  }

  /** Same as `to("float32")`. */
  float(): this {
    return this.to("float32");
  }

  /** Reset every parameter's gradient to null. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Call `fn` on every descendant and then this module (children first, as PyTorch). */
  apply(fn: (m: Module) => void): this {
    const mods = this.namedModules()
      .map((e) => e[1])
      .reverse();
    for (const m of mods) fn(m);
    return this;
  }

  /** Parameters and persistent buffers under PyTorch's keys: each module's parameters, then its buffers, then its children. */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    const visit = (m: Module, prefix: string) => {
      for (const [n, p] of m.namedDirectParameters()) out[prefix + n] = p;
      for (const [n, b] of m._buffers) if (b.tensor !== null && b.persistent) out[prefix + n] = b.tensor;
      for (const [n, c] of m.namedChildren()) visit(c, `${prefix}${n}.`);
    };
    visit(this, "");
    return out;
  }

  /**
   * Copy values from `dict` into this module's parameters and buffers (in place, converting dtype).
   * With `strict` (default), missing, unexpected or wrongly shaped keys fail with one error listing all.
   */
  loadStateDict(dict: StateDict, opts: { strict?: boolean } = {}): { missingKeys: string[]; unexpectedKeys: string[] } {
    const strict = opts.strict ?? true;
    const src = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const own = this.stateDict();
    // PyTorch fills a BatchNorm's num_batches_tracked that a state dict lacks (files saved before PyTorch 0.4.1
    // have none) with 0 instead of calling it missing; so does nabla.
    const untracked = Object.keys(own).filter((k) => /(^|\.)num_batches_tracked$/.test(k) && own[k].dtype === "int32" && !src.has(k));
    const missing = Object.keys(own).filter((k) => !src.has(k) && !untracked.includes(k));
    const has = (k: string) => Object.prototype.hasOwnProperty.call(own, k);
    const unexpected = [...src.keys()].filter((k) => !has(k));
    const mismatched: string[] = [];
    for (const [k, t] of src) {
      const mine = has(k) ? own[k] : undefined;
      if (!mine) continue;
      if (!(t instanceof Tensor)) mismatched.push(`${k}: expected a Tensor, got ${typeof t}`);
      else if (t.shape.length !== mine.shape.length || t.shape.some((s, i) => s !== mine.shape[i])) {
        mismatched.push(`${k}: copying a param with shape ${fmt(t.shape)}, the shape in current model is ${fmt(mine.shape)}`);
      }
    }
    const problems: string[] = [];
    if (strict && missing.length) problems.push(`Missing key(s) in state_dict: ${missing.map((k) => `"${k}"`).join(", ")}.`);
    if (strict && unexpected.length) problems.push(`Unexpected key(s) in state_dict: ${unexpected.map((k) => `"${k}"`).join(", ")}.`);
    if (mismatched.length) problems.push(`Size mismatch: ${mismatched.join("; ")}.`);
    if (problems.length) throw new Error(`Error(s) in loading state_dict for ${this.constructor.name}:\n\t${problems.join("\n\t")}`);
    noGrad(() => {
      for (const [k, t] of src) {
        const mine = has(k) ? own[k] : undefined;
        if (mine) mine.data.set(mine.dtype === "int32" && t.dtype !== "int32" ? Int32Array.from(t.data, Math.trunc) : t.data);
      }
      for (const k of untracked) own[k].data.fill(0);
    });
    return { missingKeys: missing, unexpectedKeys: unexpected };
  }

  /**
   * Call `hook(module, inputs, output)` after every forward of this module, like PyTorch's
   * `register_forward_hook`; a returned tensor replaces the output. While a module has hooks, the fusion
   * rules (nn/fuse.ts) run it on its own, so every hook sees every call. Returns a handle whose
   * `remove()` unregisters the hook.
   */
  registerForwardHook(hook: ForwardHook): { remove(): void } {
    return this.addHook("post", hook);
  }

  /**
   * Call `hook(module, inputs)` before every forward of this module, like PyTorch's
   * `register_forward_pre_hook`; a returned array replaces the inputs. Returns a handle with `remove()`.
   */
  registerForwardPreHook(hook: ForwardPreHook): { remove(): void } {
    return this.addHook("pre", hook);
  }

  private addHook<K extends "pre" | "post">(kind: K, hook: K extends "pre" ? ForwardPreHook : ForwardHook): { remove(): void } {
    if (typeof hook !== "function")
      throw new TypeError(`${this.constructor.name}: a forward ${kind === "pre" ? "pre-" : ""}hook must be a function`);
    let hooks = forwardHooks.get(this);
    if (!hooks) {
      const lists = { pre: [] as ForwardPreHook[], post: [] as ForwardHook[] };
      hooks = lists;
      forwardHooks.set(this, lists);
      // the pre-hooks, the class's forward, then the hooks: installed on the instance while it has hooks
      const own = Object.getPrototypeOf(this).forward as Module["forward"];
      Object.defineProperty(this, "forward", {
        configurable: true,
        enumerable: false,
        writable: true,
        value: (...inputs: unknown[]) => {
          for (const h of [...lists.pre]) {
            const r = h(this, inputs);
            if (r !== undefined) {
              if (!Array.isArray(r))
                throw new TypeError(`${this.constructor.name}: a forward pre-hook must return an array of inputs or nothing`);
              inputs = r;
            }
          }
          let out = own.apply(this, inputs);
          for (const h of [...lists.post]) out = h(this, inputs, out) ?? out;
          return out;
        },
      });
    }
    (hooks[kind] as unknown[]).push(hook);
    return {
      remove: () => {
        const lists = forwardHooks.get(this);
        const list = lists?.[kind] as unknown[] | undefined;
        const i = list ? list.indexOf(hook) : -1;
        if (i < 0) return;
        list!.splice(i, 1);
        if (lists!.pre.length + lists!.post.length === 0) {
          forwardHooks.delete(this);
          delete (this as { forward?: unknown }).forward;
        }
      },
    };
  }

  /** Whether forward hooks or pre-hooks are registered on this module. */
  hasForwardHooks(): boolean {
    const h = forwardHooks.get(this);
    return h !== undefined && h.pre.length + h.post.length > 0;
  }

  /** The extra text inside the parentheses of this module's printout, e.g. `in_features=4, ...`. */
  extraRepr(): string {
    return "";
  }

  /** A printout like PyTorch's module repr. */
  toString(): string {
    const extra = this.extraRepr();
    const kids = this.namedChildren();
    if (kids.length === 0) return `${this.constructor.name}(${extra})`;
    const lines = extra ? extra.split("\n") : [];
    for (const [n, m] of kids) lines.push(`(${n}): ${m.toString().split("\n").join("\n  ")}`);
    return `${this.constructor.name}(\n  ${lines.join("\n  ")}\n)`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}
