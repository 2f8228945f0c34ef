// Every loss under every reduction and option against PyTorch 1.13 (fixtures/losses.json), plus gradcheck.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as nb from "../src/index.js";
import { fixturePath, r64 } from "./helpers.js";
import { TOL } from "./tolerances.js";

const F = nb.nn.functional;
type T = nb.Tensor;
interface Opts {
  weight?: number[];
  weightTensor?: number[][];
  posWeight?: number[];
  ignoreIndex?: number;
  labelSmoothing?: number;
  beta?: number;
  delta?: number;
}
interface Case {
  options: Opts;
  reduction: nb.nn.functional.Reduction;
  inputs: nb.testing.EncodedTensor[];
  output: nb.testing.EncodedTensor;
  gradOutput: nb.testing.EncodedTensor;
  gradInput: nb.testing.EncodedTensor;
}
const fx = nb.testing.loadJsonFixture<{ cases: Record<string, Case> }>(fixturePath("losses.json"));

const t = (v?: number[] | number[][]) => (v ? nb.tensor(v) : undefined);
/** The nabla call of each fixture family (the part of the case name before '/'), functional and Module forms. */
const impl: Record<string, (x: T, y: T, o: Opts, reduction: nb.nn.functional.Reduction) => T> = {
  l1: (x, y, o, reduction) => F.l1Loss(x, y, { reduction }),
  mse: (x, y, o, reduction) => new nb.nn.MSELoss({ reduction }).forward(x, y),
  smooth_l1: (x, y, o, reduction) => F.smoothL1Loss(x, y, { reduction }),
  smooth_l1_beta05: (x, y, o, reduction) => new nb.nn.SmoothL1Loss({ reduction, beta: o.beta }).forward(x, y),
  smooth_l1_beta0: (x, y, o, reduction) => F.smoothL1Loss(x, y, { reduction, beta: o.beta }),
  huber: (x, y, o, reduction) => new nb.nn.HuberLoss({ reduction }).forward(x, y),
  huber_delta2: (x, y, o, reduction) => F.huberLoss(x, y, { reduction, delta: o.delta }),
  ce: (x, y, o, reduction) => F.crossEntropy(x, y, { reduction }),
  ce_weight: (x, y, o, reduction) => new nb.nn.CrossEntropyLoss({ reduction, weight: t(o.weight) }).forward(x, y),
  ce_ignore: (x, y, o, reduction) => F.crossEntropy(x, y, { reduction }),
  ce_ignore2_weight: (x, y, o, reduction) => F.crossEntropy(x, y, { reduction, weight: t(o.weight), ignoreIndex: o.ignoreIndex }),
  ce_smooth: (x, y, o, reduction) => F.crossEntropy(x, y, { reduction, labelSmoothing: o.labelSmoothing }),
  ce_smooth_weight: (x, y, o, reduction) => F.crossEntropy(x, y, { reduction, weight: t(o.weight), labelSmoothing: o.labelSmoothing }),
  ce_probs: (x, y, o, reduction) => F.crossEntropy(x, y, { reduction }),
  ce_probs_smooth_weight: (x, y, o, reduction) =>
    F.crossEntropy(x, y, { reduction, weight: t(o.weight), labelSmoothing: o.labelSmoothing }),
  ce_spatial: (x, y, o, reduction) => F.crossEntropy(x, y, { reduction }),
  ce_huge_logits: (x, y, o, reduction) => F.crossEntropy(x, y, { reduction }),
  nll: (x, y, o, reduction) => new nb.nn.NLLLoss({ reduction, weight: t(o.weight) }).forward(x, y),
  bce: (x, y, o, reduction) => new nb.nn.BCELoss({ reduction }).forward(x, y),
  bce_weight: (x, y, o, reduction) => F.binaryCrossEntropy(x, y, { reduction, weight: t(o.weightTensor) }),
  bce_logits: (x, y, o, reduction) => new nb.nn.BCEWithLogitsLoss({ reduction }).forward(x, y),
  bce_logits_weights: (x, y, o, reduction) =>
    F.binaryCrossEntropyWithLogits(x, y, { reduction, weight: t(o.weightTensor), posWeight: t(o.posWeight) }),
  bce_logits_pm100: (x, y, o, reduction) => F.binaryCrossEntropyWithLogits(x, y, { reduction }),
  multilabel_soft_margin: (x, y, o, reduction) => new nb.nn.MultiLabelSoftMarginLoss({ reduction }).forward(x, y),
  multilabel_soft_margin_weight: (x, y, o, reduction) => F.multilabelSoftMarginLoss(x, y, { reduction, weight: t(o.weight) }),
};

for (const [name, c] of Object.entries(fx.cases)) {
  test(`loss ${name}`, () => {
    const family = name.split("/")[0];
    const fn = impl[family];
    assert.ok(fn, `no nabla implementation for ${family}`);
    const x = nb.testing.decodeTensor(c.inputs[0], { requiresGrad: true });
    const y = nb.testing.decodeTensor(c.inputs[1]);
    const out = fn(x, y, c.options, c.reduction);
    nb.testing.assertClose(out, nb.testing.decodeTensor(c.output), { ...TOL.f32Reduce, msg: `${name} value` });
    assert.ok(Array.from(out.data).every(Number.isFinite), `${name}: non-finite loss`);
    out.backward(nb.testing.decodeTensor(c.gradOutput));
    nb.testing.assertClose(x.grad!, nb.testing.decodeTensor(c.gradInput), { ...TOL.f32Reduce, msg: `${name} gradient` });
  });
}

test("every loss passes gradcheck in float64", () => {
  const x = r64([4, 3], 1),
    y = r64([4, 3], 2).detach();
  const p = nb
    .sigmoid(r64([4, 3], 3))
    .detach()
    .requiresGrad_();
  const idx = nb.tensor([0, 2, 1, 2], { dtype: "int32" });
  const w = nb.tensor([0.5, 1, 2], { dtype: "float64" });
  const probs = nb.softmax(r64([4, 3], 4), 1).detach();
  const bin = nb.tensor(
    [
      [1, 0, 1],
      [0, 0, 1],
      [1, 1, 0],
      [0, 1, 0],
    ],
    { dtype: "float64" },
  );
  const checks: [string, (a: T) => T, T][] = [
    ["l1", (a) => F.l1Loss(a, y), x],
    ["mse", (a) => F.mseLoss(a, y, { reduction: "sum" }), x],
    ["smoothL1", (a) => F.smoothL1Loss(a, y, { beta: 0.5 }), x],
    ["huber", (a) => F.huberLoss(a, y, { delta: 0.7 }), x],
    ["crossEntropy", (a) => F.crossEntropy(a, idx, { weight: w, labelSmoothing: 0.1 }), x],
    ["crossEntropy probs", (a) => F.crossEntropy(a, probs), x],
    ["nll", (a) => F.nllLoss(a.logSoftmax(1), idx, { weight: w }), x],
    ["bce", (a) => F.binaryCrossEntropy(a, bin), p],
    ["bceWithLogits", (a) => F.binaryCrossEntropyWithLogits(a, bin, { posWeight: w }), x],
    ["multilabelSoftMargin", (a) => F.multilabelSoftMarginLoss(a, bin, { weight: w }), x],
  ];
  for (const [name, fn, input] of checks) {
    assert.equal(nb.testing.gradcheck(fn, [input], TOL.gradcheck), true, name);
  }
});

test("cross-entropy is exact for logits of ±1e4 (closed form: the correct class wins by 2e4)", () => {
  const x = nb.tensor([
    [1e4, -1e4, 0],
    [-1e4, 1e4, 1e4],
  ]);
  const loss = F.crossEntropy(x, nb.tensor([1, 2], { dtype: "int32" }), { reduction: "none" });
  // Row 0: target −1e4 vs max 1e4 → 2e4 + log(1 + e^{−1e4} + e^{−2e4}) = 2e4. Row 1: two tied maxima → log 2.
  nb.testing.assertClose(loss, [2e4, Math.LN2], { rtol: 1e-6 });
});
