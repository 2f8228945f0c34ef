// A backend over the compiled kernels of native/binding/kernel_list.h — the Node-API addon (backend/native)
// or the WebAssembly module (backend/wasm), which export the same functions (list.generated.ts): GEMM,
// convolution, max-pool indices, batch norm, gather / scatter-add, the optimizer updates, im2col / col2im,
// elementwise and reduction kernels from the module, every other kernel (and small or mixed-type calls) from
// the js backend.

import type { Backend, ConvGeometry, Im2colGeometry } from "../backend.js";
import type { TypedArray } from "../../tensor/dtype.js";
import { jsBackend } from "../js/index.js";
import { effectiveConvPrecision, type ConvAlgorithm } from "../precision.js";
import { collapse } from "../js/elementwise.js";
import {
  ADADELTA_HYPER,
  ADAGRAD_HYPER,
  ADAM_HYPER,
  ADAMAX_HYPER,
  ARG_REDUCE_OPS,
  BINARY_OPS,
  NADAM_HYPER,
  REDUCE_OPS,
  RMSPROP_HYPER,
  SGD_HYPER,
  UNARY_OPS,
  type Addon,
} from "./list.generated.js";

/** The geometry as the compiled kernels read it: [n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, o, groups]. */
function packGeometry(g: Im2colGeometry & Partial<ConvGeometry>): Int32Array {
  return Int32Array.of(g.n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.oh, g.ow, g.o ?? 0, g.groups ?? 1);
}

/** A pooling window as conv2dMaxPool reads it: [kh, kw, sh, sw, ph, pw, dh, dw, oh, ow]. */
function poolWindow(p: Im2colGeometry): Int32Array {
  return Int32Array.of(p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw, p.oh, p.ow);
}

/** True when the arrays are all float32 or all float64 (what the compiled kernels take). */
function sameFloat(...xs: TypedArray[]): boolean {
  const t = xs[0].constructor;
  return (t === Float32Array || t === Float64Array) && xs.every((x) => x.constructor === t);
}

/** 1 when `strides` read `shape` contiguously, 0 when they are all zero (a broadcast scalar), else −1. */
function layout(strides: readonly number[], shape: readonly number[]): number {
  if (strides.every((s) => s === 0)) return 0;
  for (let d = shape.length - 1, acc = 1; d >= 0; d--) {
    if (shape[d] !== 1 && strides[d] !== acc) return -1;
    acc *= shape[d];
  }
  return 1;
}

/** The convolution algorithm codes (ConvAlgo in native/kernels/conv.h), and the array it writes the code into. */
const CONV_ALGORITHMS: readonly ConvAlgorithm[] = ["im2col", "direct", "winograd-f2x2", "winograd-f4x4"];
const algo = new Int32Array(1);
/** 1 when float32 convolutions may take the "fast" precision's algorithms (nb.backend.fp32Precision). */
const fastConv = (): number => (effectiveConvPrecision() === "fast" ? 1 : 0);

/** Below this many elements the js loop is as fast as crossing into the addon. */
const SMALL = 4096;
/** The optimizer updates do ~20 flops per element with a division and a square root: the addon wins
 * from a few hundred elements (Adam on 2,400: 31 µs in js, 4 µs native). */
const SMALL_UPDATE = 256;

/** A hyper-parameter record as the addon reads it: its fields in the order of the kernel's list (flags as 0 / 1). */
function hyper<H extends object>(order: readonly (keyof H & string)[], h: H): Float64Array {
  return Float64Array.from(order, (k) => +(h[k] as number | boolean));
}

/** Whether an optimizer update goes to the addon: enough elements, and every present array of one float type. */
function nativeUpdate(param: TypedArray, ...rest: (TypedArray | null)[]): boolean {
  return param.length >= SMALL_UPDATE && sameFloat(param, ...rest.filter((a): a is TypedArray => a !== null));
}

/** The backend `name` over the kernels of `addon`; `info` is added to the module's own (ISA, threads). */
export function compiledBackend(name: string, addon: Addon, info: Record<string, string | number>): Backend {
  const js = jsBackend.fused;
  return {
    ...jsBackend,
    name,
    info: { ...addon.info(), ...info },
    matmul: (a, aOffs, transA, b, bOffs, transB, out, m, k, n) => {
      // the addon handles one element type at a time; mixed types fall back to js
      if (a.constructor === b.constructor && b.constructor === out.constructor && !(a instanceof Int32Array)) {
        addon.matmul(a, aOffs, transA, b, bOffs, transB, out, m, k, n);
      } else jsBackend.matmul(a, aOffs, transA, b, bOffs, transB, out, m, k, n);
    },
    im2col: (x, g, pad, out) => (sameFloat(x, out) ? addon.im2col(x, packGeometry(g), pad, out) : jsBackend.im2col(x, g, pad, out)),
    col2im: (cols, g, out) => (sameFloat(cols, out) ? addon.col2im(cols, packGeometry(g), out) : jsBackend.col2im(cols, g, out)),
    unary: (op, x, out) =>
      x.length < SMALL || x instanceof Int32Array || x.constructor !== out.constructor
        ? jsBackend.unary(op, x, out)
        : addon.unary(UNARY_OPS[op], x, out),
    copy: (src, so, ss, dst, dof, ds, shape) => {
      let n = 1;
      for (const d of shape) n *= d;
      if (n < SMALL || !sameFloat(src, dst)) return jsBackend.copy(src, so, ss, dst, dof, ds, shape);
      const [cshape, [cs, cd]] = collapse(shape, [ss, ds]);
      addon.copy(src, so, dst, dof, Int32Array.from(cshape), Int32Array.from(cs), Int32Array.from(cd));
    },
    reduce: (op, x, outer, size, inner, out) =>
      x.length < SMALL || x instanceof Int32Array || x.constructor !== out.constructor
        ? jsBackend.reduce(op, x, outer, size, inner, out)
        : addon.reduce(REDUCE_OPS[op], x, outer, size, inner, out),
    binary: (op, a, as, b, bs, out, shape) => {
      if (out.length < SMALL || out instanceof Int32Array || a.constructor !== out.constructor || b.constructor !== out.constructor) {
        return jsBackend.binary(op, a, as, b, bs, out, shape);
      }
      const la = layout(as, shape),
        lb = layout(bs, shape);
      if (la >= 0 && lb >= 0 && !(la === 0 && lb === 0)) return addon.binary(BINARY_OPS[op], a, la, b, lb, out);
      const os = new Array<number>(shape.length);
      for (let d = shape.length - 1, acc = 1; d >= 0; d--) {
        os[d] = acc;
        acc *= shape[d];
      }
      const [cshape, [ca, cb]] = collapse(shape, [as, bs, os]);
      addon.binaryStrided(BINARY_OPS[op], a, b, out, Int32Array.from(cshape), Int32Array.from(ca), Int32Array.from(cb));
    },
    conv2d: (x, w, g, out, bias) => {
      if (!sameFloat(x, w, out, ...(bias ? [bias] : []))) return jsBackend.conv2d(x, w, g, out, bias);
      addon.conv2d(x, w, packGeometry(g), out, bias ?? null, fastConv(), algo);
      return CONV_ALGORITHMS[algo[0]];
    },
    conv2dBackwardInput: (gy, w, g, gx) => {
      if (!sameFloat(gy, w, gx)) return jsBackend.conv2dBackwardInput(gy, w, g, gx);
      addon.conv2dBackwardInput(gy, w, packGeometry(g), gx, fastConv(), algo);
      return CONV_ALGORITHMS[algo[0]];
    },
    conv2dBackwardWeight: (x, gy, g, gw) => {
      if (!sameFloat(x, gy, gw)) return jsBackend.conv2dBackwardWeight(x, gy, g, gw);
      addon.conv2dBackwardWeight(x, gy, packGeometry(g), gw, fastConv(), algo);
      return CONV_ALGORITHMS[algo[0]];
    },
    maxPool2dIndices: (x, g, idx, values) =>
      sameFloat(x, ...(values ? [values] : []))
        ? addon.maxPool2dIndices(x, packGeometry(g), idx, values ?? null)
        : jsBackend.maxPool2dIndices(x, g, idx, values),
    gather: (x, outer, size, inner, idx, idxSize, out) =>
      out.length < SMALL || !sameFloat(x, out)
        ? jsBackend.gather(x, outer, size, inner, idx, idxSize, out)
        : addon.gather(x, outer, size, inner, idx, idxSize, out),
    scatterAdd: (out, outer, size, inner, idx, idxSize, src, clear = false, windows = null) =>
      src.length < SMALL || !sameFloat(out, src)
        ? jsBackend.scatterAdd(out, outer, size, inner, idx, idxSize, src, clear)
        : addon.scatterAdd(out, outer, size, inner, idx, idxSize, src, clear, windows),
    batchNormStats: (x, n, c, inner, mean, variance) =>
      sameFloat(x) ? addon.batchNormStats(x, n, c, inner, mean, variance) : jsBackend.batchNormStats(x, n, c, inner, mean, variance),
    argReduce: (op, x, outer, size, inner, out) =>
      x.length < SMALL || x instanceof Int32Array
        ? jsBackend.argReduce(op, x, outer, size, inner, out)
        : addon.argReduce(ARG_REDUCE_OPS[op], x, outer, size, inner, out),
    fused: {
      reluBackward: (g, y, gx) => (gx.length < SMALL || !sameFloat(g, y, gx) ? js.reluBackward(g, y, gx) : addon.reluBackward(g, y, gx)),
      channelAffine: (x, n, c, inner, scale, shift, out, relu = false) =>
        sameFloat(x, out)
          ? addon.channelAffine(x, n, c, inner, scale, shift, out, relu)
          : js.channelAffine(x, n, c, inner, scale, shift, out, relu),
      batchNormBackward: (gy, x, n, c, inner, mean, invstd, scale, training, gx, sumG, sumGXhat, reluOut = null) =>
        sameFloat(gy, x, ...(gx ? [gx] : []), ...(reluOut ? [reluOut] : []))
          ? addon.batchNormBackward(gy, x, n, c, inner, mean, invstd, scale, training, gx, sumG, sumGXhat, reluOut)
          : js.batchNormBackward(gy, x, n, c, inner, mean, invstd, scale, training, gx, sumG, sumGXhat, reluOut),
      linear: (x, w, bias, relu, out, m, k, n) =>
        sameFloat(x, w, out, ...(bias ? [bias] : []))
          ? addon.linear(x, w, bias, relu, out, m, k, n)
          : js.linear(x, w, bias, relu, out, m, k, n),
      convMaxPool: (x, w, g, bias, pool, relu, out, inPad = null) => {
        if (!sameFloat(x, w, out, ...(bias ? [bias] : []))) return js.convMaxPool(x, w, g, bias, pool, relu, out, inPad);
        addon.conv2dMaxPool(x, w, packGeometry(g), bias, poolWindow(pool), fastConv(), relu, inPad, out, algo);
        return CONV_ALGORITHMS[algo[0]];
      },
      adamUpdate: (p, g, m, v, vmax, h) =>
        nativeUpdate(p, g, m, v, vmax) ? addon.adamUpdate(p, g, m, v, vmax, hyper(ADAM_HYPER, h)) : js.adamUpdate(p, g, m, v, vmax, h),
      sgdUpdate: (p, g, buf, h) => (nativeUpdate(p, g, buf) ? addon.sgdUpdate(p, g, buf, hyper(SGD_HYPER, h)) : js.sgdUpdate(p, g, buf, h)),
      rmspropUpdate: (p, g, v, ga, buf, h) =>
        nativeUpdate(p, g, v, ga, buf)
          ? addon.rmspropUpdate(p, g, v, ga, buf, hyper(RMSPROP_HYPER, h))
          : js.rmspropUpdate(p, g, v, ga, buf, h),
      adagradUpdate: (p, g, sum, h) =>
        nativeUpdate(p, g, sum) ? addon.adagradUpdate(p, g, sum, hyper(ADAGRAD_HYPER, h)) : js.adagradUpdate(p, g, sum, h),
      adadeltaUpdate: (p, g, v, u, h) =>
        nativeUpdate(p, g, v, u) ? addon.adadeltaUpdate(p, g, v, u, hyper(ADADELTA_HYPER, h)) : js.adadeltaUpdate(p, g, v, u, h),
      nadamUpdate: (p, g, m, v, h) =>
        nativeUpdate(p, g, m, v) ? addon.nadamUpdate(p, g, m, v, hyper(NADAM_HYPER, h)) : js.nadamUpdate(p, g, m, v, h),
      adamaxUpdate: (p, g, m, u, h) =>
        nativeUpdate(p, g, m, u) ? addon.adamaxUpdate(p, g, m, u, hyper(ADAMAX_HYPER, h)) : js.adamaxUpdate(p, g, m, u, h),
    },
  };
}
