// Activation layers: thin Module wrappers of the functional activations (torch.nn's names and printouts).

import { Tensor } from "../../tensor/tensor.js";
import { Module } from "../module.js";
import { relu, sigmoid, tanh } from "../../ops/math.js";
import { leakyRelu, logSoftmax, softmax } from "../../ops/activation.js";
import { pyNum } from "./repr.js";
import { bindArgs, checks } from "../../ops/args.js";

/** PyTorch's inplace flag: accepted, and without effect on values (nabla never writes an activation into its input). */
const INPLACE = { name: "inplace", check: checks.bool };

export class ReLU extends Module {
  constructor(inplace?: boolean);
  constructor(opts: { inplace?: boolean });
  constructor(...args: unknown[]) {
    super();
    bindArgs("ReLU", [INPLACE], args);
  }
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class LeakyReLU extends Module {
  readonly negativeSlope: number;
  constructor(negativeSlope?: number, inplace?: boolean);
  constructor(opts: { negativeSlope?: number; inplace?: boolean });
  constructor(...args: unknown[]) {
    super();
    const o = bindArgs<{ negativeSlope?: number }>("LeakyReLU", [{ name: "negativeSlope", check: checks.number() }, INPLACE], args);
    this.negativeSlope = o.negativeSlope ?? 0.01;
  }
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
  override extraRepr(): string {
    return `negative_slope=${pyNum(this.negativeSlope)}`;
  }
}

export class Sigmoid extends Module {
  constructor(...args: never[]) {
    super();
    bindArgs("Sigmoid", [], args);
  }
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

export class Tanh extends Module {
  constructor(...args: never[]) {
    super();
    bindArgs("Tanh", [], args);
  }
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

export class Softmax extends Module {
  readonly dim: number;
  constructor(dim: number);
  constructor(opts: { dim: number });
  constructor(...args: unknown[]) {
    super();
    // PyTorch's implicit dim is deprecated: nabla asks for it
    this.dim = bindArgs<{ dim: number }>("Softmax", [{ name: "dim", check: checks.int(), required: true }], args).dim;
  }
  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

export class LogSoftmax extends Module {
  readonly dim: number;
  constructor(dim: number);
  constructor(opts: { dim: number });
  constructor(...args: unknown[]) {
    super();
    // PyTorch's implicit dim is deprecated: nabla asks for it
    this.dim = bindArgs<{ dim: number }>("LogSoftmax", [{ name: "dim", check: checks.int(), required: true }], args).dim;
  }
  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
