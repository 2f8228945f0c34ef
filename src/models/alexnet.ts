// AlexNet in torchvision's layout ("One weird trick", Krizhevsky 2014), with the 2012 paper's LRN as an option.

import { Tensor } from "../tensor/tensor.js";
import { Module } from "../nn/module.js";
import { Conv2d } from "../nn/layers/conv.js";
import { Linear } from "../nn/layers/linear.js";
import { Sequential } from "../nn/layers/container.js";
import { AdaptiveAvgPool2d, MaxPool2d } from "../nn/layers/pooling.js";
import { Dropout } from "../nn/layers/dropout.js";
import { LocalResponseNorm } from "../nn/layers/normalization.js";
import { ReLU } from "../nn/layers/activation.js";
import { flatten } from "../ops/movement.js";
import type { ModelOptions } from "./blocks.js";
import { modelArgs, probability } from "./blocks.js";
import { checks } from "../ops/args.js";

export interface AlexNetOptions extends ModelOptions {
  dropout?: number;
  /** Insert LocalResponseNorm(5, α=1e-4, β=0.75, k=2) after the first two ReLUs, as the 2012 paper (default false). */
  lrn?: boolean;
}

/** features (5 convs, 3 max-pools) → adaptive avg-pool 6×6 → classifier (dropout, 9216→4096→4096→classes). 61,100,840 parameters. */
export class AlexNet extends Module {
  features: Sequential;
  avgpool = new AdaptiveAvgPool2d([6, 6]);
  classifier: Sequential;

  constructor(opts: AlexNetOptions = {}) {
    super();
    const lrn = () => (opts.lrn ? [new LocalResponseNorm(5, 1e-4, 0.75, 2)] : []);
    this.features = new Sequential(
      new Conv2d(opts.inChannels ?? 3, 64, 11, { stride: 4, padding: 2 }),
      new ReLU(),
      ...lrn(),
      new MaxPool2d(3, { stride: 2 }),
      new Conv2d(64, 192, 5, { padding: 2 }),
      new ReLU(),
      ...lrn(),
      new MaxPool2d(3, { stride: 2 }),
      new Conv2d(192, 384, 3, { padding: 1 }),
      new ReLU(),
      new Conv2d(384, 256, 3, { padding: 1 }),
      new ReLU(),
      new Conv2d(256, 256, 3, { padding: 1 }),
      new ReLU(),
      new MaxPool2d(3, { stride: 2 }),
    );
    const p = opts.dropout ?? 0.5;
    this.classifier = new Sequential(
      new Dropout(p),
      new Linear(256 * 6 * 6, 4096),
      new ReLU(),
      new Dropout(p),
      new Linear(4096, 4096),
      new ReLU(),
      new Linear(4096, opts.numClasses ?? 1000),
    );
  }

  forward(x: Tensor): Tensor {
    const f = this.avgpool.forward(this.features.forward(x)); // [N, 256, 6, 6]
    return this.classifier.forward(flatten(f, 1)); // [N, classes]
  }
}

export function alexnet(...args: [opts?: AlexNetOptions]): AlexNet {
  return new AlexNet(modelArgs("alexnet", { dropout: probability, lrn: checks.bool }, args));
}
