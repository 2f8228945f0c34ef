// The js backend: every primitive kernel in plain TypeScript, float32 and float64 — the reference oracle.

import type { Backend, FusedKernels } from "../backend.js";
import type { TypedArray } from "../../tensor/dtype.js";
import { binary, copy, reluBackward, unary, where } from "./elementwise.js";
import { argReduce, gather, reduce, scatterAdd } from "./reduce.js";
import { matmul } from "./gemm.js";
import { batchNormBackward, batchNormStats, channelAffine } from "./norm.js";
import { adadeltaUpdate, adagradUpdate, adamaxUpdate, adamUpdate, nadamUpdate, rmspropUpdate, sgdUpdate } from "./optim.js";
import { col2im, conv2d, conv2dBackwardInput, conv2dBackwardWeight, convMaxPool, im2col, maxPool2dIndices } from "./conv.js";

function cast(x: TypedArray, out: TypedArray): void {
  if (out instanceof Int32Array && !(x instanceof Int32Array)) {
    for (let i = 0; i < x.length; i++) out[i] = Math.trunc(x[i]);
  } else out.set(x);
}

function clamp(x: TypedArray, lo: number, hi: number, out: TypedArray): void {
  // min(max(x, lo), hi) as PyTorch: with lo > hi every element is hi
  for (let i = 0; i < x.length; i++) {
    const v = x[i] < lo ? lo : x[i];
    out[i] = v > hi ? hi : v;
  }
}

/** Inference's linear (→ ReLU) as matmul, the bias add and relu one by one (see FusedKernels.linear). */
const linear: FusedKernels["linear"] = (x, w, bias, relu, out, m, k, n) => {
  const zero = new Int32Array(1);
  matmul(x, zero, false, w, zero, true, out, m, k, n);
  if (bias) binary("add", out, [n, 1], bias, [0, 1], out, [m, n]);
  if (relu) unary("relu", out, out);
};

/** The reference backend, registered as `js`. */
export const jsBackend: Backend = {
  name: "js",
  unary,
  binary,
  where,
  reduce,
  argReduce,
  copy,
  cast,
  clamp,
  gather,
  scatterAdd,
  matmul,
  im2col,
  col2im,
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  maxPool2dIndices,
  batchNormStats,
  fused: {
    reluBackward,
    channelAffine,
    batchNormBackward,
    convMaxPool,
    linear,
    adamUpdate,
    sgdUpdate,
    rmspropUpdate,
    adagradUpdate,
    adadeltaUpdate,
    nadamUpdate,
    adamaxUpdate,
  },
};
