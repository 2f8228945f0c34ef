// Conv2d as torch.nn.Conv2d: options, default initialization and printout.

import { Tensor } from "../../tensor/tensor.js";
import { Module, Parameter } from "../module.js";
import { kaimingUniform, uniform, calculateFanInAndFanOut } from "../init.js";
import { conv2d, pad } from "../../ops/conv_pool.js";
import { zeros } from "../../ops/creation.js";
import { pair, pyPair } from "./repr.js";
import type { DType } from "../../tensor/dtype.js";
import { bindArgs, checks, type Param } from "../../ops/args.js";

export interface Conv2dLayerOptions {
  stride?: number | [number, number];
  /** Zero padding per side, or "valid" / "same". */
  padding?: number | [number, number] | "valid" | "same";
  dilation?: number | [number, number];
  groups?: number;
  bias?: boolean;
  /** PyTorch's padding_mode: nabla pads with zeros only. */
  paddingMode?: "zeros";
  /** PyTorch's device: nabla runs on the CPU. */
  device?: "cpu" | null;
  dtype?: DType;
}

type Pair = number | [number, number];

/** torch.nn.Conv2d's parameters, in its positional order. */
const CONV2D: Param[] = [
  { name: "inChannels", check: checks.int(1), required: true },
  { name: "outChannels", check: checks.int(1), required: true },
  { name: "kernelSize", check: checks.pair(1), required: true },
  { name: "stride", check: checks.pair(1) },
  { name: "padding", check: checks.either(checks.pair(0), checks.oneOf("valid", "same")) },
  { name: "dilation", check: checks.pair(1) },
  { name: "groups", check: checks.int(1) },
  { name: "bias", check: checks.bool },
  { name: "paddingMode", check: checks.oneOf("zeros") },
  { name: "device", check: checks.device },
  { name: "dtype", check: checks.dtype },
];

/**
 * 2-D convolution layer, weight [out, in/groups, kh, kw], initialized like PyTorch (kaiming-uniform
 * with a = √5, bias U(±1/√fan_in)). Takes torch.nn.Conv2d's positional order or options.
 *
 * @example new nb.nn.Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false })
 * @example new nb.nn.Conv2d(3, 64, 7, 2, 3) // PyTorch's positional order: stride 2, padding 3
 */
export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | "valid" | "same";
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, opts?: Conv2dLayerOptions);
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Pair,
    stride?: Pair,
    padding?: Conv2dLayerOptions["padding"],
    dilation?: Pair,
    groups?: number,
    bias?: boolean,
    paddingMode?: "zeros",
    device?: "cpu" | null,
    dtype?: DType,
  );
  constructor(opts: Conv2dLayerOptions & { inChannels: number; outChannels: number; kernelSize: Pair });
  constructor(...args: unknown[]) {
    super();
    const o = bindArgs<Conv2dLayerOptions & { inChannels: number; outChannels: number; kernelSize: Pair }>("Conv2d", CONV2D, args);
    const { inChannels, outChannels } = o;
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pair(o.kernelSize);
    this.stride = pair(o.stride ?? 1);
    const p = o.padding ?? 0;
    this.padding = typeof p === "string" ? p : pair(p);
    this.dilation = pair(o.dilation ?? 1);
    this.groups = o.groups ?? 1;
    if (inChannels % this.groups !== 0)
      throw new RangeError(`Conv2d: in_channels (${inChannels}) must be divisible by groups (${this.groups})`);
    if (outChannels % this.groups !== 0)
      throw new RangeError(`Conv2d: out_channels (${outChannels}) must be divisible by groups (${this.groups})`);
    if (this.padding === "same" && (this.stride[0] !== 1 || this.stride[1] !== 1))
      throw new RangeError("Conv2d: padding='same' is not supported for strided convolutions");
    this.weight = new Parameter(zeros([outChannels, inChannels / this.groups, ...this.kernelSize], { dtype: o.dtype }));
    this.bias = (o.bias ?? true) ? new Parameter(zeros([outChannels], { dtype: o.dtype })) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    kaimingUniform(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = calculateFanInAndFanOut(this.weight);
      const b = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform(this.bias, -b, b);
    }
  }

  forward(x: Tensor): Tensor {
    // [N, in, H, W] → [N, out, H', W']
    return conv2d(x, this.weight, {
      bias: this.bias,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyPair(this.kernelSize)}, stride=${pyPair(this.stride)}`;
    if (typeof this.padding === "string") s += `, padding=${this.padding}`;
    else if (this.padding[0] !== 0 || this.padding[1] !== 0) s += `, padding=${pyPair(this.padding)}`;
    if (this.dilation[0] !== 1 || this.dilation[1] !== 1) s += `, dilation=${pyPair(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ", bias=False";
    return s;
  }
}

/**
 * Zero padding of the last two dims, as torch.nn.ZeroPad2d: one amount for every side, or [left, right,
 * top, bottom]; negative amounts crop.
 */
export class ZeroPad2d extends Module {
  /** [left, right, top, bottom]. */
  readonly padding: readonly [number, number, number, number];
  constructor(padding: number | readonly [number, number, number, number]);
  constructor(opts: { padding: number | readonly [number, number, number, number] });
  constructor(...args: unknown[]) {
    super();
    const { padding: p } = bindArgs<{ padding: number | readonly number[] }>(
      "ZeroPad2d",
      [{ name: "padding", check: checks.quad, required: true }],
      args,
    );
    this.padding = typeof p === "number" ? [p, p, p, p] : [p[0], p[1], p[2], p[3]];
  }
  forward(x: Tensor): Tensor {
    return pad(x, this.padding);
  }
  override extraRepr(): string {
    return `(${this.padding.join(", ")})`;
  }
}
