// Inception-v4, Inception-ResNet-v1 and Inception-ResNet-v2 (Szegedy, Ioffe, Vanhoucke & Alemi 2016, "Inception-v4,
// Inception-ResNet and the Impact of Residual Connections on Learning"). torchvision has neither; the
// blocks follow the paper's figures (figure numbers below), with every conv a BasicConv2d (conv without
// bias → BN(eps 1e-3) → ReLU) and module names as in the widely used Cadene `pretrainedmodels` port.
// Parameter counts with 1000 classes: inception_v4 42,679,816; inception_resnet_v1 24,357,096;
// inception_resnet_v2 55,843,464.

import { Tensor } from "../tensor/tensor.js";
import { Module } from "../nn/module.js";
import { Conv2d } from "../nn/layers/conv.js";
import { Linear } from "../nn/layers/linear.js";
import { Sequential } from "../nn/layers/container.js";
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from "../nn/layers/pooling.js";
import { Dropout } from "../nn/layers/dropout.js";
import { add, mul, relu } from "../ops/math.js";
import { cat, flatten } from "../ops/movement.js";
import { BasicConv2d, initTruncNormal, type ModelOptions } from "./blocks.js";
import { modelArgs, probability } from "./blocks.js";

const C = (i: number, o: number, k: number | [number, number], opts: { stride?: number; padding?: number | [number, number] } = {}) =>
  new BasicConv2d(i, o, k, opts);
const S = (...m: Module[]) => new Sequential(...m);
const avg = () => new AvgPool2d(3, { stride: 1, padding: 1, countIncludePad: false });

/** Concatenate the outputs of the branches named branch0, branch1, … along channels. */
abstract class Branches extends Module {
  forward(x: Tensor): Tensor {
    return cat(
      this.namedChildren()
        .filter(([n]) => n.startsWith("branch"))
        .map(([, m]) => m.forward(x)),
      1,
    );
  }
}

// ---------------------------------------------------------------- Inception-v4

/** Stem, Fig. 3: 299×299×3 → 35×35×384 (mixed_3a, 4a, 5a are its filter-concat steps). */
class Mixed3a extends Branches {
  branch0 = new MaxPool2d(3, { stride: 2 });
  branch1 = C(64, 96, 3, { stride: 2 });
}
class Mixed4a extends Branches {
  branch0 = S(C(160, 64, 1), C(64, 96, 3));
  branch1 = S(C(160, 64, 1), C(64, 64, [1, 7], { padding: [0, 3] }), C(64, 64, [7, 1], { padding: [3, 0] }), C(64, 96, 3));
}
class Mixed5a extends Branches {
  branch0 = C(192, 192, 3, { stride: 2 });
  branch1 = new MaxPool2d(3, { stride: 2 });
}

/** Inception-A, Fig. 4 (35×35, 384 channels). */
class InceptionA4 extends Branches {
  branch0 = C(384, 96, 1);
  branch1 = S(C(384, 64, 1), C(64, 96, 3, { padding: 1 }));
  branch2 = S(C(384, 64, 1), C(64, 96, 3, { padding: 1 }), C(96, 96, 3, { padding: 1 }));
  branch3 = S(avg(), C(384, 96, 1));
}
/** Reduction-A, Fig. 7 with k=192, l=224, m=256, n=384 (35 → 17). */
class ReductionA4 extends Branches {
  branch0 = C(384, 384, 3, { stride: 2 });
  branch1 = S(C(384, 192, 1), C(192, 224, 3, { padding: 1 }), C(224, 256, 3, { stride: 2 }));
  branch2 = new MaxPool2d(3, { stride: 2 });
}
/** Inception-B, Fig. 5 (17×17, 1024 channels). */
class InceptionB4 extends Branches {
  branch0 = C(1024, 384, 1);
  branch1 = S(C(1024, 192, 1), C(192, 224, [1, 7], { padding: [0, 3] }), C(224, 256, [7, 1], { padding: [3, 0] }));
  branch2 = S(
    C(1024, 192, 1),
    C(192, 192, [7, 1], { padding: [3, 0] }),
    C(192, 224, [1, 7], { padding: [0, 3] }),
    C(224, 224, [7, 1], { padding: [3, 0] }),
    C(224, 256, [1, 7], { padding: [0, 3] }),
  );
  branch3 = S(avg(), C(1024, 128, 1));
}
/** Reduction-B, Fig. 8 (17 → 8). */
class ReductionB4 extends Branches {
  branch0 = S(C(1024, 192, 1), C(192, 192, 3, { stride: 2 }));
  branch1 = S(
    C(1024, 256, 1),
    C(256, 256, [1, 7], { padding: [0, 3] }),
    C(256, 320, [7, 1], { padding: [3, 0] }),
    C(320, 320, 3, { stride: 2 }),
  );
  branch2 = new MaxPool2d(3, { stride: 2 });
}
/** Inception-C, Fig. 6 (8×8, 1536 channels): 1×3 and 3×1 side by side. */
class InceptionC4 extends Module {
  branch0 = C(1536, 256, 1);
  branch1_0 = C(1536, 384, 1);
  branch1_1a = C(384, 256, [1, 3], { padding: [0, 1] });
  branch1_1b = C(384, 256, [3, 1], { padding: [1, 0] });
  branch2_0 = C(1536, 384, 1);
  branch2_1 = C(384, 448, [3, 1], { padding: [1, 0] });
  branch2_2 = C(448, 512, [1, 3], { padding: [0, 1] });
  branch2_3a = C(512, 256, [1, 3], { padding: [0, 1] });
  branch2_3b = C(512, 256, [3, 1], { padding: [1, 0] });
  branch3 = S(avg(), C(1536, 256, 1));
  forward(x: Tensor): Tensor {
    const b1 = this.branch1_0.forward(x);
    const b2 = this.branch2_2.forward(this.branch2_1.forward(this.branch2_0.forward(x)));
    return cat(
      [
        this.branch0.forward(x),
        this.branch1_1a.forward(b1),
        this.branch1_1b.forward(b1),
        this.branch2_3a.forward(b2),
        this.branch2_3b.forward(b2),
        this.branch3.forward(x),
      ],
      1,
    );
  }
}

export interface InceptionV4Options extends ModelOptions {
  dropout?: number;
}

/**
 * Inception-v4 (Fig. 9): stem → 4 × Inception-A → Reduction-A → 7 × Inception-B → Reduction-B →
 * 3 × Inception-C → global average pool → dropout (keep 0.8) → fc. Input 299×299 (smallest 75×75).
 */
export class InceptionV4 extends Module {
  features: Sequential;
  avgpool = new AdaptiveAvgPool2d([1, 1]);
  dropout: Dropout;
  last_linear: Linear;
  constructor(opts: InceptionV4Options = {}) {
    super();
    this.features = S(
      C(opts.inChannels ?? 3, 32, 3, { stride: 2 }),
      C(32, 32, 3),
      C(32, 64, 3, { padding: 1 }),
      new Mixed3a(),
      new Mixed4a(),
      new Mixed5a(),
      new InceptionA4(),
      new InceptionA4(),
      new InceptionA4(),
      new InceptionA4(),
      new ReductionA4(),
      ...Array.from({ length: 7 }, () => new InceptionB4()),
      new ReductionB4(),
      new InceptionC4(),
      new InceptionC4(),
      new InceptionC4(),
    );
    this.dropout = new Dropout(opts.dropout ?? 0.2);
    this.last_linear = new Linear(1536, opts.numClasses ?? 1000);
    initTruncNormal(this, 0.1);
  }
  forward(x: Tensor): Tensor {
    const f = this.features.forward(x); // [N, 1536, 8, 8] at 299×299
    return this.last_linear.forward(this.dropout.forward(flatten(this.avgpool.forward(f), 1)));
  }
}

// ---------------------------------------------------------------- Inception-ResNet-v2

/** 35×35 stem output block (mixed_5b): 192 → 320 channels. */
class Mixed5b extends Branches {
  branch0 = C(192, 96, 1);
  branch1 = S(C(192, 48, 1), C(48, 64, 5, { padding: 2 }));
  branch2 = S(C(192, 64, 1), C(64, 96, 3, { padding: 1 }), C(96, 96, 3, { padding: 1 }));
  branch3 = S(avg(), C(192, 64, 1));
}

/**
 * A residual Inception block: x + scale · conv1×1(concat(branch0, branch1, …)), then ReLU (Fig. 10–13 and
 * 16–19 with the §3.3 scaling; BatchNorm on the branches only, not on the sum).
 */
abstract class ResidualInception extends Branches {
  abstract conv2d: Conv2d;
  constructor(
    readonly scale: number,
    readonly activate = true,
  ) {
    super();
  }
  override forward(x: Tensor): Tensor {
    const out = add(mul(this.conv2d.forward(super.forward(x)), this.scale), x);
    return this.activate ? relu(out) : out;
  }
}

/**
 * Inception-ResNet-A (v1 Fig. 10, v2 Fig. 16) on the 35×35 grid of `ch` channels: 1×1 (32); 1×1 → 3×3 (32);
 * 1×1 → 3×3 → 3×3 (`deep`), projected back to `ch`.
 */
class Block35 extends ResidualInception {
  branch0: BasicConv2d;
  branch1: Sequential;
  branch2: Sequential;
  conv2d: Conv2d;
  constructor(ch: number, [r, m, o]: [number, number, number], scale: number) {
    super(scale);
    this.branch0 = C(ch, 32, 1);
    this.branch1 = S(C(ch, 32, 1), C(32, 32, 3, { padding: 1 }));
    this.branch2 = S(C(ch, r, 1), C(r, m, 3, { padding: 1 }), C(m, o, 3, { padding: 1 }));
    this.conv2d = new Conv2d(64 + o, ch, 1);
  }
}
/** Reduction-A, Fig. 7, with the paper's k, l, m, n (Table 1): `ch` → ch + n + m channels, 35 → 17. */
class Mixed6a extends Branches {
  branch0: BasicConv2d;
  branch1: Sequential;
  branch2 = new MaxPool2d(3, { stride: 2 });
  constructor(ch: number, k: number, l: number, m: number, n: number) {
    super();
    this.branch0 = C(ch, n, 3, { stride: 2 });
    this.branch1 = S(C(ch, k, 1), C(k, l, 3, { padding: 1 }), C(l, m, 3, { stride: 2 }));
  }
}
/**
 * Inception-ResNet-B (v1 Fig. 11, v2 Fig. 17; 17×17, `ch` channels, 1×7 then 7×1) and -C (v1 Fig. 13, v2
 * Fig. 19; 8×8, 1×3 then 3×1): 1×1 (`b0`); 1×1 → 1×k → k×1 (`b1`), projected back to `ch`.
 */
class BlockFactorized extends ResidualInception {
  branch0: BasicConv2d;
  branch1: Sequential;
  conv2d: Conv2d;
  constructor(ch: number, k: number, b0: number, [r, m, o]: [number, number, number], scale: number, activate = true) {
    super(scale, activate);
    const p = (k - 1) / 2;
    this.branch0 = C(ch, b0, 1);
    this.branch1 = S(C(ch, r, 1), C(r, m, [1, k], { padding: [0, p] }), C(m, o, [k, 1], { padding: [p, 0] }));
    this.conv2d = new Conv2d(b0 + o, ch, 1);
  }
}
/** Reduction-B (v1 Fig. 12, v2 Fig. 18): three 1×1 (256) → stride-2 3×3 branches and a max pool, 17 → 8. */
class Mixed7a extends Branches {
  branch0: Sequential;
  branch1: Sequential;
  branch2: Sequential;
  branch3 = new MaxPool2d(3, { stride: 2 });
  constructor(ch: number, b1: number, [m, o]: [number, number]) {
    super();
    this.branch0 = S(C(ch, 256, 1), C(256, 384, 3, { stride: 2 }));
    this.branch1 = S(C(ch, 256, 1), C(256, b1, 3, { stride: 2 }));
    this.branch2 = S(C(ch, 256, 1), C(256, m, 3, { padding: 1 }), C(m, o, 3, { stride: 2 }));
  }
}

/**
 * Inception-ResNet-v2 (Fig. 15): stem → mixed_5b → 10 × Inception-ResNet-A → Reduction-A → 20 × Inception-ResNet-B →
 * Reduction-B → 9 × Inception-ResNet-C (+ one without ReLU) → 1×1 conv 1536 → global average pool → fc.
 */
export class InceptionResNetV2 extends Module {
  conv2d_1a: BasicConv2d;
  conv2d_2a: BasicConv2d;
  conv2d_2b: BasicConv2d;
  maxpool_3a = new MaxPool2d(3, { stride: 2 });
  conv2d_3b: BasicConv2d;
  conv2d_4a: BasicConv2d;
  maxpool_5a = new MaxPool2d(3, { stride: 2 });
  mixed_5b = new Mixed5b();
  repeat = S(...Array.from({ length: 10 }, () => new Block35(320, [32, 48, 64], 0.17)));
  mixed_6a = new Mixed6a(320, 256, 256, 384, 384);
  repeat_1 = S(...Array.from({ length: 20 }, () => new BlockFactorized(1088, 7, 192, [128, 160, 192], 0.1)));
  mixed_7a = new Mixed7a(1088, 288, [288, 320]);
  repeat_2 = S(...Array.from({ length: 9 }, () => new BlockFactorized(2080, 3, 192, [192, 224, 256], 0.2)));
  block8 = new BlockFactorized(2080, 3, 192, [192, 224, 256], 1.0, false);
  conv2d_7b = C(2080, 1536, 1);
  avgpool_1a = new AdaptiveAvgPool2d([1, 1]);
  dropout: Dropout;
  last_linear: Linear;
  constructor(opts: InceptionV4Options = {}) {
    super();
    this.conv2d_1a = C(opts.inChannels ?? 3, 32, 3, { stride: 2 });
    this.conv2d_2a = C(32, 32, 3);
    this.conv2d_2b = C(32, 64, 3, { padding: 1 });
    this.conv2d_3b = C(64, 80, 1);
    this.conv2d_4a = C(80, 192, 3);
    this.dropout = new Dropout(opts.dropout ?? 0.2);
    this.last_linear = new Linear(1536, opts.numClasses ?? 1000);
    initTruncNormal(this, 0.1);
  }
  forward(x: Tensor): Tensor {
    let h = this.conv2d_2b.forward(this.conv2d_2a.forward(this.conv2d_1a.forward(x))); // [N, 64, 147, 147]
    h = this.conv2d_4a.forward(this.conv2d_3b.forward(this.maxpool_3a.forward(h))); // [N, 192, 71, 71]
    h = this.mixed_5b.forward(this.maxpool_5a.forward(h)); // [N, 320, 35, 35]
    h = this.mixed_6a.forward(this.repeat.forward(h)); // [N, 1088, 17, 17]
    h = this.mixed_7a.forward(this.repeat_1.forward(h)); // [N, 2080, 8, 8]
    h = this.conv2d_7b.forward(this.block8.forward(this.repeat_2.forward(h))); // [N, 1536, 8, 8]
    return this.last_linear.forward(this.dropout.forward(flatten(this.avgpool_1a.forward(h), 1)));
  }
}

// ---------------------------------------------------------------- Inception-ResNet-v1

/**
 * Inception-ResNet-v1 (Fig. 14 stem, then Fig. 15's schema): 5 × Inception-ResNet-A → Reduction-A →
 * 10 × Inception-ResNet-B → Reduction-B → 5 × Inception-ResNet-C, then one more without ReLU (as in the
 * authors' TF-slim code and the port) → global average pool →
 * dropout (keep 0.8) → fc. The body's module names and keys are those of the widely used PyTorch port
 * (facenet-pytorch's InceptionResnetV1, checked key for key), for its trained body with `{ strict: false }`;
 * the head is the paper's classifier (that port's is a 512-d face embedding). 24,357,096 parameters with 1000
 * classes; 6.31 G mult-adds at 299×299 (Inception-v3: 5.71 G — "roughly the computational cost of
 * Inception-v3", as the paper says of it).
 */
export class InceptionResNetV1 extends Module {
  conv2d_1a: BasicConv2d;
  conv2d_2a = C(32, 32, 3);
  conv2d_2b = C(32, 64, 3, { padding: 1 });
  maxpool_3a = new MaxPool2d(3, { stride: 2 });
  conv2d_3b = C(64, 80, 1);
  conv2d_4a = C(80, 192, 3);
  conv2d_4b = C(192, 256, 3, { stride: 2 });
  repeat_1 = S(...Array.from({ length: 5 }, () => new Block35(256, [32, 32, 32], 0.17)));
  mixed_6a = new Mixed6a(256, 192, 192, 256, 384); // Table 1's k, l, m, n for v1
  repeat_2 = S(...Array.from({ length: 10 }, () => new BlockFactorized(896, 7, 128, [128, 128, 128], 0.1)));
  mixed_7a = new Mixed7a(896, 256, [256, 256]);
  repeat_3 = S(...Array.from({ length: 5 }, () => new BlockFactorized(1792, 3, 192, [192, 192, 192], 0.2)));
  block8 = new BlockFactorized(1792, 3, 192, [192, 192, 192], 1.0, false);
  avgpool_1a = new AdaptiveAvgPool2d([1, 1]);
  dropout: Dropout;
  last_linear: Linear;
  constructor(opts: InceptionV4Options = {}) {
    super();
    this.conv2d_1a = C(opts.inChannels ?? 3, 32, 3, { stride: 2 });
    this.dropout = new Dropout(opts.dropout ?? 0.2);
    this.last_linear = new Linear(1792, opts.numClasses ?? 1000);
    initTruncNormal(this, 0.1);
  }
  forward(x: Tensor): Tensor {
    let h = this.conv2d_2b.forward(this.conv2d_2a.forward(this.conv2d_1a.forward(x))); // [N, 64, 147, 147]
    h = this.conv2d_4a.forward(this.conv2d_3b.forward(this.maxpool_3a.forward(h))); // [N, 192, 71, 71]
    h = this.conv2d_4b.forward(h); // [N, 256, 35, 35]
    h = this.mixed_6a.forward(this.repeat_1.forward(h)); // [N, 896, 17, 17]
    h = this.mixed_7a.forward(this.repeat_2.forward(h)); // [N, 1792, 8, 8]
    h = this.block8.forward(this.repeat_3.forward(h));
    return this.last_linear.forward(this.dropout.forward(flatten(this.avgpool_1a.forward(h), 1)));
  }
}

export const inception_v4 = (...a: [opts?: InceptionV4Options]) => new InceptionV4(modelArgs("inception_v4", { dropout: probability }, a));
export const inception_resnet_v2 = (...a: [opts?: InceptionV4Options]) =>
  new InceptionResNetV2(modelArgs("inception_resnet_v2", { dropout: probability }, a));
export const inception_resnet_v1 = (...a: [opts?: InceptionV4Options]) =>
  new InceptionResNetV1(modelArgs("inception_resnet_v1", { dropout: probability }, a));
