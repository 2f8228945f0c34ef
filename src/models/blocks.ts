// Building blocks and initializers shared by the model zoo.

import { Tensor } from "../tensor/tensor.js";
import { Module } from "../nn/module.js";
import { Conv2d, type Conv2dLayerOptions } from "../nn/layers/conv.js";
import { BatchNorm2d } from "../nn/layers/normalization.js";
import { Linear } from "../nn/layers/linear.js";
import { constant, kaimingNormal, normal, truncNormal } from "../nn/init.js";
import { chain } from "../nn/fuse.js";
import { relu } from "../ops/math.js";

/** Options every factory takes. */
export interface ModelOptions {
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Input image channels (default 3). */
  inChannels?: number;
}

/** conv (no bias) → BatchNorm(eps) → ReLU, as torchvision's Inception `BasicConv2d` (keys conv.*, bn.*). */
export class BasicConv2d extends Module {
  conv: Conv2d;
  bn: BatchNorm2d;
  constructor(inCh: number, outCh: number, kernel: number | [number, number], opts: Omit<Conv2dLayerOptions, "bias"> = {}, eps = 0.001) {
    super();
    this.conv = new Conv2d(inCh, outCh, kernel, { ...opts, bias: false });
    this.bn = new BatchNorm2d(outCh, { eps });
  }
  forward(x: Tensor): Tensor {
    return chain(x, this.conv, this.bn, relu);
  }
}

/** torchvision's ResNet / DenseNet / VGG-conv init: kaiming-normal (fan_out, relu) convs, BN γ=1 β=0. */
export function initConvBn(model: Module, opts: { mode?: "fan_in" | "fan_out"; convBias?: "zero" | "keep" } = {}): void {
  for (const m of model.modules()) {
    if (m instanceof Conv2d) {
      kaimingNormal(m.weight, { mode: opts.mode ?? "fan_out", nonlinearity: "relu" });
      if (m.bias && (opts.convBias ?? "zero") === "zero") constant(m.bias, 0);
    } else if (m instanceof BatchNorm2d) {
      if (m.weight) constant(m.weight, 1);
      if (m.bias) constant(m.bias, 0);
    }
  }
}

/** torchvision's GoogLeNet / Inception init: truncated normal (σ = 0.01 or given) for conv and linear weights. */
export function initTruncNormal(model: Module, std: number, perModule?: Map<Module, number>): void {
  for (const m of model.modules()) {
    if (m instanceof Conv2d || m instanceof Linear) truncNormal(m.weight, 0, perModule?.get(m) ?? std, -2, 2);
    else if (m instanceof BatchNorm2d) {
      if (m.weight) constant(m.weight, 1);
      if (m.bias) constant(m.bias, 0);
    }
  }
}

/** VGG's classifier init: N(0, 0.01²) weights and zero bias. */
export function initLinearNormal(model: Module, std = 0.01): void {
  for (const m of model.modules()) {
    if (m instanceof Linear) {
      normal(m.weight, 0, std);
      if (m.bias) constant(m.bias, 0);
    }
  }
}
