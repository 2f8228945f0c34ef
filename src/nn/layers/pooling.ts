// Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d (torch.nn's names, options and printouts).

import { Tensor } from "../../tensor/tensor.js";
import { Module } from "../module.js";
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from "../../ops/conv_pool.js";
import { pyBool } from "./repr.js";
import { bindArgs, checks, type Check, type Param } from "../../ops/args.js";

type Pair = number | [number, number];
const showPair = (v: Pair | null | undefined): string =>
  v === null || v === undefined ? "None" : typeof v === "number" ? String(v) : `(${v.join(", ")})`;

export interface MaxPool2dLayerOptions {
  stride?: Pair | null;
  padding?: Pair;
  dilation?: Pair;
  /** PyTorch's return_indices: nabla's MaxPool2d returns the pooled values only. */
  returnIndices?: false;
  ceilMode?: boolean;
}

const MAXPOOL: Param[] = [
  { name: "kernelSize", check: checks.pair(1), required: true },
  { name: "stride", check: checks.orNull(checks.pair(1)) },
  { name: "padding", check: checks.pair(0) },
  { name: "dilation", check: checks.pair(1) },
  { name: "returnIndices", check: checks.oneOf(false) },
  { name: "ceilMode", check: checks.bool },
];

/** Max pooling (torch.nn.MaxPool2d's positional order or options; stride defaults to the kernel size). */
export class MaxPool2d extends Module {
  readonly kernelSize: Pair;
  readonly opts: MaxPool2dLayerOptions;
  constructor(kernelSize: Pair, opts?: MaxPool2dLayerOptions);
  constructor(kernelSize: Pair, stride?: Pair | null, padding?: Pair, dilation?: Pair, returnIndices?: false, ceilMode?: boolean);
  constructor(opts: MaxPool2dLayerOptions & { kernelSize: Pair });
  constructor(...args: unknown[]) {
    super();
    const { kernelSize, returnIndices: _, ...opts } = bindArgs<MaxPool2dLayerOptions & { kernelSize: Pair }>("MaxPool2d", MAXPOOL, args);
    this.kernelSize = kernelSize;
    this.opts = opts;
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.opts);
  }
  override extraRepr(): string {
    const o = this.opts;
    return (
      `kernel_size=${showPair(this.kernelSize)}, stride=${showPair(o.stride ?? this.kernelSize)}, padding=${showPair(o.padding ?? 0)}, ` +
      `dilation=${showPair(o.dilation ?? 1)}, ceil_mode=${pyBool(o.ceilMode ?? false)}`
    );
  }
}

export interface AvgPool2dLayerOptions {
  stride?: Pair | null;
  padding?: Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

const AVGPOOL: Param[] = [
  { name: "kernelSize", check: checks.pair(1), required: true },
  { name: "stride", check: checks.orNull(checks.pair(1)) },
  { name: "padding", check: checks.pair(0) },
  { name: "ceilMode", check: checks.bool },
  { name: "countIncludePad", check: checks.bool },
  { name: "divisorOverride", check: checks.orNull(checks.int(1)) },
];

/** Average pooling (torch.nn.AvgPool2d's positional order or options; stride defaults to the kernel size). */
export class AvgPool2d extends Module {
  readonly kernelSize: Pair;
  readonly opts: AvgPool2dLayerOptions;
  constructor(kernelSize: Pair, opts?: AvgPool2dLayerOptions);
  constructor(
    kernelSize: Pair,
    stride?: Pair | null,
    padding?: Pair,
    ceilMode?: boolean,
    countIncludePad?: boolean,
    divisorOverride?: number | null,
  );
  constructor(opts: AvgPool2dLayerOptions & { kernelSize: Pair });
  constructor(...args: unknown[]) {
    super();
    const { kernelSize, ...opts } = bindArgs<AvgPool2dLayerOptions & { kernelSize: Pair }>("AvgPool2d", AVGPOOL, args);
    this.kernelSize = kernelSize;
    this.opts = opts;
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.opts);
  }
  override extraRepr(): string {
    return `kernel_size=${showPair(this.kernelSize)}, stride=${showPair(this.opts.stride ?? this.kernelSize)}, padding=${showPair(this.opts.padding ?? 0)}`;
  }
}

type OutputSize = number | [number | null, number | null];

/** Average pooling to a fixed output size (torch.nn.AdaptiveAvgPool2d); null keeps that input dimension. */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: OutputSize;
  constructor(outputSize: OutputSize);
  constructor(opts: { outputSize: OutputSize });
  constructor(...args: unknown[]) {
    super();
    const size: Check = (v) => {
      const ok = (e: unknown) => e === null || (Number.isSafeInteger(e) && (e as number) >= 1);
      return (Number.isSafeInteger(v) && (v as number) >= 1) || (Array.isArray(v) && v.length === 2 && v.every(ok))
        ? null
        : "an integer ≥ 1 or a pair of them (null keeps that dimension)";
    };
    this.outputSize = bindArgs<{ outputSize: OutputSize }>(
      "AdaptiveAvgPool2d",
      [{ name: "outputSize", check: size, required: true }],
      args,
    ).outputSize;
  }
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
  override extraRepr(): string {
    const o = this.outputSize;
    return `output_size=${typeof o === "number" ? `(${o}, ${o})` : `(${o.map((v) => v ?? "None").join(", ")})`}`;
  }
}
