// nb.nn.init: in-place initializers with torch.nn.init's names, gains and fan computations.

import type { Tensor } from "../tensor/tensor.js";
import { defaultGenerator, type Generator } from "../tensor/random.js";
import { fmt } from "../tensor/shape.js";

export type Nonlinearity = "linear" | "conv1d" | "conv2d" | "conv3d" | "sigmoid" | "tanh" | "relu" | "leaky_relu" | "selu";
export type FanMode = "fan_in" | "fan_out";
interface GenOpt {
  generator?: Generator;
}

let skipping = false;

/**
 * Build modules without running any initializer (parameters stay zero), like torch.nn.utils.skip_init:
 * for models whose weights will be loaded right away, or to count parameters quickly.
 * @example const m = nb.nn.init.skipInit(() => nb.models.vgg16()); m.loadStateDict(weights);
 */
export function skipInit<T>(build: () => T): T {
  const prev = skipping;
  skipping = true;
  try {
    return build();
  } finally {
    skipping = prev;
  }
}

/** The recommended gain for a nonlinearity (torch.nn.init.calculate_gain). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case "linear":
    case "conv1d":
    case "conv2d":
    case "conv3d":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leaky_relu": {
      const a = param ?? 0.01;
      return Math.sqrt(2 / (1 + a * a));
    }
    case "selu":
      return 3 / 4;
  }
  throw new RangeError(`calculateGain: unsupported nonlinearity ${nonlinearity}`);
}

/** fan_in = size(1)·receptive field, fan_out = size(0)·receptive field (tensors of ≥ 2 dims). */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  if (t.ndim < 2)
    throw new RangeError(`init: fan in and fan out can not be computed for tensor with fewer than 2 dimensions (shape ${fmt(t.shape)})`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1] * receptive, t.shape[0] * receptive];
}

/** Fill with U(a, b). */
export function uniform(t: Tensor, a = 0, b = 1, opts: GenOpt = {}): Tensor {
  if (skipping) return t;
  const g = opts.generator ?? defaultGenerator;
  for (let i = 0; i < t.data.length; i++) t.data[i] = a + (b - a) * g.random();
  return t;
}

/** Fill with N(mean, std²). */
export function normal(t: Tensor, mean = 0, std = 1, opts: GenOpt = {}): Tensor {
  if (skipping) return t;
  const g = opts.generator ?? defaultGenerator;
  for (let i = 0; i < t.data.length; i++) t.data[i] = mean + std * g.normal();
  return t;
}

export function constant(t: Tensor, value: number): Tensor {
  if (skipping) return t;
  t.data.fill(value);
  return t;
}
export const zeros = (t: Tensor): Tensor => constant(t, 0);
export const ones = (t: Tensor): Tensor => constant(t, 1);

/** Glorot: U(−b, b) with b = gain·√(6 / (fan_in + fan_out)). */
export function xavierUniform(t: Tensor, gain = 1, opts: GenOpt = {}): Tensor {
  const [fi, fo] = calculateFanInAndFanOut(t);
  const b = gain * Math.sqrt(6 / (fi + fo));
  return uniform(t, -b, b, opts);
}

/** Glorot: N(0, std²) with std = gain·√(2 / (fan_in + fan_out)). */
export function xavierNormal(t: Tensor, gain = 1, opts: GenOpt = {}): Tensor {
  const [fi, fo] = calculateFanInAndFanOut(t);
  return normal(t, 0, gain * Math.sqrt(2 / (fi + fo)), opts);
}

export interface KaimingOptions extends GenOpt {
  /** Negative slope of the rectifier after this layer (leaky_relu only); default 0. */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, opts: KaimingOptions): number {
  const [fi, fo] = calculateFanInAndFanOut(t);
  const fan = (opts.mode ?? "fan_in") === "fan_in" ? fi : fo;
  return calculateGain(opts.nonlinearity ?? "leaky_relu", opts.a ?? 0) / Math.sqrt(fan);
}

/** He: U(−b, b) with b = gain·√(3 / fan). Defaults a = 0, mode fan_in, nonlinearity leaky_relu. */
export function kaimingUniform(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const b = Math.sqrt(3) * kaimingStd(t, opts);
  return uniform(t, -b, b, opts);
}

/** He: N(0, std²) with std = gain / √fan. */
export function kaimingNormal(t: Tensor, opts: KaimingOptions = {}): Tensor {
  return normal(t, 0, kaimingStd(t, opts), opts);
}

/** Fill with N(mean, std²) truncated to [a, b] (absolute bounds, as torch.nn.init.trunc_normal_), by rejection. */
export function truncNormal(t: Tensor, mean = 0, std = 1, a = -2, b = 2, opts: GenOpt = {}): Tensor {
  if (skipping) return t;
  const g = opts.generator ?? defaultGenerator;
  if (!(a < b)) throw new RangeError(`truncNormal: expected a < b, got a=${a}, b=${b}`);
  for (let i = 0; i < t.data.length; i++) {
    let v: number;
    let tries = 0;
    do {
      v = mean + std * g.normal();
    } while ((v < a || v > b) && ++tries < 1000);
    t.data[i] = Math.min(Math.max(v, a), b);
  }
  return t;
}
