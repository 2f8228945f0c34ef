// Functional ops take one trailing options object, and the common ones also PyTorch's positional order
// (F.conv2d(x, w, b, stride, padding), F.max_pool2d(x, k, stride), …). A Tensor or number where neither
// form has a slot is an error: the options-only signatures used to ignore it and return a wrong result.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as nb from "../src/index.js";
import { r64, throwsWith } from "./helpers.js";

const F = nb.nn.functional;
const same = (a: nb.Tensor, b: nb.Tensor) => nb.testing.assertClose(a, b, { rtol: 0, atol: 0 });

test("conv2d: PyTorch's positional bias, stride, padding, dilation, groups", () => {
  const x = r64([2, 4, 7, 7], 1),
    w = r64([6, 2, 3, 3], 2),
    b = r64([6], 3);
  const ref = F.conv2d(x, w, { bias: b, stride: 2, padding: 1, dilation: 1, groups: 2 });
  assert.deepEqual(ref.shape, [2, 6, 4, 4]); // ⌊(7 + 2 − 3) / 2⌋ + 1
  same(F.conv2d(x, w, b, 2, 1, 1, 2), ref);
  same(F.conv2d(x, w, b, 2, { padding: 1, groups: 2 }), ref);
  same(F.conv2d(x, w, b, { stride: 2, padding: 1, groups: 2 }), ref);
  same(F.conv2d(x, w, undefined, 2, 1, 1, 2), F.conv2d(x, w, { stride: 2, padding: 1, groups: 2 }));
  same(F.conv2d(x, w, null, { padding: 1, groups: 2 }), F.conv2d(x, w, { padding: 1, groups: 2 }));
  // the bias given positionally is added: conv(x, w, b) − conv(x, w) = b on every output
  const d = nb.sub(F.conv2d(x, w, b, 1, 0, 1, 2), F.conv2d(x, w, { groups: 2 }));
  const dd = d.data,
    L = 5 * 5;
  for (let i = 0; i < dd.length; i++) assert.ok(Math.abs(dd[i] - b.data[Math.floor(i / L) % 6]) < 1e-12);
});

test("pooling and batchNorm: PyTorch's positional order equals the options form", () => {
  const x = r64([2, 3, 9, 9], 4);
  const mp = F.maxPool2d(x, 3, 2);
  assert.deepEqual(mp.shape, [2, 3, 4, 4]); // stride 2, not the kernel size: ⌊(9 − 3) / 2⌋ + 1
  same(mp, F.maxPool2d(x, 3, { stride: 2 }));
  same(F.maxPool2d(x, 3, 2, 1, 1, true), F.maxPool2d(x, 3, { stride: 2, padding: 1, dilation: 1, ceilMode: true }));
  same(F.maxPool2d(x, 3, null, { padding: 1 }), F.maxPool2d(x, 3, { padding: 1 }));
  same(F.avgPool2d(x, 3, 2, 1, true, false), F.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }));
  same(F.avgPool2d(x, 2, 1, 0, false, true, 3), F.avgPool2d(x, 2, { stride: 1, divisorOverride: 3 }));
  const rm = nb.zeros([3], { dtype: "float64" }),
    rv = nb.ones([3], { dtype: "float64" }),
    g = r64([3], 5),
    be = r64([3], 6);
  same(F.batchNorm(x, rm, rv, g, be, false, 0.1, 1e-3), F.batchNorm(x, rm, rv, { weight: g, bias: be, eps: 1e-3 }));
  const rm1 = nb.zeros([3], { dtype: "float64" }),
    rv1 = nb.ones([3], { dtype: "float64" });
  const rm2 = nb.zeros([3], { dtype: "float64" }),
    rv2 = nb.ones([3], { dtype: "float64" });
  same(F.batchNorm(x, rm1, rv1, g, be, true, 0.3), F.batchNorm(x, rm2, rv2, { weight: g, bias: be, training: true, momentum: 0.3 }));
  same(rm1, rm2);
  same(rv1, rv2);
});

test("weighted losses take the weight Tensor in PyTorch's third position", () => {
  const logits = r64([5, 4], 7),
    t = nb.tensor([0, 3, 1, 1, 2], { dtype: "int32" }),
    wc = r64([4], 8, 1, 2);
  same(F.crossEntropy(logits, t, wc), F.crossEntropy(logits, t, { weight: wc }));
  same(F.nllLoss(F.logSoftmax(logits, 1), t, wc), F.nllLoss(F.logSoftmax(logits, 1), t, { weight: wc }));
  const p = nb.sigmoid(logits),
    y = r64([5, 4], 9, 0.5, 0.5),
    we = r64([5, 4], 10, 1, 2);
  same(F.binaryCrossEntropy(p, y, we), F.binaryCrossEntropy(p, y, { weight: we }));
  same(F.binaryCrossEntropyWithLogits(logits, y, we), F.binaryCrossEntropyWithLogits(logits, y, { weight: we }));
  same(F.multilabelSoftMarginLoss(logits, y, wc), F.multilabelSoftMarginLoss(logits, y, { weight: wc }));
});

test("clamp, pad and localResponseNorm: PyTorch's positional order", () => {
  const x = r64([3, 4, 5], 11);
  const c = nb.clamp(x, -0.5, 0.5);
  same(c, nb.clamp(x, { min: -0.5, max: 0.5 }));
  same(x.clamp(-0.5, 0.5), c);
  x.data.forEach((v, i) => assert.equal(c.data[i], Math.min(Math.max(v, -0.5), 0.5)));
  same(nb.clamp(x, null, 0.25), nb.clamp(x, { max: 0.25 }));
  const p = F.pad(x, [1, 2], "constant", 7);
  assert.deepEqual(p.shape, [3, 4, 8]);
  same(p, F.pad(x, [1, 2], { value: 7 }));
  assert.equal(p.data[0], 7); // the value is used, not 0
  same(F.localResponseNorm(x, 3, 0.01, 0.5, 2), F.localResponseNorm(x, 3, { alpha: 0.01, beta: 0.5, k: 2 }));
  throwsWith(() => nb.clamp(x, "1" as never), "clamp: min must be a number");
});

test("arguments with no slot in either form are errors, never ignored", () => {
  const x = nb.zeros([1, 2, 6, 6]),
    w = nb.zeros([3, 2, 3, 3]),
    b = nb.zeros([3]);
  const loose = (...a: unknown[]) => a as never[];
  throwsWith(() => F.conv2d(x, w, ...loose({ padding: 1 }, 2)), "conv2d", "options object must be the last argument", "number 2");
  throwsWith(() => F.conv2d(x, w, ...loose(b, { bias: b })), "conv2d", "bias is given both positionally and in the options object");
  throwsWith(() => F.conv2d(x, w, ...loose(b, 1, 0, 1, 1, 5)), "conv2d", "at most 5 settings");
  throwsWith(() => F.conv2d(x, w, ...loose(2)), "conv2d");
  throwsWith(
    () => F.maxPool2d(x, 2, ...loose(2, 0, 1, false, true)),
    "maxPool2d",
    "at most 4 settings",
    "stride, padding, dilation, ceilMode",
  );
  throwsWith(() => F.mseLoss(x, x, ...loose(x)), "mseLoss", "expected an options object", "a Tensor of shape [1, 2, 6, 6]");
  throwsWith(() => F.l1Loss(x, x, ...loose(true)), "l1Loss", "expected an options object", "boolean true");
  throwsWith(
    () => F.crossEntropy(nb.zeros([2, 3]), nb.tensor([0, 1], { dtype: "int32" }), ...loose(0.1)),
    "crossEntropy",
    "number 0.1",
    "weight Tensor",
  );
});

test("reductions take keepdim in PyTorch's positional place: sum(x, 1, true)", () => {
  const x = nb.tensor([
    [3, 1, 2],
    [0, 5, 4],
  ]);
  // torch.sum(x, 1, True) → [[6.], [9.]]; torch.amax(x, 0, True) → [[3., 5., 4.]]; argmax(x, 1, True) → [[0], [1]]
  const cases: [string, nb.Tensor, number[], number[]][] = [
    ["sum", nb.sum(x, 1, true), [2, 1], [6, 9]],
    ["mean", nb.mean(x, 1, true), [2, 1], [2, 3]],
    ["amax", nb.amax(x, 0, true), [1, 3], [3, 5, 4]],
    ["amin", x.amin(0, true), [1, 3], [0, 1, 2]],
    ["max", nb.max(x, 1, true), [2, 1], [3, 5]],
    ["min", x.min(1, false), [2], [1, 0]],
    ["argmax", nb.argmax(x, 1, true), [2, 1], [0, 1]],
    ["argmin", x.argmin(1, true), [2, 1], [1, 0]],
    ["logsumexp", nb.logsumexp(nb.zeros([2, 4]), 1, true), [2, 1], [Math.fround(Math.log(4)), Math.fround(Math.log(4))]],
    ["sum method", x.sum(1, true), [2, 1], [6, 9]],
  ];
  for (const [name, r, shape, values] of cases) {
    assert.deepEqual(r.shape, shape, name);
    assert.deepEqual(Array.from(r.data), values, name);
  }
  throwsWith(() => nb.sum(x, 1, 1 as never), "sum: expected an options object { keepdim } here, got number 1");
});
