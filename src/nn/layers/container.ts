// Sequential and ModuleList: children registered under "0", "1", … as in PyTorch.

import { Tensor } from "../../tensor/tensor.js";
import { Module } from "../module.js";
import { chain } from "../fuse.js";
import { describe } from "../../ops/args.js";

/**
 * Runs its children in order. Children are keyed "0", "1", … (PyTorch's state-dict keys).
 * @example new nb.nn.Sequential(new nb.nn.Linear(4, 8), new nb.nn.ReLU(), new nb.nn.Linear(8, 2))
 */
export class Sequential extends Module {
  [index: string]: unknown;

  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => this.add(m, String(i)));
  }

  /** Append a module (under the next index, or a given name). */
  add(m: Module, name = String(this.length)): this {
    if (!(m instanceof Module)) throw new TypeError(`Sequential: child ${name} is not a Module (got ${describe(m)})`);
    (this as Record<string, unknown>)[name] = m;
    return this;
  }

  get length(): number {
    return this.namedChildren().length;
  }

  at(i: number): Module {
    const kids = this.children();
    const m = kids[i < 0 ? i + kids.length : i];
    if (!m) throw new RangeError(`Sequential: index ${i} is out of range (length ${kids.length})`);
    return m;
  }

  /** Runs the children in order, through the fusion table (nn/fuse.ts): the same values and gradients. */
  forward(x: Tensor): Tensor {
    return chain(x, ...this.children());
  }
}

/** A list of modules, registered as children "0", "1", …; not callable itself. */
export class ModuleList extends Module {
  [index: string]: unknown;

  constructor(modules: Iterable<Module> = []) {
    super();
    if (typeof (modules as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== "function")
      throw new TypeError(`ModuleList: expected an array of Modules, got ${describe(modules)}`);
    for (const m of modules) this.append(m);
  }

  append(m: Module): this {
    if (!(m instanceof Module)) throw new TypeError(`ModuleList: child ${this.length} is not a Module (got ${describe(m)})`);
    (this as Record<string, unknown>)[String(this.length)] = m;
    return this;
  }

  get length(): number {
    return this.namedChildren().length;
  }

  at(i: number): Module {
    return this.children()[i < 0 ? i + this.length : i];
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }

  forward(): Tensor {
    throw new Error("ModuleList is not callable: iterate over it and call its modules");
  }
}
