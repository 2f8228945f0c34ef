// VGG 11/13/16/19 with and without BatchNorm (Simonyan & Zisserman 2015), torchvision's layout and init.

import { Tensor } from "../tensor/tensor.js";
import { Module } from "../nn/module.js";
import { Conv2d } from "../nn/layers/conv.js";
import { BatchNorm2d } from "../nn/layers/normalization.js";
import { Linear } from "../nn/layers/linear.js";
import { Sequential } from "../nn/layers/container.js";
import { AdaptiveAvgPool2d, MaxPool2d } from "../nn/layers/pooling.js";
import { Dropout } from "../nn/layers/dropout.js";
import { ReLU } from "../nn/layers/activation.js";
import { flatten } from "../ops/movement.js";
import { initConvBn, initLinearNormal, type ModelOptions } from "./blocks.js";
import { modelArgs, probability } from "./blocks.js";
import { checks } from "../ops/args.js";

const CFGS: Record<string, (number | "M")[]> = {
  A: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
  B: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
  D: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
  E: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
};

export interface VGGOptions extends ModelOptions {
  dropout?: number;
  /** For 32×32 inputs (CIFAR): no 7×7 pooling and a 512→512→512→classes classifier (default false). */
  smallInput?: boolean;
}

/**
 * VGG: stacks of 3×3 convs (+BN) and 2×2 max-pools → adaptive avg-pool 7×7 → 25088→4096→4096→classes.
 * vgg16: 138,357,544 parameters.
 */
export class VGG extends Module {
  features: Sequential;
  avgpool: AdaptiveAvgPool2d;
  classifier: Sequential;

  constructor(cfg: (number | "M")[], batchNorm: boolean, opts: VGGOptions = {}) {
    super();
    const layers: Module[] = [];
    let c = opts.inChannels ?? 3;
    for (const v of cfg) {
      if (v === "M") layers.push(new MaxPool2d(2, { stride: 2 }));
      else {
        layers.push(new Conv2d(c, v, 3, { padding: 1 }));
        if (batchNorm) layers.push(new BatchNorm2d(v));
        layers.push(new ReLU());
        c = v;
      }
    }
    this.features = new Sequential(...layers);
    const p = opts.dropout ?? 0.5;
    const k = opts.numClasses ?? 1000;
    const small = opts.smallInput ?? false;
    this.avgpool = new AdaptiveAvgPool2d(small ? [1, 1] : [7, 7]);
    const hidden = small ? 512 : 4096;
    this.classifier = new Sequential(
      new Linear(512 * (small ? 1 : 49), hidden),
      new ReLU(),
      new Dropout(p),
      new Linear(hidden, hidden),
      new ReLU(),
      new Dropout(p),
      new Linear(hidden, k),
    );
    initConvBn(this);
    initLinearNormal(this);
  }

  forward(x: Tensor): Tensor {
    const f = this.avgpool.forward(this.features.forward(x)); // [N, 512, 7, 7]
    return this.classifier.forward(flatten(f, 1)); // [N, classes]
  }
}

const VGG_ARGS = { dropout: probability, smallInput: checks.bool };
export const vgg11 = (...a: [opts?: VGGOptions]) => new VGG(CFGS.A, false, modelArgs("vgg11", VGG_ARGS, a));
export const vgg11_bn = (...a: [opts?: VGGOptions]) => new VGG(CFGS.A, true, modelArgs("vgg11_bn", VGG_ARGS, a));
export const vgg13 = (...a: [opts?: VGGOptions]) => new VGG(CFGS.B, false, modelArgs("vgg13", VGG_ARGS, a));
export const vgg13_bn = (...a: [opts?: VGGOptions]) => new VGG(CFGS.B, true, modelArgs("vgg13_bn", VGG_ARGS, a));
export const vgg16 = (...a: [opts?: VGGOptions]) => new VGG(CFGS.D, false, modelArgs("vgg16", VGG_ARGS, a));
export const vgg16_bn = (...a: [opts?: VGGOptions]) => new VGG(CFGS.D, true, modelArgs("vgg16_bn", VGG_ARGS, a));
export const vgg19 = (...a: [opts?: VGGOptions]) => new VGG(CFGS.E, false, modelArgs("vgg19", VGG_ARGS, a));
export const vgg19_bn = (...a: [opts?: VGGOptions]) => new VGG(CFGS.E, true, modelArgs("vgg19_bn", VGG_ARGS, a));
