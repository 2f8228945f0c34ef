// The tracing slot: while a sink is installed (nb.onnx.export does this), every composite op that has an
// exporter-level meaning (convolution, pooling, batch norm, linear, softmax, …) reports itself once, with its
// inputs, output and attributes, and the primitives it runs inside are not reported; primitives run outside
// such ops (model code's add, cat, reshape, …) report themselves. Values a primitive computes without
// recording (comparisons, integer casts, max-pool indices) are reported as opaque, so that an exporter can
// refuse a graph that would depend on them instead of baking them in as constants.

import type { Tensor } from "../tensor/tensor.js";

export interface TraceSink {
  /** A primitive run outside any traced op. */
  prim(name: string, inputs: readonly Tensor[], out: Tensor, attrs: object): void;
  /** A traced composite op. */
  op(name: string, inputs: readonly (Tensor | null)[], out: Tensor, attrs: object): void;
  /** A value computed outside the traced ops (its producer's name). */
  opaque(name: string, out: Tensor): void;
}

let sink: TraceSink | null = null;
let depth = 0;

/** Run `f` with `s` receiving the trace; restores the previous state (traces do not nest). */
export function withTrace<T>(s: TraceSink, f: () => T): T {
  if (sink) throw new Error("trace: a trace is already running");
  sink = s;
  depth = 0;
  try {
    return f();
  } finally {
    sink = null;
    depth = 0;
  }
}

/** Whether a trace is running (a fusion that would hide traced ops from it must not be taken). */
export function isTracing(): boolean {
  return sink !== null;
}

/** Report `f`'s result as one op named `name` (when tracing and not inside another traced op). */
export function traceOp(name: string, inputs: readonly (Tensor | null)[], attrs: object, f: () => Tensor): Tensor {
  if (!sink || depth > 0) return f();
  depth++;
  let out: Tensor;
  try {
    out = f();
  } finally {
    depth--;
  }
  sink.op(name, inputs, out, attrs);
  return out;
}

export function tracePrim(name: string, inputs: readonly Tensor[], out: Tensor, attrs: object): void {
  if (sink && depth === 0) sink.prim(name, inputs, out, attrs);
}

export function traceOpaque(name: string, out: Tensor): void {
  if (sink && depth === 0) sink.opaque(name, out);
}
