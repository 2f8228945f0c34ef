// Parameter-free layers: activations, pooling, dropout, LocalResponseNorm — thin wrappers of functionals.

import { Tensor } from "../../tensor/tensor.js";
import { Module } from "../module.js";
import { relu, sigmoid, tanh } from "../../ops/basic.js";
import { adaptiveAvgPool2d, avgPool2d, dropout, logSoftmax, maxPool2d, softmax } from "../../ops/nnops.js";
import { leakyRelu, localResponseNorm } from "../functional-layers.js";
import { pyBool, pyFloat, pyNum } from "./util.js";

type Pair = number | [number, number];
const showPair = (v: Pair | null | undefined): string => (v === null || v === undefined ? "None" : typeof v === "number" ? String(v) : `(${v.join(", ")})`);

export class ReLU extends Module {
  forward(x: Tensor): Tensor { return relu(x); }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) { super(); }
  forward(x: Tensor): Tensor { return leakyRelu(x, this.negativeSlope); }
  override extraRepr(): string { return `negative_slope=${pyNum(this.negativeSlope)}`; }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor { return sigmoid(x); }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor { return tanh(x); }
}

export class Softmax extends Module {
  constructor(readonly dim: number) { super(); }
  forward(x: Tensor): Tensor { return softmax(x, this.dim); }
  override extraRepr(): string { return `dim=${this.dim}`; }
}

export class LogSoftmax extends Module {
  constructor(readonly dim: number) { super(); }
  forward(x: Tensor): Tensor { return logSoftmax(x, this.dim); }
  override extraRepr(): string { return `dim=${this.dim}`; }
}

export interface MaxPool2dLayerOptions { stride?: Pair | null; padding?: Pair; dilation?: Pair; ceilMode?: boolean }

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly opts: MaxPool2dLayerOptions = {}) { super(); }
  forward(x: Tensor): Tensor { return maxPool2d(x, this.kernelSize, this.opts); }
  override extraRepr(): string {
    const o = this.opts;
    return `kernel_size=${showPair(this.kernelSize)}, stride=${showPair(o.stride ?? this.kernelSize)}, padding=${showPair(o.padding ?? 0)}, ` +
      `dilation=${showPair(o.dilation ?? 1)}, ceil_mode=${pyBool(o.ceilMode ?? false)}`;
  }
}

export interface AvgPool2dLayerOptions { stride?: Pair | null; padding?: Pair; ceilMode?: boolean; countIncludePad?: boolean; divisorOverride?: number | null }

export class AvgPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly opts: AvgPool2dLayerOptions = {}) { super(); }
  forward(x: Tensor): Tensor { return avgPool2d(x, this.kernelSize, this.opts); }
  override extraRepr(): string {
    return `kernel_size=${showPair(this.kernelSize)}, stride=${showPair(this.opts.stride ?? this.kernelSize)}, padding=${showPair(this.opts.padding ?? 0)}`;
  }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | [number | null, number | null]) { super(); }
  forward(x: Tensor): Tensor { return adaptiveAvgPool2d(x, this.outputSize); }
  override extraRepr(): string {
    const o = this.outputSize;
    return `output_size=${typeof o === "number" ? `(${o}, ${o})` : `(${o.map((v) => v ?? "None").join(", ")})`}`;
  }
}

/** Zeroes elements with probability p during training (scaling the rest by 1/(1−p)); identity in eval. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Dropout: probability has to be between 0 and 1, but got ${p}`);
  }
  forward(x: Tensor): Tensor { return dropout(x, this.p, this.training); }
  override extraRepr(): string { return `p=${pyFloat(this.p)}, inplace=False`; }
}

/** Local response normalization across channels, as in the original AlexNet (size 5, α 1e-4, β 0.75, k 2 there). */
export class LocalResponseNorm extends Module {
  constructor(readonly size: number, readonly alpha = 1e-4, readonly beta = 0.75, readonly k = 1) { super(); }
  forward(x: Tensor): Tensor { return localResponseNorm(x, this.size, { alpha: this.alpha, beta: this.beta, k: this.k }); }
  override extraRepr(): string { return `${this.size}, alpha=${pyNum(this.alpha)}, beta=${pyNum(this.beta)}, k=${pyNum(this.k)}`; }
}
