// Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d (torch.nn's names, options and printouts).

import { Tensor } from "../../tensor/tensor.js";
import { Module } from "../module.js";
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from "../../ops/conv_pool.js";
import { pyBool } from "./repr.js";

type Pair = number | [number, number];
const showPair = (v: Pair | null | undefined): string =>
  v === null || v === undefined ? "None" : typeof v === "number" ? String(v) : `(${v.join(", ")})`;

export interface MaxPool2dLayerOptions {
  stride?: Pair | null;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}

export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly opts: MaxPool2dLayerOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.opts);
  }
  override extraRepr(): string {
    const o = this.opts;
    return (
      `kernel_size=${showPair(this.kernelSize)}, stride=${showPair(o.stride ?? this.kernelSize)}, padding=${showPair(o.padding ?? 0)}, ` +
      `dilation=${showPair(o.dilation ?? 1)}, ceil_mode=${pyBool(o.ceilMode ?? false)}`
    );
  }
}

export interface AvgPool2dLayerOptions {
  stride?: Pair | null;
  padding?: Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly opts: AvgPool2dLayerOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.opts);
  }
  override extraRepr(): string {
    return `kernel_size=${showPair(this.kernelSize)}, stride=${showPair(this.opts.stride ?? this.kernelSize)}, padding=${showPair(this.opts.padding ?? 0)}`;
  }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | [number | null, number | null]) {
    super();
  }
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
  override extraRepr(): string {
    const o = this.outputSize;
    return `output_size=${typeof o === "number" ? `(${o}, ${o})` : `(${o.map((v) => v ?? "None").join(", ")})`}`;
  }
}
