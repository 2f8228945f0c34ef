// PyTorch habits (issue 19, item 6): in-place updates with PyTorch's version-counter safety, advanced
// indexing by masks and integer tensors, printing as PyTorch prints (fixtures/printing.json, written by
// scripts/fixtures/printing.py with Debian's PyTorch), grad_fn names, summary with a batch dimension.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as nb from "../src/index.js";
import { fixturePath, throwsWith } from "./helpers.js";

const F = nb.nn.functional;

test("printing equals PyTorch's str(tensor) for every fixture case", () => {
  const { cases } = JSON.parse(readFileSync(fixturePath("printing.json"), "utf8"));
  for (const c of cases as { name: string; dtype: nb.DType; shape: number[]; data: (number | string)[]; str: string }[]) {
    const data = c.data.map((v) => (typeof v === "string" ? { nan: NaN, inf: Infinity, "-inf": -Infinity }[v]! : v));
    const t = nb.tensor(data, { dtype: c.dtype }).reshape(c.shape);
    assert.equal(String(t), c.str, c.name);
  }
});

test("grad_fn names as PyTorch's", () => {
  const x = nb.randn([2, 3], { requiresGrad: true });
  const c = nb.tensor([0, 2], { dtype: "int32" });
  const w = nb.randn([4, 3]),
    b = nb.randn([4]);
  const names: [nb.Tensor, string][] = [
    [F.crossEntropy(x, c), "NllLossBackward0"],
    [F.nllLoss(F.logSoftmax(x, 1), c), "NllLossBackward0"],
    [F.mseLoss(x, nb.zeros([2, 3])), "MseLossBackward0"],
    [F.linear(x, w, b), "AddmmBackward0"],
    [F.softmax(x, 1), "SoftmaxBackward0"],
    [F.logSoftmax(x, 1), "LogSoftmaxBackward0"],
    [x.relu(), "ReluBackward0"],
    [x.mean(), "MeanBackward0"],
    [x.add(1), "AddBackward0"],
    [x.exp(), "ExpBackward0"],
    [x.double(), "ToCopyBackward0"],
  ];
  for (const [t, name] of names) assert.ok(String(t).includes(`grad_fn=<${name}>`), `${String(t)} should name ${name}`);
  assert.ok(String(x).endsWith(", requires_grad=True)"));
});

test("in-place updates: values, chaining, broadcasting, dtype rules", () => {
  const x = nb.tensor([1, 2, 3]);
  assert.equal(x.add_(1).mul_(2), x);
  assert.deepEqual(x.toArray(), [4, 6, 8]);
  x.sub_(nb.tensor([1, 1, 1]), 2).div_(2);
  assert.deepEqual(x.toArray(), [1, 2, 3]);
  x.add_(nb.tensor([10, 20, 30]), { alpha: 0.5 });
  assert.deepEqual(x.toArray(), [6, 12, 18]);
  x.clamp_(7, 15);
  assert.deepEqual(x.toArray(), [7, 12, 15]);
  x.clamp_({ max: 10 }).neg_();
  assert.deepEqual(x.toArray(), [-7, -10, -10]);
  const m = nb.zeros([2, 3]);
  m.copy_(nb.tensor([1, 2, 3]));
  assert.deepEqual(m.toArray(), [
    [1, 2, 3],
    [1, 2, 3],
  ]);
  m.fill_(5);
  assert.deepEqual(m.toArray()[1], [5, 5, 5]);
  m.zero_();
  assert.deepEqual(m.toArray()[0], [0, 0, 0]);
  const i = nb.tensor([1, 2], { dtype: "int32" });
  i.copy_(nb.tensor([3.7, -2.2])); // truncation toward zero, as PyTorch's copy_ into an integer tensor
  assert.deepEqual(i.toArray(), [3, -2]);
  throwsWith(() => i.mul_(0.5), "mul_: the result is float32 and cannot be written in place into an int32 tensor");
  throwsWith(
    () => x.add_(nb.zeros([2, 3])),
    "add_: the result has shape [2, 3], which cannot be written in place into a tensor of shape [3]",
  );
  throwsWith(() => x.add_(1, "two" as never), "add_: alpha must be a number or { alpha: number }");
  throwsWith(() => x.add_(1, { alpah: 2 } as never), "add_: alpha must be a number or { alpha: number }");
});

test("in-place on tensors in autograd: PyTorch's errors, and a stale graph fails in backward", () => {
  const w = nb.randn([3], { requiresGrad: true });
  throwsWith(
    () => w.add_(1),
    "add_: a leaf tensor that requires grad cannot be changed in place while gradients are recorded",
    "nb.noGrad",
  );
  const y = w.mul(2);
  throwsWith(() => y.zero_(), "zero_: the tensor was computed in the recorded graph (grad_fn=<MulBackward0>)");
  throwsWith(() => nb.zeros([3]).add_(w), "add_: an operand requires grad");
  // a manual SGD step under noGrad, as in PyTorch
  const before = Array.from(w.data);
  w.mul(w).sum().backward();
  nb.noGrad(() => w.sub_(w.grad!, 0.1));
  w.data.forEach((v, k) => assert.ok(Math.abs(v - Math.fround(before[k] - 0.1 * 2 * before[k])) < 1e-6));
  // a value the graph needs, changed after it was used: backward refuses (PyTorch's version counter)
  const a = nb.randn([3], { requiresGrad: true });
  const data = nb.tensor([1, 2, 3]);
  const loss = a.mul(data).sum();
  data.mul_(10);
  throwsWith(() => loss.backward(), "backward: input 1 of 'mul'", "modified by an in-place operation", "version 1", "version 0");
  // the same through a shared storage (detach() shares it): the version belongs to the storage
  const p = nb.randn([3], { requiresGrad: true });
  const q = p.exp();
  const l2 = q.sum();
  nb.noGrad(() => q.detach().add_(1));
  throwsWith(() => l2.backward(), "modified by an in-place operation");
  // changing a value before it is used is fine
  const r = nb.randn([3], { requiresGrad: true });
  const d2 = nb.tensor([1, 2, 3]).mul_(2);
  r.mul(d2).sum().backward();
  assert.deepEqual(Array.from(r.grad!.data), [2, 4, 6]);
});

test("indexing by a 0/1 mask and by integer tensors, with gradients", () => {
  const x = nb.tensor([
    [1, -2, 3],
    [-4, 5, -6],
  ]);
  assert.deepEqual(x.index(x.gt(0)).toArray(), [1, 3, 5]);
  assert.deepEqual(x.index([false, true]).toArray(), [[-4, 5, -6]]);
  assert.deepEqual(x.index(nb.tensor([1, 0, 1], { dtype: "int32" })).toArray(), [
    [-4, 5, -6],
    [1, -2, 3],
    [-4, 5, -6],
  ]);
  assert.deepEqual(x.index(nb.tensor([[-1]], { dtype: "int32" })).shape, [1, 1, 3]);
  assert.deepEqual(x.indexSelect(1, nb.tensor([2, 0], { dtype: "int32" })).toArray(), [
    [3, 1],
    [-6, -4],
  ]);
  const w = nb.tensor([1, 2, 3, 4], { requiresGrad: true });
  w.index(nb.tensor([0, 0, 3], { dtype: "int32" }))
    .sum()
    .backward();
  assert.deepEqual(Array.from(w.grad!.data), [2, 0, 0, 1]);
  const v = nb.tensor([1, -2, 3], { requiresGrad: true });
  v.index(v.gt(0))
    .mul(nb.tensor([10, 100]))
    .sum()
    .backward();
  assert.deepEqual(Array.from(v.grad!.data), [10, 0, 100]);
  throwsWith(() => x.index(nb.tensor([0.5, 1])), "a float tensor index must be a 0/1 mask", "element 0 is 0.5");
  throwsWith(() => x.index(nb.tensor([1, 0, 1])), "the mask's shape [3] must match the leading dimensions", "[2, 3]");
  throwsWith(() => x.index(nb.tensor([2], { dtype: "int32" })), "index 2 is out of bounds for dimension 0 with size 2");
});

test("summary takes torchinfo's input size with the batch dimension, or the old one without", () => {
  const m = nb.models.lenet5();
  const a = nb.summary(m, [1, 1, 28, 28]),
    b = nb.summary(m, [1, 28, 28]);
  assert.equal(a.totalMacs, b.totalMacs);
  assert.deepEqual(a.layers.at(-1)!.outputShape, [1, 10]);
  const c = nb.summary(m, [4, 1, 28, 28]);
  assert.deepEqual(c.layers.at(-1)!.outputShape, [4, 10]);
  assert.equal(c.totalMacs, 4 * a.totalMacs); // torchinfo counts the whole batch
  assert.ok(c.text.startsWith("LeNet5, input [4, 1, 28, 28]") || c.text.includes("input [4, 1, 28, 28]"));
  const mlp = new nb.nn.Sequential(new nb.nn.Linear(8, 4), new nb.nn.ReLU(), new nb.nn.Linear(4, 2));
  assert.deepEqual(nb.summary(mlp, [3, 8]).layers.at(-1)!.outputShape, [3, 2]);
  assert.deepEqual(nb.summary(mlp, [8]).layers.at(-1)!.outputShape, [1, 2]);
  throwsWith(() => nb.summary(mlp, "8" as never), "summary: inputShape must be an array of positive integers");
});

test("forward pre-hooks replace inputs, forward hooks replace outputs, both removable, fusion off while hooked", () => {
  const lin = new nb.nn.Linear(2, 2);
  nb.noGrad(() => {
    lin.weight.copy_(nb.eye(2));
    lin.bias!.zero_();
  });
  const seen: number[][] = [];
  const pre = lin.registerForwardPreHook((_m, inputs) => [(inputs[0] as nb.Tensor).mul(10)]);
  const post = lin.registerForwardHook((_m, inputs, out) => {
    seen.push(Array.from((inputs[0] as nb.Tensor).data));
    return out.add(1);
  });
  assert.deepEqual(lin.forward(nb.tensor([[1, 2]])).toArray(), [[11, 21]]);
  assert.deepEqual(seen, [[10, 20]]);
  assert.ok(lin.hasForwardHooks());
  pre.remove();
  assert.deepEqual(lin.forward(nb.tensor([[1, 2]])).toArray(), [[2, 3]]);
  post.remove();
  assert.equal(lin.hasForwardHooks(), false);
  assert.deepEqual(lin.forward(nb.tensor([[1, 2]])).toArray(), [[1, 2]]);
  const bad = lin.registerForwardPreHook(() => 5 as never);
  throwsWith(() => lin.forward(nb.tensor([[1, 2]])), "Linear: a forward pre-hook must return an array of inputs or nothing");
  bad.remove();
  throwsWith(() => lin.registerForwardHook("x" as never), "Linear: a forward hook must be a function");
});
