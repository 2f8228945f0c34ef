// Inception v3 (Szegedy et al. 2016, "Rethinking the Inception Architecture"): factorized 1×n / n×1
// convolutions, 299×299 input; torchvision's layout and keys (Mixed_5b.branch1x1.conv.weight …).

import { Tensor } from "../tensor/tensor.js";
import { Module } from "../nn/module.js";
import { Linear } from "../nn/layers/linear.js";
import { AdaptiveAvgPool2d, MaxPool2d } from "../nn/layers/pooling.js";
import { Dropout } from "../nn/layers/dropout.js";
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from "../ops/conv_pool.js";
import { cat, flatten } from "../ops/movement.js";
import { BasicConv2d, initTruncNormal, type ModelOptions } from "./blocks.js";
import { modelArgs, probability } from "./blocks.js";
import { checks } from "../ops/args.js";

const C = (i: number, o: number, k: number | [number, number], opts: { stride?: number; padding?: number | [number, number] } = {}) =>
  new BasicConv2d(i, o, k, opts);
const pool3 = (x: Tensor) => avgPool2d(x, 3, { stride: 1, padding: 1 });

/** 35×35 block: 1×1 | 1×1→5×5 | 1×1→3×3→3×3 | avg-pool→1×1. */
class InceptionA extends Module {
  branch1x1: BasicConv2d;
  branch5x5_1: BasicConv2d;
  branch5x5_2: BasicConv2d;
  branch3x3dbl_1: BasicConv2d;
  branch3x3dbl_2: BasicConv2d;
  branch3x3dbl_3: BasicConv2d;
  branch_pool: BasicConv2d;
  constructor(i: number, poolFeatures: number) {
    super();
    this.branch1x1 = C(i, 64, 1);
    this.branch5x5_1 = C(i, 48, 1);
    this.branch5x5_2 = C(48, 64, 5, { padding: 2 });
    this.branch3x3dbl_1 = C(i, 64, 1);
    this.branch3x3dbl_2 = C(64, 96, 3, { padding: 1 });
    this.branch3x3dbl_3 = C(96, 96, 3, { padding: 1 });
    this.branch_pool = C(i, poolFeatures, 1);
  }
  forward(x: Tensor): Tensor {
    return cat(
      [
        this.branch1x1.forward(x),
        this.branch5x5_2.forward(this.branch5x5_1.forward(x)),
        this.branch3x3dbl_3.forward(this.branch3x3dbl_2.forward(this.branch3x3dbl_1.forward(x))),
        this.branch_pool.forward(pool3(x)),
      ],
      1,
    );
  }
}

/** Grid reduction 35→17: 3×3/2 | 1×1→3×3→3×3/2 | max-pool 3×3/2. */
class InceptionB extends Module {
  branch3x3: BasicConv2d;
  branch3x3dbl_1: BasicConv2d;
  branch3x3dbl_2: BasicConv2d;
  branch3x3dbl_3: BasicConv2d;
  constructor(i: number) {
    super();
    this.branch3x3 = C(i, 384, 3, { stride: 2 });
    this.branch3x3dbl_1 = C(i, 64, 1);
    this.branch3x3dbl_2 = C(64, 96, 3, { padding: 1 });
    this.branch3x3dbl_3 = C(96, 96, 3, { stride: 2 });
  }
  forward(x: Tensor): Tensor {
    return cat(
      [
        this.branch3x3.forward(x),
        this.branch3x3dbl_3.forward(this.branch3x3dbl_2.forward(this.branch3x3dbl_1.forward(x))),
        maxPool2d(x, 3, { stride: 2 }),
      ],
      1,
    );
  }
}

/** 17×17 block with 7×7 convolutions factorized into 1×7 and 7×1. */
class InceptionC extends Module {
  branch1x1: BasicConv2d;
  branch7x7_1: BasicConv2d;
  branch7x7_2: BasicConv2d;
  branch7x7_3: BasicConv2d;
  branch7x7dbl_1: BasicConv2d;
  branch7x7dbl_2: BasicConv2d;
  branch7x7dbl_3: BasicConv2d;
  branch7x7dbl_4: BasicConv2d;
  branch7x7dbl_5: BasicConv2d;
  branch_pool: BasicConv2d;
  constructor(i: number, c7: number) {
    super();
    this.branch1x1 = C(i, 192, 1);
    this.branch7x7_1 = C(i, c7, 1);
    this.branch7x7_2 = C(c7, c7, [1, 7], { padding: [0, 3] });
    this.branch7x7_3 = C(c7, 192, [7, 1], { padding: [3, 0] });
    this.branch7x7dbl_1 = C(i, c7, 1);
    this.branch7x7dbl_2 = C(c7, c7, [7, 1], { padding: [3, 0] });
    this.branch7x7dbl_3 = C(c7, c7, [1, 7], { padding: [0, 3] });
    this.branch7x7dbl_4 = C(c7, c7, [7, 1], { padding: [3, 0] });
    this.branch7x7dbl_5 = C(c7, 192, [1, 7], { padding: [0, 3] });
    this.branch_pool = C(i, 192, 1);
  }
  forward(x: Tensor): Tensor {
    let d = this.branch7x7dbl_1.forward(x);
    for (const m of [this.branch7x7dbl_2, this.branch7x7dbl_3, this.branch7x7dbl_4, this.branch7x7dbl_5]) d = m.forward(d);
    return cat(
      [
        this.branch1x1.forward(x),
        this.branch7x7_3.forward(this.branch7x7_2.forward(this.branch7x7_1.forward(x))),
        d,
        this.branch_pool.forward(pool3(x)),
      ],
      1,
    );
  }
}

/** Grid reduction 17→8. */
class InceptionD extends Module {
  branch3x3_1: BasicConv2d;
  branch3x3_2: BasicConv2d;
  branch7x7x3_1: BasicConv2d;
  branch7x7x3_2: BasicConv2d;
  branch7x7x3_3: BasicConv2d;
  branch7x7x3_4: BasicConv2d;
  constructor(i: number) {
    super();
    this.branch3x3_1 = C(i, 192, 1);
    this.branch3x3_2 = C(192, 320, 3, { stride: 2 });
    this.branch7x7x3_1 = C(i, 192, 1);
    this.branch7x7x3_2 = C(192, 192, [1, 7], { padding: [0, 3] });
    this.branch7x7x3_3 = C(192, 192, [7, 1], { padding: [3, 0] });
    this.branch7x7x3_4 = C(192, 192, 3, { stride: 2 });
  }
  forward(x: Tensor): Tensor {
    let b = this.branch7x7x3_1.forward(x);
    for (const m of [this.branch7x7x3_2, this.branch7x7x3_3, this.branch7x7x3_4]) b = m.forward(b);
    return cat([this.branch3x3_2.forward(this.branch3x3_1.forward(x)), b, maxPool2d(x, 3, { stride: 2 })], 1);
  }
}

/** 8×8 block with expanded filter banks (1×3 and 3×1 side by side). */
class InceptionE extends Module {
  branch1x1: BasicConv2d;
  branch3x3_1: BasicConv2d;
  branch3x3_2a: BasicConv2d;
  branch3x3_2b: BasicConv2d;
  branch3x3dbl_1: BasicConv2d;
  branch3x3dbl_2: BasicConv2d;
  branch3x3dbl_3a: BasicConv2d;
  branch3x3dbl_3b: BasicConv2d;
  branch_pool: BasicConv2d;
  constructor(i: number) {
    super();
    this.branch1x1 = C(i, 320, 1);
    this.branch3x3_1 = C(i, 384, 1);
    this.branch3x3_2a = C(384, 384, [1, 3], { padding: [0, 1] });
    this.branch3x3_2b = C(384, 384, [3, 1], { padding: [1, 0] });
    this.branch3x3dbl_1 = C(i, 448, 1);
    this.branch3x3dbl_2 = C(448, 384, 3, { padding: 1 });
    this.branch3x3dbl_3a = C(384, 384, [1, 3], { padding: [0, 1] });
    this.branch3x3dbl_3b = C(384, 384, [3, 1], { padding: [1, 0] });
    this.branch_pool = C(i, 192, 1);
  }
  forward(x: Tensor): Tensor {
    const a = this.branch3x3_1.forward(x);
    const d = this.branch3x3dbl_2.forward(this.branch3x3dbl_1.forward(x));
    return cat(
      [
        this.branch1x1.forward(x),
        cat([this.branch3x3_2a.forward(a), this.branch3x3_2b.forward(a)], 1),
        cat([this.branch3x3dbl_3a.forward(d), this.branch3x3dbl_3b.forward(d)], 1),
        this.branch_pool.forward(pool3(x)),
      ],
      1,
    );
  }
}

/** Auxiliary head on the 17×17 grid: avg-pool 5×5/3 → 1×1 conv 128 → 5×5 conv 768 → fc. */
class InceptionAuxV3 extends Module {
  conv0: BasicConv2d;
  conv1: BasicConv2d;
  fc: Linear;
  constructor(i: number, numClasses: number) {
    super();
    this.conv0 = C(i, 128, 1);
    this.conv1 = C(128, 768, 5);
    this.fc = new Linear(768, numClasses);
  }
  forward(x: Tensor): Tensor {
    const h = this.conv1.forward(this.conv0.forward(avgPool2d(x, 5, { stride: 3 }))); // [N, 768, 1, 1]
    return this.fc.forward(flatten(adaptiveAvgPool2d(h, 1), 1));
  }
}

export interface InceptionV3Options extends ModelOptions {
  auxLogits?: boolean;
  dropout?: number;
}

/** 23,834,568 parameters without the auxiliary head, 27,161,264 with it; smallest input 75×75. */
export class Inception3 extends Module {
  Conv2d_1a_3x3: BasicConv2d;
  Conv2d_2a_3x3: BasicConv2d;
  Conv2d_2b_3x3: BasicConv2d;
  maxpool1 = new MaxPool2d(3, { stride: 2 });
  Conv2d_3b_1x1: BasicConv2d;
  Conv2d_4a_3x3: BasicConv2d;
  maxpool2 = new MaxPool2d(3, { stride: 2 });
  Mixed_5b: InceptionA;
  Mixed_5c: InceptionA;
  Mixed_5d: InceptionA;
  Mixed_6a: InceptionB;
  Mixed_6b: InceptionC;
  Mixed_6c: InceptionC;
  Mixed_6d: InceptionC;
  Mixed_6e: InceptionC;
  AuxLogits: InceptionAuxV3 | null;
  Mixed_7a: InceptionD;
  Mixed_7b: InceptionE;
  Mixed_7c: InceptionE;
  avgpool = new AdaptiveAvgPool2d([1, 1]);
  dropout: Dropout;
  fc: Linear;

  constructor(opts: InceptionV3Options = {}) {
    super();
    const k = opts.numClasses ?? 1000;
    this.Conv2d_1a_3x3 = C(opts.inChannels ?? 3, 32, 3, { stride: 2 });
    this.Conv2d_2a_3x3 = C(32, 32, 3);
    this.Conv2d_2b_3x3 = C(32, 64, 3, { padding: 1 });
    this.Conv2d_3b_1x1 = C(64, 80, 1);
    this.Conv2d_4a_3x3 = C(80, 192, 3);
    this.Mixed_5b = new InceptionA(192, 32);
    this.Mixed_5c = new InceptionA(256, 64);
    this.Mixed_5d = new InceptionA(288, 64);
    this.Mixed_6a = new InceptionB(288);
    this.Mixed_6b = new InceptionC(768, 128);
    this.Mixed_6c = new InceptionC(768, 160);
    this.Mixed_6d = new InceptionC(768, 160);
    this.Mixed_6e = new InceptionC(768, 192);
    this.AuxLogits = (opts.auxLogits ?? true) ? new InceptionAuxV3(768, k) : null;
    this.Mixed_7a = new InceptionD(768);
    this.Mixed_7b = new InceptionE(1280);
    this.Mixed_7c = new InceptionE(2048);
    this.dropout = new Dropout(opts.dropout ?? 0.5);
    this.fc = new Linear(2048, k);
    const std = new Map<Module, number>();
    // torchvision tags AuxLogits.conv1 (a BasicConv2d) with stddev 0.01, which its init loop never reads
    // (it looks at the inner Conv2d); only AuxLogits.fc's 0.001 takes effect.
    if (this.AuxLogits) std.set(this.AuxLogits.fc, 0.001);
    initTruncNormal(this, 0.1, std);
  }

  /** Logits and, in training mode with auxLogits, the auxiliary logits. */
  forwardWithAux(x: Tensor): { logits: Tensor; aux: Tensor | null } {
    let h = this.Conv2d_2b_3x3.forward(this.Conv2d_2a_3x3.forward(this.Conv2d_1a_3x3.forward(x))); // [N, 64, 147, 147] at 299
    h = this.maxpool1.forward(h); // [N, 64, 73, 73]
    h = this.maxpool2.forward(this.Conv2d_4a_3x3.forward(this.Conv2d_3b_1x1.forward(h))); // [N, 192, 35, 35]
    h = this.Mixed_5d.forward(this.Mixed_5c.forward(this.Mixed_5b.forward(h))); // [N, 288, 35, 35]
    h = this.Mixed_6a.forward(h); // [N, 768, 17, 17]
    h = this.Mixed_6e.forward(this.Mixed_6d.forward(this.Mixed_6c.forward(this.Mixed_6b.forward(h))));
    const aux = this.AuxLogits && this.training ? this.AuxLogits.forward(h) : null;
    h = this.Mixed_7c.forward(this.Mixed_7b.forward(this.Mixed_7a.forward(h))); // [N, 2048, 8, 8]
    const logits = this.fc.forward(flatten(this.dropout.forward(this.avgpool.forward(h)), 1));
    return { logits, aux };
  }

  forward(x: Tensor): Tensor {
    return this.forwardWithAux(x).logits;
  }
}

export const inception_v3 = (...a: [opts?: InceptionV3Options]) =>
  new Inception3(modelArgs("inception_v3", { auxLogits: checks.bool, dropout: probability }, a));
