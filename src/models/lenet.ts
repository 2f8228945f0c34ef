// LeNet-5 (LeCun et al. 1998), with the modern options: ReLU or tanh, max or average pooling, BatchNorm.

import { Tensor } from "../tensor/tensor.js";
import { Module } from "../nn/module.js";
import { Conv2d, ZeroPad2d } from "../nn/layers/conv.js";
import { chain } from "../nn/fuse.js";
import { BatchNorm2d, BatchNorm1d } from "../nn/layers/normalization.js";
import { Linear, Flatten } from "../nn/layers/linear.js";
import { Sequential } from "../nn/layers/container.js";
import { AvgPool2d, MaxPool2d } from "../nn/layers/pooling.js";
import { ReLU, Tanh } from "../nn/layers/activation.js";
import type { ModelOptions } from "./blocks.js";
import { modelArgs } from "./blocks.js";
import { checks, type Check } from "../ops/args.js";

export interface LeNet5Options extends ModelOptions {
  /** Default "relu" (the 1998 network used a scaled tanh). */
  activation?: "relu" | "tanh";
  /** Default "max" (the 1998 network used trainable average-like subsampling). */
  pooling?: "max" | "avg";
  /** BatchNorm after each convolution and hidden linear layer (default false). */
  batchNorm?: boolean;
}

/** 28 → 32 (not a registered layer: no state, and the printout and summary keep LeNet-5's layers). */
const PAD_28 = new ZeroPad2d(2);

/**
 * LeNet-5: INPUT → [CONV 5×5 → act → POOL] × 2 → FC 120 → FC 84 → FC classes, for 32×32 inputs (the
 * original) and 28×28 ones (MNIST / Fashion-MNIST), which are zero-padded by 2 — the same as giving conv1
 * padding 2. Shapes: [N,1,32,32] → conv1 [N,6,28,28] → pool [N,6,14,14] → conv2 [N,16,10,10] → pool
 * [N,16,5,5] → flatten 400 → 120 → 84 → classes. 61,706 parameters for 10 classes.
 */
export class LeNet5 extends Module {
  features: Sequential;
  classifier: Sequential;

  constructor(opts: LeNet5Options = {}) {
    super();
    const act = () => (opts.activation === "tanh" ? new Tanh() : new ReLU());
    const pool = () => (opts.pooling === "avg" ? new AvgPool2d(2) : new MaxPool2d(2));
    const bn = opts.batchNorm ?? false;
    this.features = new Sequential(
      new Conv2d(opts.inChannels ?? 1, 6, 5, { bias: !bn }),
      ...(bn ? [new BatchNorm2d(6)] : []),
      act(),
      pool(),
      new Conv2d(6, 16, 5, { bias: !bn }),
      ...(bn ? [new BatchNorm2d(16)] : []),
      act(),
      pool(),
    );
    this.classifier = new Sequential(
      new Flatten(),
      new Linear(16 * 5 * 5, 120, { bias: !bn }),
      ...(bn ? [new BatchNorm1d(120)] : []),
      act(),
      new Linear(120, 84, { bias: !bn }),
      ...(bn ? [new BatchNorm1d(84)] : []),
      act(),
      new Linear(84, opts.numClasses ?? 10),
    );
  }

  forward(x: Tensor): Tensor {
    const size = x.shape[x.ndim - 1];
    if (x.ndim !== 4 || x.shape[2] !== size || (size !== 28 && size !== 32)) {
      throw new RangeError(`lenet5: expected [N, C, 28, 28] or [N, C, 32, 32] input, got [${x.shape.join(", ")}]`);
    }
    // 28×28 inputs are zero-padded to 32×32 first; through chain, the pad is a step that the fusion table
    // can fold into conv1's kernel
    const h = chain(x, ...(size === 28 ? [PAD_28] : []), this.features); // [N, C, 32, 32] → [N, 16, 5, 5]
    return this.classifier.forward(h); // → [N, classes]
  }
}

/** LeNet-5; `numClasses` defaults to 10 here (its datasets), `inChannels` to 1. */
export function lenet5(...args: [opts?: LeNet5Options]): LeNet5 {
  return new LeNet5(
    modelArgs("lenet5", { activation: checks.oneOf("relu", "tanh"), pooling: checks.oneOf("max", "avg"), batchNorm: checks.bool }, args),
  );
}

export interface ConvNetBNOptions extends ModelOptions {
  /** Channels of the two conv blocks (default [16, 32]). */
  widths?: [number, number];
}

/**
 * A small conv net with BatchNorm for 28×28 inputs: [conv 3×3 → BN → ReLU → max-pool] × 2 → FC 128 → BN →
 * ReLU → FC classes. Shapes: [N,1,28,28] → [N,16,14,14] → [N,32,7,7] → 1568 → 128 → classes.
 */
export class ConvNetBN extends Module {
  features: Sequential;
  classifier: Sequential;
  constructor(opts: ConvNetBNOptions = {}) {
    super();
    const [a, b] = opts.widths ?? [16, 32];
    this.features = new Sequential(
      new Conv2d(opts.inChannels ?? 1, a, 3, { padding: 1, bias: false }),
      new BatchNorm2d(a),
      new ReLU(),
      new MaxPool2d(2),
      new Conv2d(a, b, 3, { padding: 1, bias: false }),
      new BatchNorm2d(b),
      new ReLU(),
      new MaxPool2d(2),
    );
    this.classifier = new Sequential(
      new Flatten(),
      new Linear(b * 7 * 7, 128, { bias: false }),
      new BatchNorm1d(128),
      new ReLU(),
      new Linear(128, opts.numClasses ?? 10),
    );
  }
  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.features.forward(x)); // [N, 1, 28, 28] → [N, 32, 7, 7] → [N, classes]
  }
}

/** The small BatchNorm conv net (`numClasses` 10 and `inChannels` 1 by default). */
export function convnet_bn(...args: [opts?: ConvNetBNOptions]): ConvNetBN {
  const widths: Check = (v) =>
    Array.isArray(v) && v.length === 2 && v.every((w) => Number.isSafeInteger(w) && w >= 1) ? null : "two integers ≥ 1";
  return new ConvNetBN(modelArgs("convnet_bn", { widths }, args));
}
