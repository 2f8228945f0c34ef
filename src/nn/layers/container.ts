// Sequential and ModuleList: children registered under "0", "1", … as in PyTorch.

import { Tensor } from "../../tensor/tensor.js";
import { Module } from "../module.js";
import { BatchNormBase } from "./batchnorm.js";
import { MaxPool2d, ReLU } from "./simple.js";

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
    if (!(m instanceof Module)) throw new TypeError(`Sequential: child ${name} is not a Module`);
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

  forward(x: Tensor): Tensor {
    const kids = this.children();
    for (let i = 0; i < kids.length; i++) {
      const m = kids[i];
      // a batch norm followed by a plain ReLU runs as one fused primitive (same values and gradients)
      if (m instanceof BatchNormBase && isPlainRelu(kids[i + 1])) {
        x = m.forwardRelu(x);
        i++;
      } else if (isPlainRelu(m) && isPlain(kids[i + 1], MaxPool2d)) {
        // ReLU → max-pool as max-pool → ReLU: max commutes with the monotone ReLU (-∞ padding never wins,
        // NaN wins either way), and the gradient is the same — the window's winner gets g where the
        // pooled value is > 0, every other input 0 — with the ReLU and its backward on the pooled tensor
        x = m.forward(kids[i + 1].forward(x));
        i++;
      } else x = m.forward(x);
    }
    return x;
  }
}

/** A module of exactly class `cls` whose forward is the class's own (not replaced on the instance, e.g. by summary()). */
function isPlain(m: Module | undefined, cls: abstract new (...args: never[]) => Module): m is Module {
  return m !== undefined && m.constructor === cls && !Object.prototype.hasOwnProperty.call(m, "forward");
}

function isPlainRelu(m: Module | undefined): boolean {
  return isPlain(m, ReLU);
}

/** A list of modules, registered as children "0", "1", …; not callable itself. */
export class ModuleList extends Module {
  [index: string]: unknown;

  constructor(modules: Module[] = []) {
    super();
    modules.forEach((m) => this.append(m));
  }

  append(m: Module): this {
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
