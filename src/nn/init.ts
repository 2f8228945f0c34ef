// nb.nn.init: in-place initializers with torch.nn.init's names, gains and fan computations.

import type { Tensor } from "../tensor/tensor.js";
import { defaultGenerator, Generator } from "../tensor/random.js";
import { fmt } from "../tensor/shape.js";
import { describe, positionalOptions } from "../ops/args.js";
import { surplus } from "../surplus.js";

export type Nonlinearity = "linear" | "conv1d" | "conv2d" | "conv3d" | "sigmoid" | "tanh" | "relu" | "leaky_relu" | "selu";
export type FanMode = "fan_in" | "fan_out";
let skipping = false;

/**
 * Build modules without running any initializer (parameters stay zero), like torch.nn.utils.skip_init:
 * for models whose weights will be loaded right away, or to count parameters quickly.
 * @example const m = nb.nn.init.skipInit(() => nb.models.vgg16()); m.loadStateDict(weights);
 */
export function skipInit<T>(build: () => T): T {
  if (arguments.length > 1) surplus(arguments, "skipInit(build)");
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
  if (arguments.length > 2) surplus(arguments, "calculateGain(nonlinearity, param)");
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
  if (arguments.length > 1) surplus(arguments, "calculateFanInAndFanOut(t)");
  if (t.ndim < 2)
    throw new RangeError(`init: fan in and fan out can not be computed for tensor with fewer than 2 dimensions (shape ${fmt(t.shape)})`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1] * receptive, t.shape[0] * receptive];
}

/** Arguments in torch.nn.init's positional order or an options object, checked (numbers finite, generator a Generator). */
function initArgs<T extends object>(op: string, names: readonly (keyof T & string)[], args: readonly unknown[]): T {
  const o = positionalOptions<T>(op, names, args) as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    const bad =
      k === "generator"
        ? v !== null && !(v instanceof Generator) && "a Generator"
        : k === "mode"
          ? v !== "fan_in" && v !== "fan_out" && '"fan_in" or "fan_out"'
          : k === "nonlinearity"
            ? typeof v !== "string" && "a nonlinearity name"
            : !(typeof v === "number" && Number.isFinite(v)) && "a finite number";
    if (bad) throw new TypeError(`init.${op}: ${k} must be ${bad}, got ${describe(v)}`);
  }
  return o as T;
}

type Gen = Generator | null;

/** Fill with U(a, b) (torch.nn.init.uniform_(tensor, a=0, b=1, generator=None)). */
export function uniform(t: Tensor, a?: number, b?: number, generator?: Gen): Tensor;
export function uniform(t: Tensor, opts: { a?: number; b?: number; generator?: Gen }): Tensor;
export function uniform(t: Tensor, ...args: unknown[]): Tensor {
  const o = initArgs<{ a?: number; b?: number; generator?: Gen }>("uniform", ["a", "b", "generator"], args);
  return fillUniform(t, o.a ?? 0, o.b ?? 1, o.generator);
}

function fillUniform(t: Tensor, a: number, b: number, generator: Gen | undefined): Tensor {
  if (skipping) return t;
  const g = generator ?? defaultGenerator;
  for (let i = 0; i < t.data.length; i++) t.data[i] = a + (b - a) * g.random();
  return t;
}

/** Fill with N(mean, std²) (torch.nn.init.normal_(tensor, mean=0, std=1, generator=None)). */
export function normal(t: Tensor, mean?: number, std?: number, generator?: Gen): Tensor;
export function normal(t: Tensor, opts: { mean?: number; std?: number; generator?: Gen }): Tensor;
export function normal(t: Tensor, ...args: unknown[]): Tensor {
  const o = initArgs<{ mean?: number; std?: number; generator?: Gen }>("normal", ["mean", "std", "generator"], args);
  return fillNormal(t, o.mean ?? 0, o.std ?? 1, o.generator);
}

function fillNormal(t: Tensor, mean: number, std: number, generator: Gen | undefined): Tensor {
  if (skipping) return t;
  const g = generator ?? defaultGenerator;
  for (let i = 0; i < t.data.length; i++) t.data[i] = mean + std * g.normal();
  return t;
}

export function constant(t: Tensor, value: number): Tensor {
  if (arguments.length > 2) surplus(arguments, "constant(t, value)");
  if (!(typeof value === "number" && !Number.isNaN(value)))
    throw new TypeError(`init.constant: value must be a number, got ${describe(value)}`);
  if (skipping) return t;
  t.data.fill(value);
  return t;
}
export function zeros(t: Tensor): Tensor {
  if (arguments.length > 1) surplus(arguments, "zeros(t)");
  return constant(t, 0);
}
export function ones(t: Tensor): Tensor {
  if (arguments.length > 1) surplus(arguments, "ones(t)");
  return constant(t, 1);
}

/** Glorot: U(−b, b) with b = gain·√(6 / (fan_in + fan_out)). */
export function xavierUniform(t: Tensor, gain?: number, generator?: Gen): Tensor;
export function xavierUniform(t: Tensor, opts: { gain?: number; generator?: Gen }): Tensor;
export function xavierUniform(t: Tensor, ...args: unknown[]): Tensor {
  const o = initArgs<{ gain?: number; generator?: Gen }>("xavierUniform", ["gain", "generator"], args);
  const [fi, fo] = calculateFanInAndFanOut(t);
  const b = (o.gain ?? 1) * Math.sqrt(6 / (fi + fo));
  return fillUniform(t, -b, b, o.generator);
}

/** Glorot: N(0, std²) with std = gain·√(2 / (fan_in + fan_out)). */
export function xavierNormal(t: Tensor, gain?: number, generator?: Gen): Tensor;
export function xavierNormal(t: Tensor, opts: { gain?: number; generator?: Gen }): Tensor;
export function xavierNormal(t: Tensor, ...args: unknown[]): Tensor {
  const o = initArgs<{ gain?: number; generator?: Gen }>("xavierNormal", ["gain", "generator"], args);
  const [fi, fo] = calculateFanInAndFanOut(t);
  return fillNormal(t, 0, (o.gain ?? 1) * Math.sqrt(2 / (fi + fo)), o.generator);
}

export interface KaimingOptions {
  /** Negative slope of the rectifier after this layer (leaky_relu only); default 0. */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
  generator?: Gen;
}
const KAIMING: readonly (keyof KaimingOptions)[] = ["a", "mode", "nonlinearity", "generator"];

function kaimingStd(t: Tensor, opts: KaimingOptions): number {
  const [fi, fo] = calculateFanInAndFanOut(t);
  const fan = (opts.mode ?? "fan_in") === "fan_in" ? fi : fo;
  return calculateGain(opts.nonlinearity ?? "leaky_relu", opts.a ?? 0) / Math.sqrt(fan);
}

/**
 * He: U(−b, b) with b = gain·√(3 / fan). Defaults a = 0, mode fan_in, nonlinearity leaky_relu; PyTorch's
 * positional order (`kaimingUniform(w, Math.sqrt(5))`, as nn.Linear's reset) or an options object.
 */
export function kaimingUniform(t: Tensor, a?: number, mode?: FanMode, nonlinearity?: Nonlinearity, generator?: Gen): Tensor;
export function kaimingUniform(t: Tensor, opts: KaimingOptions): Tensor;
export function kaimingUniform(t: Tensor, ...args: unknown[]): Tensor {
  const o = initArgs<KaimingOptions>("kaimingUniform", KAIMING, args);
  const b = Math.sqrt(3) * kaimingStd(t, o);
  return fillUniform(t, -b, b, o.generator);
}

/** He: N(0, std²) with std = gain / √fan. */
export function kaimingNormal(t: Tensor, a?: number, mode?: FanMode, nonlinearity?: Nonlinearity, generator?: Gen): Tensor;
export function kaimingNormal(t: Tensor, opts: KaimingOptions): Tensor;
export function kaimingNormal(t: Tensor, ...args: unknown[]): Tensor {
  const o = initArgs<KaimingOptions>("kaimingNormal", KAIMING, args);
  return fillNormal(t, 0, kaimingStd(t, o), o.generator);
}

/** Fill with N(mean, std²) truncated to [a, b] (absolute bounds, as torch.nn.init.trunc_normal_), by rejection. */
export function truncNormal(t: Tensor, mean?: number, std?: number, a?: number, b?: number, generator?: Gen): Tensor;
export function truncNormal(t: Tensor, opts: { mean?: number; std?: number; a?: number; b?: number; generator?: Gen }): Tensor;
export function truncNormal(t: Tensor, ...args: unknown[]): Tensor {
  const o = initArgs<{ mean?: number; std?: number; a?: number; b?: number; generator?: Gen }>(
    "truncNormal",
    ["mean", "std", "a", "b", "generator"],
    args,
  );
  const [mean, std, a, b] = [o.mean ?? 0, o.std ?? 1, o.a ?? -2, o.b ?? 2];
  if (!(a < b)) throw new RangeError(`truncNormal: expected a < b, got a=${a}, b=${b}`);
  if (skipping) return t;
  const g = o.generator ?? defaultGenerator;
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
