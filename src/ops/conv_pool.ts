// Convolution and pooling as composites of primitives: pad, conv2d, maxPool2d, avgPool2d,
// adaptiveAvgPool2d (torch.nn.functional's names, defaults and positional order).

import { labelGradFn } from "./format.js";
import { Tensor } from "../tensor/tensor.js";
import { isFloating, MAX_ELEMENTS } from "../tensor/dtype.js";
import { fmt } from "../tensor/shape.js";
import type { ConvGeometry, Im2colGeometry } from "../backend/backend.js";
import * as P from "./prims.js";
import { positionalOptions } from "./args.js";
import { div, matmul, mean } from "./math.js";
import { narrow } from "./movement.js";
import { traceOp } from "./trace.js";
import { isGradEnabled } from "../autograd/engine.js";
import { surplus } from "../surplus.js";

/**
 * Constant padding, PyTorch's `F.pad` order: `pads` = [left, right, top, bottom, …] starting from the
 * last dim. Negative amounts crop.
 */
export function pad(x: Tensor, pads: readonly number[], opts?: { mode?: "constant"; value?: number }): Tensor;
/** PyTorch's positional order, `F.pad(input, pad, mode, value)`. */
export function pad(x: Tensor, pads: readonly number[], mode: "constant" | undefined, value?: number): Tensor;
export function pad(x: Tensor, pads: readonly number[], ...args: unknown[]): Tensor {
  const opts = positionalOptions<{ mode?: "constant"; value?: number }>("pad", ["mode", "value"], args);
  if (pads.length % 2 !== 0 || pads.length / 2 > x.ndim) {
    throw new RangeError(
      `pad: padding length must be even and at most 2·ndim (${2 * x.ndim}), got ${pads.length} for shape ${fmt(x.shape)}`,
    );
  }
  if ((opts.mode ?? "constant") !== "constant") throw new RangeError(`pad: only mode 'constant' is supported, got '${opts.mode}'`);
  const per: [number, number][] = x.shape.map(() => [0, 0]);
  for (let i = 0; i < pads.length / 2; i++) per[x.ndim - 1 - i] = [pads[2 * i], pads[2 * i + 1]];
  let r = x;
  per.forEach(([a, b], d) => {
    if (a < 0 || b < 0) {
      const lo = Math.max(0, -a),
        hi = Math.max(0, -b);
      if (lo + hi > r.shape[d]) throw new RangeError(`pad: cropping ${lo + hi} from dim ${d} of size ${r.shape[d]}`);
      r = narrow(r, d, lo, r.shape[d] - lo - hi);
    }
  });
  const pos = per.map(([a, b]) => [Math.max(0, a), Math.max(0, b)] as [number, number]);
  return pos.some(([a, b]) => a > 0 || b > 0) ? P.padPrim(r, pos, opts.value ?? 0) : r;
}

type Pair = number | readonly [number, number];
const pair = (v: Pair, name: string, op: string): [number, number] => {
  const p: [number, number] = typeof v === "number" ? [v, v] : [v[0], v[1]];
  if (!p.every((q) => Number.isInteger(q) && q >= 0 && q <= MAX_ELEMENTS))
    throw new RangeError(`${op}: ${name} must be non-negative integers below 2^31, got ${JSON.stringify(v)}`);
  return p;
};

function check4d(x: Tensor, op: string): Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: input must be a Tensor`);
  if (!isFloating(x.dtype)) throw new TypeError(`${op}: expected a floating point input, got ${x.dtype}`);
  if (x.ndim !== 4) throw new RangeError(`${op}: expected a 4-D input [N, C, H, W] (or 3-D [C, H, W]), got shape ${fmt(x.shape)}`);
  return x;
}

/** Run a 4-D op on a 3-D (unbatched) input by adding and removing the batch dim, as PyTorch does. */
function unbatched(x: Tensor, f: (x4: Tensor) => Tensor): Tensor {
  if (x.ndim !== 3) return f(x);
  const r = f(P.reshapePrim(x, [1, ...x.shape]));
  return P.reshapePrim(r, r.shape.slice(1));
}

export interface Conv2dOptions {
  bias?: Tensor | null;
  stride?: Pair;
  /** Zero padding per side, or "valid" (none) or "same" (output size = input size; stride 1 only). */
  padding?: Pair | "valid" | "same";
  dilation?: Pair;
  groups?: number;
}

/**
 * 2-D convolution (cross-correlation) of x [N, C, H, W] with w [O, C/groups, kh, kw], like `F.conv2d`.
 * One primitive (a GEMM per sample and group over that sample's unfolded columns; its two adjoints give
 * the gradients); groups split channels into independent convolutions (depthwise when groups = C).
 */
export function conv2d(x: Tensor, w: Tensor, opts?: Conv2dOptions): Tensor;
/** PyTorch's positional order, `F.conv2d(input, weight, bias, stride, padding, dilation, groups)`; may end in an options object. */
export function conv2d(
  x: Tensor,
  w: Tensor,
  bias: Tensor | null | undefined,
  ...rest: (Pair | "valid" | "same" | number | Omit<Conv2dOptions, "bias"> | undefined)[]
): Tensor;
export function conv2d(x: Tensor, w: Tensor, ...args: unknown[]): Tensor {
  const opts = positionalOptions<Conv2dOptions>("conv2d", ["bias", "stride", "padding", "dilation", "groups"], args);
  return unbatched(x, (x4) => conv2d4(x4, w, opts));
}

function conv2d4(x: Tensor, w: Tensor, opts: Conv2dOptions): Tensor {
  const { xin, geom, bias } = convSetup(x, w, opts);
  // the bias is added by the convolution kernel itself, while each output block is in cache
  return P.conv2dPrim(xin, w, geom, bias ?? undefined);
}

/**
 * conv2d's checked arguments: the input (padded on the far side for an odd 'same'), geometry and bias; with
 * `inPad` [top, bottom, left, right], the geometry is that of x zero-padded by that much first.
 */
function convSetup(
  x: Tensor,
  w: Tensor,
  opts: Conv2dOptions,
  inPad?: readonly number[],
): { xin: Tensor; geom: ConvGeometry; bias: Tensor | null } {
  check4d(x, "conv2d");
  if (!(w instanceof Tensor) || w.ndim !== 4)
    throw new RangeError(`conv2d: weight must be 4-D [out, in/groups, kh, kw], got ${w instanceof Tensor ? fmt(w.shape) : typeof w}`);
  if (w.dtype !== x.dtype) throw new TypeError(`conv2d: input (${x.dtype}) and weight (${w.dtype}) must have the same dtype`);
  if (!isFloating(x.dtype)) throw new TypeError(`conv2d: expected a float32 or float64 input, got ${x.dtype}`);
  const groups = opts.groups ?? 1;
  const [n, c] = x.shape;
  const [o, cg, kh, kw] = w.shape;
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`conv2d: groups must be a positive integer, got ${groups}`);
  if (c !== cg * groups) {
    throw new RangeError(
      `conv2d: input ${fmt(x.shape)} has ${c} channels but weight ${fmt(w.shape)} with groups=${groups} expects ${cg * groups}`,
    );
  }
  if (o % groups !== 0) throw new RangeError(`conv2d: out channels (${o}) must be divisible by groups (${groups})`);
  const [sh, sw] = pair(opts.stride ?? 1, "stride", "conv2d");
  if (sh === 0 || sw === 0) throw new RangeError("conv2d: stride must be positive");
  const [dh, dw] = pair(opts.dilation ?? 1, "dilation", "conv2d");
  if (dh === 0 || dw === 0) throw new RangeError("conv2d: dilation must be positive");
  let ph: number, pw: number;
  let xin = x;
  const padding = opts.padding ?? 0;
  if (padding === "valid") [ph, pw] = [0, 0];
  else if (padding === "same") {
    if (sh !== 1 || sw !== 1) throw new RangeError("conv2d: padding='same' is not supported for strided convolutions");
    const th = dh * (kh - 1),
      tw = dw * (kw - 1);
    [ph, pw] = [Math.floor(th / 2), Math.floor(tw / 2)];
    if (th % 2 || tw % 2) xin = pad(x, [0, tw % 2, 0, th % 2]); // PyTorch puts the odd extra on the far side
  } else [ph, pw] = pair(padding, "padding", "conv2d");
  const H = xin.shape[2] + (inPad ? inPad[0] + inPad[1] : 0),
    W = xin.shape[3] + (inPad ? inPad[2] + inPad[3] : 0);
  const oh = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  if (oh <= 0 || ow <= 0) {
    throw new RangeError(
      `conv2d: input ${fmt(x.shape)} (padded ${H + 2 * ph}x${W + 2 * pw}) is smaller than the dilated kernel ${dh * (kh - 1) + 1}x${dw * (kw - 1) + 1}`,
    );
  }
  const bias = opts.bias ?? null;
  if (bias !== null) {
    if (!(bias instanceof Tensor) || bias.ndim !== 1 || bias.shape[0] !== o) {
      throw new RangeError(`conv2d: bias must have shape [${o}], got ${bias instanceof Tensor ? fmt(bias.shape) : typeof bias}`);
    }
    if (bias.dtype !== x.dtype) throw new TypeError(`conv2d: input (${x.dtype}) and bias (${bias.dtype}) must have the same dtype`);
  }
  return { xin, geom: { n, c, h: H, w: W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, o, groups }, bias };
}

/** Output size of a pooling window along one dim, with PyTorch's ceil-mode rule. */
function pooledSize(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= size + p) out--; // the last window must start inside the input or left padding
  return out;
}

export interface MaxPool2dOptions {
  stride?: Pair | null;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}

function poolGeometry(
  shape: readonly number[],
  kernel: Pair,
  stride: Pair | null | undefined,
  padding: Pair,
  dilation: Pair,
  ceil: boolean,
  op: string,
): Im2colGeometry {
  const [kh, kw] = pair(kernel, "kernel_size", op);
  const [sh, sw] = pair(stride ?? kernel, "stride", op);
  const [ph, pw] = pair(padding, "padding", op);
  const [dh, dw] = pair(dilation, "dilation", op);
  if (kh === 0 || kw === 0 || sh === 0 || sw === 0 || dh === 0 || dw === 0)
    throw new RangeError(`${op}: kernel_size, stride and dilation must be positive`);
  if (ph > kh / 2 || pw > kw / 2)
    throw new RangeError(`${op}: pad should be at most half of kernel size, but got pad=${ph}x${pw} and kernel_size=${kh}x${kw}`);
  const [n, c, h, w] = shape;
  const oh = pooledSize(h, kh, sh, ph, dh, ceil),
    ow = pooledSize(w, kw, sw, pw, dw, ceil);
  if (oh <= 0 || ow <= 0) throw new RangeError(`${op}: output size is too small (${oh}x${ow}) for input ${fmt(shape)}`);
  return { n: n * c, c: 1, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow };
}

/** Max pooling over kh×kw windows, like `F.max_pool2d` (padding counts as −∞). */
export function maxPool2d(x: Tensor, kernelSize: Pair, opts?: MaxPool2dOptions): Tensor;
/** PyTorch's positional order, `F.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)`. */
export function maxPool2d(
  x: Tensor,
  kernelSize: Pair,
  stride: Pair | null | undefined,
  ...rest: (Pair | boolean | Omit<MaxPool2dOptions, "stride"> | undefined)[]
): Tensor;
export function maxPool2d(x: Tensor, kernelSize: Pair, ...args: unknown[]): Tensor {
  const opts = positionalOptions<MaxPool2dOptions>("maxPool2d", ["stride", "padding", "dilation", "ceilMode"], args);
  return unbatched(x, (x4) => {
    const g = poolGeometry(
      check4d(x4, "maxPool2d").shape,
      kernelSize,
      opts.stride,
      opts.padding ?? 0,
      opts.dilation ?? 1,
      opts.ceilMode ?? false,
      "maxPool2d",
    );
    return traceOp("maxPool2d", [x4], { g, ceilMode: opts.ceilMode ?? false }, () => maxPool2dOf(x4, g));
  });
}

function maxPool2dOf(x4: Tensor, g: Im2colGeometry): Tensor {
  // the backend finds each window's first maximum and its value; the result is recorded as a gather of
  // those indices, so the gradient scatters back to them (without a gradient to record, the indices are
  // scratch: the gather below only wraps the values)
  const { idx, values } = P.maxPool2dIndices(x4, g, isGradEnabled() && x4.requiresGrad);
  // 2×2 windows at stride 2 inside the plane: the backward may write each plane in one pass
  const pairs =
    g.kh === 2 &&
    g.kw === 2 &&
    g.sh === 2 &&
    g.sw === 2 &&
    g.ph === 0 &&
    g.pw === 0 &&
    g.dh === 1 &&
    g.dw === 1 &&
    2 * g.oh <= g.h &&
    2 * g.ow <= g.w;
  const windows = pairs ? Int32Array.of(g.h, g.w, g.oh, g.ow) : undefined;
  const m = P.gatherPrim(P.reshapePrim(x4, [g.n, g.h * g.w]), 1, new Tensor(idx, [g.n, g.oh * g.ow]), values, windows); // [N·C, L]
  return labelGradFn(P.reshapePrim(m, [x4.shape[0], x4.shape[1], g.oh, g.ow]), "MaxPool2DWithIndicesBackward0");
}

/**
 * max(maxPool2d(conv2d(x, w, convOpts), kernelSize, poolOpts), 0) with `relu`, else without the max, for 4-D
 * x, in one backend call that never materializes the convolution's output — the same values as the ops
 * one by one; with `inPad` [top, bottom, left, right] (not with padding 'same'), of x zero-padded by that
 * much first. For forwards that record no gradient (the fusion table's conv → max-pool rules): the result
 * is not recorded, so a caller that needs a gradient must not take this path.
 */
export function conv2dMaxPool2d(
  x: Tensor,
  w: Tensor,
  convOpts: Conv2dOptions,
  kernelSize: Pair,
  poolOpts: MaxPool2dOptions,
  relu: boolean,
  inPad?: readonly [number, number, number, number],
): Tensor {
  if (arguments.length > 7) surplus(arguments, "conv2dMaxPool2d(x, w, convOpts, kernelSize, poolOpts, relu, inPad)");
  if (inPad && convOpts.padding === "same") throw new RangeError("conv2dMaxPool2d: inPad with padding 'same' is not supported");
  const { xin, geom, bias } = convSetup(x, w, convOpts, inPad);
  const o = poolOpts;
  const pool = poolGeometry(
    [geom.n, geom.o, geom.oh, geom.ow],
    kernelSize,
    o.stride,
    o.padding ?? 0,
    o.dilation ?? 1,
    o.ceilMode ?? false,
    "maxPool2d",
  );
  return P.conv2dMaxPool2dPrim(xin, w, geom, bias, pool, relu, inPad ? Int32Array.from(inPad) : null);
}

export interface AvgPool2dOptions {
  stride?: Pair | null;
  padding?: Pair;
  ceilMode?: boolean;
  /** Count zero padding in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

/** Average pooling, like `F.avg_pool2d`, with PyTorch's divisor rules for padding and ceil mode. */
export function avgPool2d(x: Tensor, kernelSize: Pair, opts?: AvgPool2dOptions): Tensor;
/** PyTorch's positional order, `F.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)`. */
export function avgPool2d(
  x: Tensor,
  kernelSize: Pair,
  stride: Pair | null | undefined,
  ...rest: (Pair | boolean | number | null | Omit<AvgPool2dOptions, "stride"> | undefined)[]
): Tensor;
export function avgPool2d(x: Tensor, kernelSize: Pair, ...args: unknown[]): Tensor {
  const opts = positionalOptions<AvgPool2dOptions>(
    "avgPool2d",
    ["stride", "padding", "ceilMode", "countIncludePad", "divisorOverride"],
    args,
  );
  const override = opts.divisorOverride;
  if (override !== undefined && override !== null && !(Number.isInteger(override) && override !== 0)) {
    throw new RangeError(`avgPool2d: divisorOverride must be a non-zero integer, got ${override}`);
  }
  return unbatched(x, (x4) => {
    const g = poolGeometry(
      check4d(x4, "avgPool2d").shape,
      kernelSize,
      opts.stride,
      opts.padding ?? 0,
      1,
      opts.ceilMode ?? false,
      "avgPool2d",
    );
    const include = opts.countIncludePad ?? true;
    const attrs = { g, ceilMode: opts.ceilMode ?? false, countIncludePad: include, divisorOverride: override ?? null };
    return traceOp("avgPool2d", [x4], attrs, () => avgPool2dOf(x4, g, include, override ?? null));
  });
}

function avgPool2dOf(x4: Tensor, g: Im2colGeometry, include: boolean, divisorOverride: number | null): Tensor {
  const cols = P.im2colPrim(P.reshapePrim(x4, [g.n, 1, g.h, g.w]), g, 0);
  const sums = P.sumPrim(cols, [1], false); // [N·C, L]
  const divisor = new (x4.dtype === "float64" ? Float64Array : Float32Array)(g.oh * g.ow);
  for (let i = 0; i < g.oh; i++) {
    for (let j = 0; j < g.ow; j++) {
      let hs = i * g.sh - g.ph,
        ws = j * g.sw - g.pw;
      let he = Math.min(hs + g.kh, g.h + g.ph),
        we = Math.min(ws + g.kw, g.w + g.pw);
      if (!include) {
        hs = Math.max(hs, 0);
        ws = Math.max(ws, 0);
        he = Math.min(he, g.h);
        we = Math.min(we, g.w);
      }
      divisor[i * g.ow + j] = divisorOverride ?? (he - hs) * (we - ws);
    }
  }
  const avg = div(sums, new Tensor(divisor, [1, g.oh * g.ow]));
  return P.reshapePrim(avg, [x4.shape[0], x4.shape[1], g.oh, g.ow]);
}

/** Row-stochastic matrix [out, size] averaging PyTorch's adaptive windows [⌊i·size/out⌋, ⌈(i+1)·size/out⌉). */
export function adaptiveMatrix(size: number, out: number, like: Tensor): Tensor {
  if (arguments.length > 3) surplus(arguments, "adaptiveMatrix(size, out, like)");
  const m = new (like.dtype === "float64" ? Float64Array : Float32Array)(out * size);
  for (let i = 0; i < out; i++) {
    const s = Math.floor((i * size) / out),
      e = Math.ceil(((i + 1) * size) / out);
    for (let k = s; k < e; k++) m[i * size + k] = 1 / (e - s);
  }
  return new Tensor(m, [out, size]);
}

/** Adaptive average pooling to a fixed output size, like `F.adaptive_avg_pool2d`. */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly [number | null, number | null]): Tensor {
  if (arguments.length > 2) surplus(arguments, "adaptiveAvgPool2d(x, outputSize)");
  return unbatched(x, (x4) => {
    check4d(x4, "adaptiveAvgPool2d");
    const [, , h, w] = x4.shape;
    const [oh, ow] = typeof outputSize === "number" ? [outputSize, outputSize] : [outputSize[0] ?? h, outputSize[1] ?? w];
    return traceOp("adaptiveAvgPool2d", [x4], { oh, ow }, () => adaptiveAvgPool2dOf(x4, oh, ow));
  });
}

function adaptiveAvgPool2dOf(x4: Tensor, oh: number, ow: number): Tensor {
  const [, , h, w] = x4.shape;
  if (oh === 1 && ow === 1) return mean(x4, [2, 3], { keepdim: true });
  if (h % oh === 0 && w % ow === 0) return avgPool2d(x4, [h / oh, w / ow]);
  const rows = matmul(adaptiveMatrix(h, oh, x4), x4); // [N, C, oh, W]
  return P.matmulPrim(rows, adaptiveMatrix(w, ow, x4), false, true); // [N, C, oh, ow]
}
