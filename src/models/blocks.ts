// Building blocks and initializers shared by the model zoo.

import { Tensor } from "../tensor/tensor.js";
import { Module } from "../nn/module.js";
import { Conv2d, type Conv2dLayerOptions } from "../nn/layers/conv.js";
import { BatchNorm2d } from "../nn/layers/normalization.js";
import { Linear } from "../nn/layers/linear.js";
import { constant, kaimingNormal, normal, truncNormal } from "../nn/init.js";
import { chain } from "../nn/fuse.js";
import { relu } from "../ops/math.js";
import { bindArgs, checks, type Check, type Param } from "../ops/args.js";

/** Options every factory takes. */
export interface ModelOptions {
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Input image channels (default 3). */
  inChannels?: number;
  /** torchvision's pretrained-weights choice: nabla ships none, so only null (load a state dict instead). */
  weights?: null;
  /** torchvision's download progress bar: accepted, nothing is downloaded. */
  progress?: boolean;
}

const keyword = (name: string, check: Check): Param => ({ name, check, keywordOnly: true });

/** torchvision's factory arguments nabla takes everywhere: no pretrained weights, and the class and channel counts. */
const COMMON: Param[] = [
  keyword("weights", (v) =>
    v === null ? null : "null: nabla ships no pretrained weights (build the model, then model.loadStateDict(nb.io.loadSafetensors(file)))",
  ),
  keyword("progress", checks.bool),
  keyword("numClasses", checks.int(1)),
  keyword("inChannels", checks.int(1)),
];

/** A dropout probability. */
export const probability: Check = (v) => (typeof v === "number" && v >= 0 && v <= 1 ? null : "a probability in [0, 1]");

/**
 * A factory's options as torchvision takes them: one options object (keyword-only, as torchvision's
 * `resnet18(*, weights=None, progress=True, **kwargs)`), with the common keys and the model's own (`own`);
 * anything else is a TypeError naming the factory and the key.
 */
export function modelArgs<T extends object>(factory: string, own: Record<string, Check>, args: readonly unknown[]): T {
  const params = [...COMMON, ...Object.entries(own).map(([k, c]) => keyword(k, c))];
  const { weights: _w, progress: _p, ...o } = bindArgs<T & { weights?: null; progress?: boolean }>(factory, params, args);
  return o as unknown as T;
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
