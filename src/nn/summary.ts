// summary(model, inputShape): per-layer output shapes, parameter counts and multiply-accumulates, like torchinfo.

import { Tensor } from "../tensor/tensor.js";
import { Module } from "./module.js";
import { Conv2d } from "./layers/conv.js";
import { Linear } from "./layers/linear.js";
import { noGrad } from "../autograd/engine.js";
import { zeros } from "../ops/creation.js";
import { fmt } from "../tensor/shape.js";
import { surplus } from "../surplus.js";

export interface LayerSummary {
  name: string;
  type: string;
  /** Output shape, with the batch dimension given (1 when the input shape had none). */
  outputShape: number[];
  /** Parameters owned directly by this layer. */
  params: number;
  /** Multiply-accumulates of this layer's convolutions / linear maps for the whole batch (0 for other layers). */
  macs: number;
}

export interface ModelSummary {
  layers: LayerSummary[];
  totalParams: number;
  trainableParams: number;
  /** Multiply-accumulates of all convolutions and linear layers for the whole batch (one input when the shape had no batch dimension). */
  totalMacs: number;
  /** A torchinfo-like table. */
  text: string;
}

function macsOf(m: Module, out: Tensor): number {
  if (m instanceof Conv2d) return out.data.length * (m.inChannels / m.groups) * m.kernelSize[0] * m.kernelSize[1];
  if (m instanceof Linear) return out.data.length * m.inFeatures;
  return 0;
}

/**
 * Whether `shape` already has a batch dimension, as torchinfo's input size does: judged by the first layer
 * with parameters (a Conv2d takes [N, C, H, W], a Linear [N, features]); without one, no batch dimension.
 */
function hasBatchDim(model: Module, shape: readonly number[]): boolean {
  for (const m of model.modules()) {
    if (m instanceof Conv2d) return shape.length === 4;
    if (m instanceof Linear) return shape.length === 2;
  }
  return false;
}

/**
 * Run one forward pass on zeros of `inputShape` (eval mode, no gradient) — with a batch dimension as
 * torchinfo's `[1, 3, 224, 224]`, or without one as `[3, 224, 224]` (then batch 1) — and record, for every
 * layer without children, its output shape, its parameters and its multiply-accumulates (convolutions and
 * linear layers, the convention of torchvision's published GFLOPS).
 *
 * @example console.log(nb.summary(nb.models.resnet18(), [1, 3, 224, 224]).text);
 */
export function summary(model: Module, inputShape: readonly number[]): ModelSummary {
  if (arguments.length > 2) surplus(arguments, "summary(model, inputShape)");
  if (!Array.isArray(inputShape) || !inputShape.every((d) => Number.isInteger(d) && d > 0))
    throw new TypeError(`summary: inputShape must be an array of positive integers, got ${JSON.stringify(inputShape)}`);
  const shape = hasBatchDim(model, inputShape) ? [...inputShape] : [1, ...inputShape];
  const records: LayerSummary[] = [];
  const leaves = model.namedModules().filter(([, m]) => m.children().length === 0);
  const handles = leaves.map(([name, m]) =>
    m.registerForwardHook((_m, _inputs, out) => {
      records.push({
        name,
        type: m.constructor.name,
        outputShape: [...out.shape],
        params: m.namedDirectParameters().reduce((a, p) => a + p[1].data.length, 0),
        macs: macsOf(m, out),
      });
    }),
  );
  const modes = model.modules().map((m) => m.training);
  model.eval();
  try {
    noGrad(() => model.forward(zeros(shape)));
  } finally {
    handles.forEach((h) => h.remove());
    model.modules().forEach((m, i) => (m.training = modes[i]));
  }
  const totalParams = model.parameters().reduce((a, p) => a + p.data.length, 0);
  const trainableParams = model
    .parameters()
    .filter((p) => p.requiresGrad)
    .reduce((a, p) => a + p.data.length, 0);
  const totalMacs = records.reduce((a, r) => a + r.macs, 0);
  const rows = records.map((r) => [
    `${r.name} (${r.type})`,
    fmt(r.outputShape),
    r.params.toLocaleString("en-US"),
    r.macs.toLocaleString("en-US"),
  ]);
  const head = ["Layer (type)", "Output shape", "Param #", "Mult-adds"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const rule = "=".repeat(widths.reduce((a, b) => a + b + 2, -2));
  const text = [
    `${model.constructor.name}, input [${shape.join(", ")}]`,
    rule,
    line(head),
    rule,
    ...rows.map(line),
    rule,
    `Total params: ${totalParams.toLocaleString("en-US")}`,
    `Trainable params: ${trainableParams.toLocaleString("en-US")}`,
    `Total mult-adds: ${(totalMacs / 1e9).toFixed(3)} G (${totalMacs.toLocaleString("en-US")})`,
  ].join("\n");
  return { layers: records, totalParams, trainableParams, totalMacs, text };
}
