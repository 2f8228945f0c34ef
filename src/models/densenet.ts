// DenseNet-121/161/169/201 (Huang et al. 2017): dense blocks whose layers see the concatenation of all
// earlier feature maps; torchvision's layout and keys (features.denseblock1.denselayer1.norm1.weight …).

import { Tensor } from "../tensor/tensor.js";
import { Module } from "../nn/module.js";
import { Conv2d } from "../nn/layers/conv.js";
import { BatchNorm2d } from "../nn/layers/normalization.js";
import { Linear } from "../nn/layers/linear.js";
import { Sequential } from "../nn/layers/container.js";
import { AvgPool2d, MaxPool2d } from "../nn/layers/pooling.js";
import { ReLU } from "../nn/layers/activation.js";
import { adaptiveAvgPool2d } from "../ops/conv_pool.js";
import { dropout } from "../ops/activation.js";
import { cat, flatten } from "../ops/movement.js";
import { relu } from "../ops/math.js";
import { constant, kaimingNormal } from "../nn/init.js";
import { chain } from "../nn/fuse.js";
import type { ModelOptions } from "./blocks.js";
import { modelArgs, probability } from "./blocks.js";
import { checks } from "../ops/args.js";

/** BN → ReLU → 1×1 conv (bottleneck, bnSize·growth) → BN → ReLU → 3×3 conv (growth new channels). */
export class DenseLayer extends Module {
  norm1: BatchNorm2d;
  conv1: Conv2d;
  norm2: BatchNorm2d;
  conv2: Conv2d;
  constructor(
    inF: number,
    growth: number,
    bnSize: number,
    private readonly dropRate: number,
  ) {
    super();
    this.norm1 = new BatchNorm2d(inF);
    this.conv1 = new Conv2d(inF, bnSize * growth, 1, { bias: false });
    this.norm2 = new BatchNorm2d(bnSize * growth);
    this.conv2 = new Conv2d(bnSize * growth, growth, 3, { padding: 1, bias: false });
  }
  forward(x: Tensor): Tensor {
    const out = chain(x, this.norm1, relu, this.conv1, this.norm2, relu, this.conv2);
    return this.dropRate > 0 ? dropout(out, this.dropRate, this.training) : out;
  }
}

/** Each layer's input is the concatenation of the block input and every earlier layer's output. */
export class DenseBlock extends Module {
  [name: string]: unknown;
  constructor(layers: number, inF: number, bnSize: number, growth: number, dropRate: number) {
    super();
    for (let i = 0; i < layers; i++)
      (this as Record<string, unknown>)[`denselayer${i + 1}`] = new DenseLayer(inF + i * growth, growth, bnSize, dropRate);
  }
  forward(x: Tensor): Tensor {
    const feats = [x];
    for (const layer of this.children()) feats.push(layer.forward(cat(feats, 1)));
    return cat(feats, 1); // [N, in + layers·growth, H, W]
  }
}

export interface DenseNetOptions extends ModelOptions {
  dropRate?: number;
  /** For 28×28 / 32×32 inputs: a 3×3 stride-1 stem and no max-pool (default false). */
  smallInput?: boolean;
}

/** stem → [dense block → transition (BN, ReLU, 1×1 conv halving channels, 2×2 avg-pool)] × 3 → dense block → BN → ReLU → pool → classifier. */
export class DenseNet extends Module {
  features: Sequential;
  classifier: Linear;

  constructor(growth: number, blockConfig: number[], numInit: number, opts: DenseNetOptions = {}, bnSize = 4) {
    super();
    const small = opts.smallInput ?? false;
    this.features = new Sequential();
    this.features.add(
      small
        ? new Conv2d(opts.inChannels ?? 3, numInit, 3, { padding: 1, bias: false })
        : new Conv2d(opts.inChannels ?? 3, numInit, 7, { stride: 2, padding: 3, bias: false }),
      "conv0",
    );
    this.features.add(new BatchNorm2d(numInit), "norm0");
    this.features.add(new ReLU(), "relu0");
    if (!small) this.features.add(new MaxPool2d(3, { stride: 2, padding: 1 }), "pool0");
    let f = numInit;
    blockConfig.forEach((n, i) => {
      this.features.add(new DenseBlock(n, f, bnSize, growth, opts.dropRate ?? 0), `denseblock${i + 1}`);
      f += n * growth;
      if (i !== blockConfig.length - 1) {
        const t = new Sequential();
        t.add(new BatchNorm2d(f), "norm")
          .add(new ReLU(), "relu")
          .add(new Conv2d(f, Math.floor(f / 2), 1, { bias: false }), "conv")
          .add(new AvgPool2d(2, { stride: 2 }), "pool");
        this.features.add(t, `transition${i + 1}`);
        f = Math.floor(f / 2);
      }
    });
    this.features.add(new BatchNorm2d(f), "norm5");
    this.classifier = new Linear(f, opts.numClasses ?? 1000);
    for (const m of this.modules()) {
      if (m instanceof Conv2d) kaimingNormal(m.weight);
      else if (m instanceof BatchNorm2d) {
        constant(m.weight!, 1);
        constant(m.bias!, 0);
      } else if (m instanceof Linear && m.bias) constant(m.bias, 0);
    }
  }

  forward(x: Tensor): Tensor {
    const f = relu(this.features.forward(x)); // [N, F, H/32, W/32]
    return this.classifier.forward(flatten(adaptiveAvgPool2d(f, 1), 1)); // [N, classes]
  }
}

/** 7,978,856 parameters. */
const DENSENET_ARGS = { dropRate: probability, smallInput: checks.bool };
export const densenet121 = (...a: [opts?: DenseNetOptions]) =>
  new DenseNet(32, [6, 12, 24, 16], 64, modelArgs("densenet121", DENSENET_ARGS, a));
export const densenet161 = (...a: [opts?: DenseNetOptions]) =>
  new DenseNet(48, [6, 12, 36, 24], 96, modelArgs("densenet161", DENSENET_ARGS, a));
export const densenet169 = (...a: [opts?: DenseNetOptions]) =>
  new DenseNet(32, [6, 12, 32, 32], 64, modelArgs("densenet169", DENSENET_ARGS, a));
export const densenet201 = (...a: [opts?: DenseNetOptions]) =>
  new DenseNet(32, [6, 12, 48, 32], 64, modelArgs("densenet201", DENSENET_ARGS, a));
