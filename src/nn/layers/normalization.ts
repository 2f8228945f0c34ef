// Normalization layers as torch.nn: BatchNorm1d / BatchNorm2d (running statistics, momentum or cumulative,
// counters) and LocalResponseNorm.

import { Tensor } from "../../tensor/tensor.js";
import { fmt } from "../../tensor/shape.js";
import { Module, Parameter } from "../module.js";
import { batchNormMaybeRelu, localResponseNorm } from "../../ops/normalization.js";
import { ones, zeros } from "../../ops/creation.js";
import { pyBool, pyNum } from "./repr.js";
import type { DType } from "../../tensor/dtype.js";
import { bindArgs, checks, type Param } from "../../ops/args.js";

export interface BatchNormLayerOptions {
  eps?: number;
  /** Running-average weight of each new batch (default 0.1); null = cumulative moving average. */
  momentum?: number | null;
  /** Learnable γ (weight, ones) and β (bias, zeros); default true. */
  affine?: boolean;
  /** Keep running_mean / running_var / num_batches_tracked (default true); false = batch stats always. */
  trackRunningStats?: boolean;
  /** PyTorch's device: nabla runs on the CPU. */
  device?: "cpu" | null;
  dtype?: DType;
}

const BATCHNORM: Param[] = [
  { name: "numFeatures", check: checks.int(1), required: true },
  { name: "eps", check: checks.number(0) },
  { name: "momentum", check: checks.orNull(checks.number(0)) },
  { name: "affine", check: checks.bool },
  { name: "trackRunningStats", check: checks.bool },
  { name: "device", check: checks.device },
  { name: "dtype", check: checks.dtype },
];

export abstract class BatchNormBase extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  protected abstract readonly validDims: number[];

  readonly numFeatures: number;

  constructor(numFeatures: number, opts?: BatchNormLayerOptions);
  constructor(
    numFeatures: number,
    eps?: number,
    momentum?: number | null,
    affine?: boolean,
    trackRunningStats?: boolean,
    device?: "cpu" | null,
    dtype?: DType,
  );
  constructor(opts: BatchNormLayerOptions & { numFeatures: number });
  constructor(...args: unknown[]) {
    super();
    const opts = bindArgs<BatchNormLayerOptions & { numFeatures: number }>(new.target.name, BATCHNORM, args);
    const numFeatures = (this.numFeatures = opts.numFeatures);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    const dtype = opts.dtype ?? "float32";
    this.weight = this.affine ? new Parameter(ones([numFeatures], { dtype })) : null;
    this.bias = this.affine ? new Parameter(zeros([numFeatures], { dtype })) : null;
    if (this.trackRunningStats) {
      this.registerBuffer("running_mean", zeros([numFeatures], { dtype }));
      this.registerBuffer("running_var", ones([numFeatures], { dtype }));
      this.registerBuffer("num_batches_tracked", zeros([], { dtype: "int32" }));
    } else {
      this.registerBuffer("running_mean", null);
      this.registerBuffer("running_var", null);
      this.registerBuffer("num_batches_tracked", null);
    }
  }

  get runningMean(): Tensor | null {
    return this.getBuffer("running_mean");
  }
  get runningVar(): Tensor | null {
    return this.getBuffer("running_var");
  }
  get numBatchesTracked(): Tensor | null {
    return this.getBuffer("num_batches_tracked");
  }

  forward(x: Tensor): Tensor {
    return this.run(x, false);
  }

  /**
   * relu(this.forward(x)) as one fused primitive (same values and gradients, one pass over the activations
   * each way). The fusion table (nn/fuse.ts) calls it for a BatchNorm followed by a ReLU; it bypasses
   * forward hooks, so the table does not fuse a module that has them.
   */
  forwardRelu(x: Tensor): Tensor {
    return this.run(x, true);
  }

  private run(x: Tensor, fuseRelu: boolean): Tensor {
    if (!this.validDims.includes(x.ndim)) {
      throw new RangeError(
        `${this.constructor.name}: expected ${this.validDims.map((d) => `${d}D`).join(" or ")} input, got ${x.ndim}D input ${fmt(x.shape)}`,
      );
    }
    if (x.shape[1] !== this.numFeatures) {
      throw new RangeError(`${this.constructor.name}: input ${fmt(x.shape)} has ${x.shape[1]} channels, expected ${this.numFeatures}`);
    }
    let factor = this.momentum ?? 0;
    const nbt = this.numBatchesTracked;
    if (this.training && this.trackRunningStats && nbt) {
      nbt.data[0] += 1;
      factor = this.momentum === null ? 1 / nbt.data[0] : this.momentum;
    }
    const useBatch = this.training || this.runningMean === null;
    const track = !this.training || this.trackRunningStats;
    return batchNormMaybeRelu(
      x,
      track ? this.runningMean : null,
      track ? this.runningVar : null,
      {
        weight: this.weight,
        bias: this.bias,
        training: useBatch,
        momentum: factor,
        eps: this.eps,
      },
      fuseRelu,
    );
  }

  override extraRepr(): string {
    return (
      `${this.numFeatures}, eps=${pyNum(this.eps)}, momentum=${this.momentum === null ? "None" : pyNum(this.momentum)}, ` +
      `affine=${pyBool(this.affine)}, track_running_stats=${pyBool(this.trackRunningStats)}`
    );
  }
}

/** Batch Normalization over (N, C) or (N, C, L) input, per feature C. */
export class BatchNorm1d extends BatchNormBase {
  protected readonly validDims = [2, 3];
}

/** Batch Normalization over (N, C, H, W) input, per channel C (the conv → BN placement). */
export class BatchNorm2d extends BatchNormBase {
  protected readonly validDims = [4];
}

/** Local response normalization across channels, as in the original AlexNet (size 5, α 1e-4, β 0.75, k 2 there). */
export class LocalResponseNorm extends Module {
  readonly size: number;
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;
  constructor(size: number, alpha?: number, beta?: number, k?: number);
  constructor(size: number, opts: { alpha?: number; beta?: number; k?: number });
  constructor(opts: { size: number; alpha?: number; beta?: number; k?: number });
  constructor(...args: unknown[]) {
    super();
    const o = bindArgs<{ size: number; alpha?: number; beta?: number; k?: number }>(
      "LocalResponseNorm",
      [
        { name: "size", check: checks.int(1), required: true },
        { name: "alpha", check: checks.number() },
        { name: "beta", check: checks.number() },
        { name: "k", check: checks.number() },
      ],
      args,
    );
    this.size = o.size;
    this.alpha = o.alpha ?? 1e-4;
    this.beta = o.beta ?? 0.75;
    this.k = o.k ?? 1;
  }
  forward(x: Tensor): Tensor {
    return localResponseNorm(x, this.size, { alpha: this.alpha, beta: this.beta, k: this.k });
  }
  override extraRepr(): string {
    return `${this.size}, alpha=${pyNum(this.alpha)}, beta=${pyNum(this.beta)}, k=${pyNum(this.k)}`;
  }
}
