// ResNet v1 (He et al. 2016, torchvision's v1.5 layout: stride in the 3×3), ResNeXt (Xie et al. 2017:
// cardinality as grouped convolution) and pre-activation ResNet v2 (He et al., "Identity Mappings", 2016).

import { Tensor } from "../tensor/tensor.js";
import { Module } from "../nn/module.js";
import { Conv2d } from "../nn/layers/conv.js";
import { BatchNorm2d } from "../nn/layers/normalization.js";
import { Linear, Identity } from "../nn/layers/linear.js";
import { Sequential } from "../nn/layers/container.js";
import { AdaptiveAvgPool2d, MaxPool2d } from "../nn/layers/pooling.js";
import { add, relu } from "../ops/math.js";
import { flatten } from "../ops/movement.js";
import { constant } from "../nn/init.js";
import { chain } from "../nn/fuse.js";
import { initConvBn, type ModelOptions } from "./blocks.js";
import { modelArgs } from "./blocks.js";
import { checks } from "../ops/args.js";

const conv3x3 = (i: number, o: number, stride = 1, groups = 1) => new Conv2d(i, o, 3, { stride, padding: 1, groups, bias: false });
const conv1x1 = (i: number, o: number, stride = 1) => new Conv2d(i, o, 1, { stride, bias: false });

interface Block extends Module {
  readonly expansion: number;
}

/** Two 3×3 convs with a skip connection: relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut(x)). */
export class BasicBlock extends Module {
  readonly expansion = 1;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  downsample: Sequential | null;
  constructor(inplanes: number, planes: number, stride = 1, downsample: Sequential | null = null, groups = 1, baseWidth = 64) {
    super();
    if (groups !== 1 || baseWidth !== 64) throw new RangeError("BasicBlock only supports groups=1 and base_width=64");
    this.conv1 = conv3x3(inplanes, planes, stride);
    this.bn1 = new BatchNorm2d(planes);
    this.conv2 = conv3x3(planes, planes);
    this.bn2 = new BatchNorm2d(planes);
    this.downsample = downsample;
  }
  forward(x: Tensor): Tensor {
    const out = chain(x, this.conv1, this.bn1, relu, this.conv2, this.bn2);
    return relu(add(out, this.downsample ? this.downsample.forward(x) : x));
  }
}

/** 1×1 reduce → 3×3 (grouped for ResNeXt, carries the stride) → 1×1 expand ×4, plus the shortcut. */
export class Bottleneck extends Module {
  readonly expansion = 4;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  conv3: Conv2d;
  bn3: BatchNorm2d;
  downsample: Sequential | null;
  constructor(inplanes: number, planes: number, stride = 1, downsample: Sequential | null = null, groups = 1, baseWidth = 64) {
    super();
    const width = Math.floor(planes * (baseWidth / 64)) * groups;
    this.conv1 = conv1x1(inplanes, width);
    this.bn1 = new BatchNorm2d(width);
    this.conv2 = conv3x3(width, width, stride, groups);
    this.bn2 = new BatchNorm2d(width);
    this.conv3 = conv1x1(width, planes * 4);
    this.bn3 = new BatchNorm2d(planes * 4);
    this.downsample = downsample;
  }
  forward(x: Tensor): Tensor {
    const out = chain(x, this.conv1, this.bn1, relu, this.conv2, this.bn2, relu, this.conv3, this.bn3);
    return relu(add(out, this.downsample ? this.downsample.forward(x) : x));
  }
}

/** Pre-activation basic block (ResNet v2): x + conv2(relu(bn2(conv1(relu(bn1 x))))); the shortcut takes relu(bn1 x) when projecting. */
export class PreActBlock extends Module {
  readonly expansion = 1;
  bn1: BatchNorm2d;
  conv1: Conv2d;
  bn2: BatchNorm2d;
  conv2: Conv2d;
  downsample: Sequential | null;
  constructor(inplanes: number, planes: number, stride = 1, downsample: Sequential | null = null) {
    super();
    this.bn1 = new BatchNorm2d(inplanes);
    this.conv1 = conv3x3(inplanes, planes, stride);
    this.bn2 = new BatchNorm2d(planes);
    this.conv2 = conv3x3(planes, planes);
    this.downsample = downsample;
  }
  forward(x: Tensor): Tensor {
    const pre = chain(x, this.bn1, relu);
    const shortcut = this.downsample ? this.downsample.forward(pre) : x;
    return add(chain(pre, this.conv1, this.bn2, relu, this.conv2), shortcut);
  }
}

/** Pre-activation bottleneck (ResNet v2): BN → ReLU → conv inside every unit, identity skip. */
export class PreActBottleneck extends Module {
  readonly expansion = 4;
  bn1: BatchNorm2d;
  conv1: Conv2d;
  bn2: BatchNorm2d;
  conv2: Conv2d;
  bn3: BatchNorm2d;
  conv3: Conv2d;
  downsample: Sequential | null;
  constructor(inplanes: number, planes: number, stride = 1, downsample: Sequential | null = null) {
    super();
    this.bn1 = new BatchNorm2d(inplanes);
    this.conv1 = conv1x1(inplanes, planes);
    this.bn2 = new BatchNorm2d(planes);
    this.conv2 = conv3x3(planes, planes, stride);
    this.bn3 = new BatchNorm2d(planes);
    this.conv3 = conv1x1(planes, planes * 4);
    this.downsample = downsample;
  }
  forward(x: Tensor): Tensor {
    const pre = chain(x, this.bn1, relu);
    const shortcut = this.downsample ? this.downsample.forward(pre) : x;
    return add(chain(pre, this.conv1, this.bn2, relu, this.conv2, this.bn3, relu, this.conv3), shortcut);
  }
}

type BlockCtor = new (
  inplanes: number,
  planes: number,
  stride: number,
  downsample: Sequential | null,
  groups: number,
  baseWidth: number,
) => Block;

export interface ResNetOptions extends ModelOptions {
  /** For 28×28 / 32×32 inputs: a 3×3 stride-1 stem and no max-pool (default false). */
  smallInput?: boolean;
  /** Start each residual branch's last BN at γ = 0, so every block starts as the identity (default false). */
  zeroInitResidual?: boolean;
  groups?: number;
  widthPerGroup?: number;
}

/**
 * ResNet: stem (7×7/2 conv, BN, ReLU, 3×3/2 max-pool) → 4 stages of residual blocks (64, 128, 256, 512
 * planes; stages 2–4 halve the resolution) → global average pool → fc. Pre-activation models add a final
 * BN + ReLU before pooling (`bn_final`, as v2 requires).
 */
export class ResNet extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d | null;
  maxpool: Module;
  layer1: Sequential;
  layer2: Sequential;
  layer3: Sequential;
  layer4: Sequential;
  bn_final: BatchNorm2d | null;
  avgpool = new AdaptiveAvgPool2d([1, 1]);
  fc: Linear;
  private inplanes = 64;

  constructor(
    block: BlockCtor,
    layers: number[],
    opts: ResNetOptions = {},
    private readonly preact = false,
  ) {
    super();
    const groups = opts.groups ?? 1,
      width = opts.widthPerGroup ?? 64;
    const small = opts.smallInput ?? false;
    this.conv1 = small
      ? new Conv2d(opts.inChannels ?? 3, 64, 3, { stride: 1, padding: 1, bias: false })
      : new Conv2d(opts.inChannels ?? 3, 64, 7, { stride: 2, padding: 3, bias: false });
    this.bn1 = preact ? null : new BatchNorm2d(64);
    this.maxpool = small ? new Identity() : new MaxPool2d(3, { stride: 2, padding: 1 });
    this.layer1 = this.makeLayer(block, 64, layers[0], 1, groups, width);
    this.layer2 = this.makeLayer(block, 128, layers[1], 2, groups, width);
    this.layer3 = this.makeLayer(block, 256, layers[2], 2, groups, width);
    this.layer4 = this.makeLayer(block, 512, layers[3], 2, groups, width);
    this.bn_final = preact ? new BatchNorm2d(this.inplanes) : null;
    this.fc = new Linear(this.inplanes, opts.numClasses ?? 1000);
    initConvBn(this);
    if (opts.zeroInitResidual) {
      for (const m of this.modules()) {
        if (m instanceof Bottleneck && m.bn3.weight) constant(m.bn3.weight, 0);
        if (m instanceof BasicBlock && m.bn2.weight) constant(m.bn2.weight, 0);
      }
    }
  }

  private makeLayer(block: BlockCtor, planes: number, blocks: number, stride: number, groups: number, width: number): Sequential {
    const expansion = block === Bottleneck || (block as unknown) === PreActBottleneck ? 4 : 1;
    let downsample: Sequential | null = null;
    if (stride !== 1 || this.inplanes !== planes * expansion) {
      downsample = this.preact
        ? new Sequential(conv1x1(this.inplanes, planes * expansion, stride))
        : new Sequential(conv1x1(this.inplanes, planes * expansion, stride), new BatchNorm2d(planes * expansion));
    }
    const out = [new block(this.inplanes, planes, stride, downsample, groups, width)];
    this.inplanes = planes * expansion;
    for (let i = 1; i < blocks; i++) out.push(new block(this.inplanes, planes, 1, null, groups, width));
    return new Sequential(...out);
  }

  forward(x: Tensor): Tensor {
    let h = this.bn1 ? chain(x, this.conv1, this.bn1, relu) : this.conv1.forward(x); // [N, 64, H/2, W/2]
    h = this.maxpool.forward(h); // [N, 64, H/4, W/4]
    h = this.layer4.forward(this.layer3.forward(this.layer2.forward(this.layer1.forward(h)))); // [N, 512·e, H/32, W/32]
    if (this.bn_final) h = chain(h, this.bn_final, relu);
    return this.fc.forward(flatten(this.avgpool.forward(h), 1)); // [N, classes]
  }
}

const B = BasicBlock as unknown as BlockCtor,
  BN = Bottleneck as unknown as BlockCtor;
const PB = PreActBlock as unknown as BlockCtor,
  PBN = PreActBottleneck as unknown as BlockCtor;

/** 11,689,512 parameters. */
// a ResNeXt factory fixes its groups and width per group (torchvision refuses another value for them)
const RESNEXT_ARGS = { smallInput: checks.bool, zeroInitResidual: checks.bool };
const RESNET_ARGS = { ...RESNEXT_ARGS, groups: checks.int(1), widthPerGroup: checks.int(1) };
/** The options of the ResNeXt factories, which fix groups and widthPerGroup. */
export type ResNeXtOptions = Omit<ResNetOptions, "groups" | "widthPerGroup">;

export const resnet18 = (...a: [opts?: ResNetOptions]) => new ResNet(B, [2, 2, 2, 2], modelArgs("resnet18", RESNET_ARGS, a));
export const resnet34 = (...a: [opts?: ResNetOptions]) => new ResNet(B, [3, 4, 6, 3], modelArgs("resnet34", RESNET_ARGS, a));
/** 25,557,032 parameters. */
export const resnet50 = (...a: [opts?: ResNetOptions]) => new ResNet(BN, [3, 4, 6, 3], modelArgs("resnet50", RESNET_ARGS, a));
export const resnet101 = (...a: [opts?: ResNetOptions]) => new ResNet(BN, [3, 4, 23, 3], modelArgs("resnet101", RESNET_ARGS, a));
export const resnet152 = (...a: [opts?: ResNetOptions]) => new ResNet(BN, [3, 8, 36, 3], modelArgs("resnet152", RESNET_ARGS, a));
/** ResNeXt-50 (32×4d): cardinality 32 as a grouped 3×3 convolution; 25,028,904 parameters. */
export const resnext50_32x4d = (...a: [opts?: ResNeXtOptions]) =>
  new ResNet(BN, [3, 4, 6, 3], { ...modelArgs<ResNeXtOptions>("resnext50_32x4d", RESNEXT_ARGS, a), groups: 32, widthPerGroup: 4 });
export const resnext101_32x8d = (...a: [opts?: ResNeXtOptions]) =>
  new ResNet(BN, [3, 4, 23, 3], { ...modelArgs<ResNeXtOptions>("resnext101_32x8d", RESNEXT_ARGS, a), groups: 32, widthPerGroup: 8 });
/** Pre-activation ResNet v2 (BN → ReLU → conv in every block). */
/** 83,455,272 parameters (torchvision 0.14). */
export const resnext101_64x4d = (...a: [opts?: ResNeXtOptions]) =>
  new ResNet(BN, [3, 4, 23, 3], { ...modelArgs<ResNeXtOptions>("resnext101_64x4d", RESNEXT_ARGS, a), groups: 64, widthPerGroup: 4 });

export const preact_resnet18 = (...a: [opts?: ResNetOptions]) =>
  new ResNet(PB, [2, 2, 2, 2], modelArgs("preact_resnet18", RESNET_ARGS, a), true);
export const preact_resnet34 = (...a: [opts?: ResNetOptions]) =>
  new ResNet(PB, [3, 4, 6, 3], modelArgs("preact_resnet34", RESNET_ARGS, a), true);
export const preact_resnet50 = (...a: [opts?: ResNetOptions]) =>
  new ResNet(PBN, [3, 4, 6, 3], modelArgs("preact_resnet50", RESNET_ARGS, a), true);
export const preact_resnet101 = (...a: [opts?: ResNetOptions]) =>
  new ResNet(PBN, [3, 4, 23, 3], modelArgs("preact_resnet101", RESNET_ARGS, a), true);
export const preact_resnet152 = (...a: [opts?: ResNetOptions]) =>
  new ResNet(PBN, [3, 8, 36, 3], modelArgs("preact_resnet152", RESNET_ARGS, a), true);
/** He et al. 2016's ImageNet ResNet-200 with pre-activation units: [3, 24, 36, 3] bottlenecks. */
export const preact_resnet200 = (...a: [opts?: ResNetOptions]) =>
  new ResNet(PBN, [3, 24, 36, 3], modelArgs("preact_resnet200", RESNET_ARGS, a), true);
