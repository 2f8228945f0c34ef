// GoogLeNet / Inception v1 (Szegedy et al. 2015) in torchvision's layout, with BatchNorm in every conv
// (torchvision's BasicConv2d) and the two auxiliary classifiers.

import { Tensor } from "../tensor/tensor.js";
import { Module } from "../nn/module.js";
import { Linear } from "../nn/layers/linear.js";
import { Sequential } from "../nn/layers/container.js";
import { AdaptiveAvgPool2d, MaxPool2d } from "../nn/layers/pooling.js";
import { Dropout } from "../nn/layers/dropout.js";
import { adaptiveAvgPool2d } from "../ops/conv_pool.js";
import { cat, flatten } from "../ops/movement.js";
import { relu } from "../ops/math.js";
import { BasicConv2d, initTruncNormal, type ModelOptions } from "./blocks.js";
import { modelArgs, probability } from "./blocks.js";
import { checks } from "../ops/args.js";

/** Four parallel branches — 1×1; 1×1 → 3×3; 1×1 → 3×3 (torchvision uses 3×3 where the paper has 5×5); 3×3 max-pool → 1×1 — concatenated. */
export class Inception extends Module {
  branch1: BasicConv2d;
  branch2: Sequential;
  branch3: Sequential;
  branch4: Sequential;
  constructor(inCh: number, ch1x1: number, ch3x3red: number, ch3x3: number, ch5x5red: number, ch5x5: number, poolProj: number) {
    super();
    this.branch1 = new BasicConv2d(inCh, ch1x1, 1);
    this.branch2 = new Sequential(new BasicConv2d(inCh, ch3x3red, 1), new BasicConv2d(ch3x3red, ch3x3, 3, { padding: 1 }));
    this.branch3 = new Sequential(new BasicConv2d(inCh, ch5x5red, 1), new BasicConv2d(ch5x5red, ch5x5, 3, { padding: 1 }));
    this.branch4 = new Sequential(new MaxPool2d(3, { stride: 1, padding: 1, ceilMode: true }), new BasicConv2d(inCh, poolProj, 1));
  }
  forward(x: Tensor): Tensor {
    return cat([this.branch1.forward(x), this.branch2.forward(x), this.branch3.forward(x), this.branch4.forward(x)], 1);
  }
}

/** Auxiliary classifier: adaptive avg-pool 4×4 → 1×1 conv 128 → fc 2048→1024 → ReLU → dropout 0.7 → fc. */
export class InceptionAux extends Module {
  conv: BasicConv2d;
  fc1: Linear;
  fc2: Linear;
  dropout: Dropout;
  constructor(inCh: number, numClasses: number, dropout = 0.7) {
    super();
    this.conv = new BasicConv2d(inCh, 128, 1);
    this.fc1 = new Linear(2048, 1024);
    this.fc2 = new Linear(1024, numClasses);
    this.dropout = new Dropout(dropout);
  }
  forward(x: Tensor): Tensor {
    const h = flatten(this.conv.forward(adaptiveAvgPool2d(x, [4, 4])), 1); // [N, 2048]
    return this.fc2.forward(this.dropout.forward(relu(this.fc1.forward(h))));
  }
}

export interface GoogLeNetOptions extends ModelOptions {
  /** Build the two auxiliary classifiers (default true, as torchvision). */
  auxLogits?: boolean;
  dropout?: number;
  dropoutAux?: number;
}

export interface AuxOutputs {
  logits: Tensor;
  aux1: Tensor | null;
  aux2: Tensor | null;
}

/** 6,624,904 parameters without the auxiliary classifiers, 13,004,888 with them. */
export class GoogLeNet extends Module {
  conv1: BasicConv2d;
  maxpool1: MaxPool2d;
  conv2: BasicConv2d;
  conv3: BasicConv2d;
  maxpool2: MaxPool2d;
  inception3a: Inception;
  inception3b: Inception;
  maxpool3: MaxPool2d;
  inception4a: Inception;
  inception4b: Inception;
  inception4c: Inception;
  inception4d: Inception;
  inception4e: Inception;
  maxpool4: MaxPool2d;
  inception5a: Inception;
  inception5b: Inception;
  aux1: InceptionAux | null;
  aux2: InceptionAux | null;
  avgpool = new AdaptiveAvgPool2d([1, 1]);
  dropout: Dropout;
  fc: Linear;

  constructor(opts: GoogLeNetOptions = {}) {
    super();
    const k = opts.numClasses ?? 1000;
    this.conv1 = new BasicConv2d(opts.inChannels ?? 3, 64, 7, { stride: 2, padding: 3 });
    this.maxpool1 = new MaxPool2d(3, { stride: 2, ceilMode: true });
    this.conv2 = new BasicConv2d(64, 64, 1);
    this.conv3 = new BasicConv2d(64, 192, 3, { padding: 1 });
    this.maxpool2 = new MaxPool2d(3, { stride: 2, ceilMode: true });
    this.inception3a = new Inception(192, 64, 96, 128, 16, 32, 32);
    this.inception3b = new Inception(256, 128, 128, 192, 32, 96, 64);
    this.maxpool3 = new MaxPool2d(3, { stride: 2, ceilMode: true });
    this.inception4a = new Inception(480, 192, 96, 208, 16, 48, 64);
    this.inception4b = new Inception(512, 160, 112, 224, 24, 64, 64);
    this.inception4c = new Inception(512, 128, 128, 256, 24, 64, 64);
    this.inception4d = new Inception(512, 112, 144, 288, 32, 64, 64);
    this.inception4e = new Inception(528, 256, 160, 320, 32, 128, 128);
    this.maxpool4 = new MaxPool2d(2, { stride: 2, ceilMode: true });
    this.inception5a = new Inception(832, 256, 160, 320, 32, 128, 128);
    this.inception5b = new Inception(832, 384, 192, 384, 48, 128, 128);
    const aux = opts.auxLogits ?? true;
    this.aux1 = aux ? new InceptionAux(512, k, opts.dropoutAux ?? 0.7) : null;
    this.aux2 = aux ? new InceptionAux(528, k, opts.dropoutAux ?? 0.7) : null;
    this.dropout = new Dropout(opts.dropout ?? 0.2);
    this.fc = new Linear(1024, k);
    initTruncNormal(this, 0.01);
  }

  /** Logits and, in training mode with auxLogits, the two auxiliary logits (else null). */
  forwardWithAux(x: Tensor): AuxOutputs {
    let h = this.maxpool1.forward(this.conv1.forward(x)); // [N, 64, H/4, W/4]
    h = this.maxpool2.forward(this.conv3.forward(this.conv2.forward(h))); // [N, 192, H/8, W/8]
    h = this.maxpool3.forward(this.inception3b.forward(this.inception3a.forward(h))); // [N, 480, H/16, W/16]
    h = this.inception4a.forward(h); // [N, 512, ·, ·]
    const aux1 = this.aux1 && this.training ? this.aux1.forward(h) : null;
    h = this.inception4d.forward(this.inception4c.forward(this.inception4b.forward(h))); // [N, 528, ·, ·]
    const aux2 = this.aux2 && this.training ? this.aux2.forward(h) : null;
    h = this.maxpool4.forward(this.inception4e.forward(h)); // [N, 832, H/32, W/32]
    h = this.inception5b.forward(this.inception5a.forward(h)); // [N, 1024, ·, ·]
    const logits = this.fc.forward(this.dropout.forward(flatten(this.avgpool.forward(h), 1)));
    return { logits, aux1, aux2 };
  }

  /** The main logits (the auxiliary heads still run in training mode, as in torchvision, so their BN statistics update). */
  forward(x: Tensor): Tensor {
    return this.forwardWithAux(x).logits;
  }
}

export const googlenet = (...a: [opts?: GoogLeNetOptions]) =>
  new GoogLeNet(modelArgs("googlenet", { auxLogits: checks.bool, dropout: probability, dropoutAux: probability }, a));
