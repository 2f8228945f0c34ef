// BN-Inception / Inception v2 (Ioffe & Szegedy 2015, "Batch Normalization", §4.2 and Fig. 5): GoogLeNet with
// BatchNorm after every convolution, each 5×5 replaced by two stacked 3×3, average pooling in most pool
// branches, and stride-2 reductions (3c, 4e) inside the modules. The layout and state-dict keys are those of
// the widely used PyTorch port (`bninception` in Cadene's pretrained-models, converted from the authors' Caffe
// model): one flat module whose children are named as the Caffe layers (`conv1_7x7_s2`, `conv1_7x7_s2_bn`,
// `inception_3a_double_3x3_1`, …), every conv with a bias, BatchNorm with eps 1e-5. Its keys and shapes are
// checked against the port's own code, so its ImageNet file is meant to load unchanged (`num_batches_tracked`,
// absent from that file, is filled with 0 as PyTorch does); the file itself was not fetched to try.
//
// Two deliberate differences from the port, neither in the state dict: BatchNorm keeps PyTorch's momentum 0.1
// (the port's 0.9 is Caffe's moving-average fraction written into PyTorch's opposite convention), and the
// final pool is an adaptive average (the port's fixed 7×7 AvgPool2d gives the same at 224×224 and fails
// at other sizes). 11,295,240 parameters with 1000 classes; 2.03 G mult-adds at 224×224 (the paper's "2.0 G";
// Szegedy et al. 2016, Table 3).

import { Tensor } from "../tensor/tensor.js";
import { Module } from "../nn/module.js";
import { Conv2d } from "../nn/layers/conv.js";
import { BatchNorm2d } from "../nn/layers/normalization.js";
import { Linear } from "../nn/layers/linear.js";
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from "../nn/layers/pooling.js";
import { chain } from "../nn/fuse.js";
import { relu } from "../ops/math.js";
import { cat, flatten } from "../ops/movement.js";
import { modelArgs, type ModelOptions } from "./blocks.js";

/** One Caffe-style conv → BN → ReLU unit: two named children of the model, `<name>` and `<name>_bn`. */
interface Unit {
  conv: Conv2d;
  bn: BatchNorm2d;
}

/**
 * One Inception module (Fig. 5 of the BN paper's supplement, as the port lays it out): an optional 1×1
 * branch; 1×1 → 3×3; 1×1 → 3×3 → 3×3; a pool branch, projected by a 1×1 unless it is a reduction. In a
 * reduction (3c, 4e) the last 3×3 of both 3×3 branches and the max pool have stride 2.
 */
interface BlockSpec {
  name: string;
  inCh: number;
  b1x1: number; // 0: no 1×1 branch (reductions)
  red3: number;
  c3: number;
  redD: number;
  d3: number;
  pool: "avg" | "max";
  proj: number; // 0: the pooled input is concatenated as it is (reductions)
}

// prettier-ignore
const BLOCKS: BlockSpec[] = [
  { name: "3a", inCh: 192, b1x1: 64, red3: 64, c3: 64, redD: 64, d3: 96, pool: "avg", proj: 32 },
  { name: "3b", inCh: 256, b1x1: 64, red3: 64, c3: 96, redD: 64, d3: 96, pool: "avg", proj: 64 },
  { name: "3c", inCh: 320, b1x1: 0, red3: 128, c3: 160, redD: 64, d3: 96, pool: "max", proj: 0 },
  { name: "4a", inCh: 576, b1x1: 224, red3: 64, c3: 96, redD: 96, d3: 128, pool: "avg", proj: 128 },
  { name: "4b", inCh: 576, b1x1: 192, red3: 96, c3: 128, redD: 96, d3: 128, pool: "avg", proj: 128 },
  { name: "4c", inCh: 576, b1x1: 160, red3: 128, c3: 160, redD: 128, d3: 160, pool: "avg", proj: 128 },
  { name: "4d", inCh: 608, b1x1: 96, red3: 128, c3: 192, redD: 160, d3: 192, pool: "avg", proj: 128 },
  { name: "4e", inCh: 608, b1x1: 0, red3: 128, c3: 192, redD: 192, d3: 256, pool: "max", proj: 0 },
  { name: "5a", inCh: 1056, b1x1: 352, red3: 192, c3: 320, redD: 160, d3: 224, pool: "avg", proj: 128 },
  { name: "5b", inCh: 1024, b1x1: 352, red3: 192, c3: 320, redD: 192, d3: 224, pool: "max", proj: 128 },
];

interface Block {
  b1x1: Unit | null;
  branch3: Unit[];
  branchD: Unit[];
  pool: Module;
  proj: Unit | null;
}

const run = (x: Tensor, u: Unit) => chain(x, u.conv, u.bn, relu);

/** BN-Inception with the port's flat, Caffe-named children (see the file comment). */
export class BNInception extends Module {
  private readonly stem: Unit[];
  private readonly stemPools: Module[];
  private readonly blocks: Block[];
  // children are assigned in the constructor, in the port's order (which is the state dict's order)
  declare readonly global_pool: AdaptiveAvgPool2d;
  declare readonly last_linear: Linear;

  constructor(opts: ModelOptions = {}) {
    super();
    const conv1 = this.unit("conv1_7x7_s2", opts.inChannels ?? 3, 64, 7, 2, 3);
    const pool1 = this.child("pool1_3x3_s2", new MaxPool2d(3, { stride: 2, ceilMode: true }));
    const reduce2 = this.unit("conv2_3x3_reduce", 64, 64, 1);
    const conv2 = this.unit("conv2_3x3", 64, 192, 3, 1, 1);
    const pool2 = this.child("pool2_3x3_s2", new MaxPool2d(3, { stride: 2, ceilMode: true }));
    this.stem = [conv1, reduce2, conv2];
    this.stemPools = [pool1, pool2];
    this.blocks = BLOCKS.map((s) => this.block(s));
    this.child("global_pool", new AdaptiveAvgPool2d([1, 1]));
    this.child("last_linear", new Linear(1024, opts.numClasses ?? 1000));
  }

  private child<M extends Module>(name: string, m: M): M {
    (this as unknown as Record<string, Module>)[name] = m;
    return m;
  }

  private unit(name: string, inCh: number, outCh: number, k: number, stride = 1, padding = 0): Unit {
    const conv = this.child(name, new Conv2d(inCh, outCh, k, { stride, padding }));
    return { conv, bn: this.child(`${name}_bn`, new BatchNorm2d(outCh)) };
  }

  private block(s: BlockSpec): Block {
    const p = `inception_${s.name}_`;
    const stride = s.proj === 0 ? 2 : 1;
    const b1x1 = s.b1x1 ? this.unit(`${p}1x1`, s.inCh, s.b1x1, 1) : null;
    const branch3 = [this.unit(`${p}3x3_reduce`, s.inCh, s.red3, 1), this.unit(`${p}3x3`, s.red3, s.c3, 3, stride, 1)];
    const branchD = [
      this.unit(`${p}double_3x3_reduce`, s.inCh, s.redD, 1),
      this.unit(`${p}double_3x3_1`, s.redD, s.d3, 3, 1, 1),
      this.unit(`${p}double_3x3_2`, s.d3, s.d3, 3, stride, 1),
    ];
    const padding = stride === 1 ? 1 : 0;
    const pool =
      s.pool === "avg"
        ? new AvgPool2d(3, { stride, padding, ceilMode: true, countIncludePad: true })
        : new MaxPool2d(3, { stride, padding, ceilMode: true });
    this.child(`${p}pool`, pool);
    const proj = s.proj ? this.unit(`${p}pool_proj`, s.inCh, s.proj, 1) : null;
    return { b1x1, branch3, branchD, pool, proj };
  }

  /** The 1024-channel feature map (7×7 at 224×224), as the port's `features()`. */
  features(x: Tensor): Tensor {
    const [conv1, reduce2, conv2] = this.stem;
    let h = this.stemPools[0].forward(run(x, conv1)); // [N, 64, H/4, W/4]
    h = this.stemPools[1].forward(run(run(h, reduce2), conv2)); // [N, 192, H/8, W/8]
    for (const b of this.blocks) {
      const outs: Tensor[] = [];
      if (b.b1x1) outs.push(run(h, b.b1x1));
      outs.push(b.branch3.reduce(run, h));
      outs.push(b.branchD.reduce(run, h));
      const pooled = b.pool.forward(h);
      outs.push(b.proj ? run(pooled, b.proj) : pooled);
      h = cat(outs, 1);
    }
    return h;
  }

  forward(x: Tensor): Tensor {
    return this.last_linear.forward(flatten(this.global_pool.forward(this.features(x)), 1));
  }
}

export const bn_inception = (...a: [opts?: ModelOptions]) => new BNInception(modelArgs("bn_inception", {}, a));
/** The same network under the name Szegedy et al. 2016 give it (Table 3, "Inception-v2" / BN-Inception). */
export const inception_v2 = (...a: [opts?: ModelOptions]) => new BNInception(modelArgs("inception_v2", {}, a));
