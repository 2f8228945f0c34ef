// The autograd engine: accumulation, noGrad, detach, autograd.grad, deep chains, freed graphs.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as nb from "../src/index.js";
import { throwsWith } from "./helpers.js";

test("backward accumulates into .grad across calls", () => {
  const x = nb.tensor([1, 2, 3], { requiresGrad: true });
  x.mul(x).sum().backward();
  x.mul(3).sum().backward();
  assert.deepEqual(x.grad!.toArray(), [2 + 3, 4 + 3, 6 + 3]);
});

test("a tensor used twice gets both contributions", () => {
  const x = nb.tensor([2], { requiresGrad: true });
  const y = x.mul(x).add(x.exp()); // dy/dx = 2x + e^x
  y.sum().backward();
  assert.ok(Math.abs(x.grad!.item() - (4 + Math.exp(2))) < 1e-5);
});

test("noGrad records nothing; detach cuts the graph", () => {
  const x = nb.tensor([1, 2], { requiresGrad: true });
  const y = nb.noGrad(() => x.mul(2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
  const z = x.detach();
  assert.equal(z.requiresGrad, false);
  assert.equal(z.data, x.data);
  const w = x.mul(x.detach()).sum(); // gradient treats the detached factor as a constant
  w.backward();
  assert.deepEqual(x.grad!.toArray(), [1, 2]);
});

test("autograd.grad returns gradients without touching .grad", () => {
  const x = nb.tensor([1, 2], { requiresGrad: true });
  const w = nb.tensor([3, 4], { requiresGrad: true });
  const [gx, gw] = nb.autograd.grad(x.mul(w).sum(), [x, w]);
  assert.deepEqual(gx.toArray(), [3, 4]);
  assert.deepEqual(gw.toArray(), [1, 2]);
  assert.equal(x.grad, null);
});

test("autograd.grad with gradOutputs for a non-scalar output", () => {
  const x = nb.tensor([1, 2, 3], { requiresGrad: true });
  const [g] = nb.autograd.grad(x.pow(2), [x], { gradOutputs: nb.tensor([1, 0, 2]) });
  assert.deepEqual(g.toArray(), [2, 0, 12]);
});

test("a 1,000-layer chain (and a 20,000-op one) backpropagates without stack overflow", () => {
  const x = nb.tensor([[0.5, -0.25]], { dtype: "float64", requiresGrad: true });
  const w = nb.tensor(
    [
      [0.9, 0.1],
      [-0.1, 0.9],
    ],
    { dtype: "float64" },
  );
  let h = x;
  for (let i = 0; i < 1000; i++) h = nb.matmul(h, w).tanh();
  h.sum().backward();
  assert.ok(x.grad !== null && x.grad.toArray()[0].every((v: number) => Number.isFinite(v)));
  const y = nb.tensor([1], { dtype: "float64", requiresGrad: true });
  let z = y;
  for (let i = 0; i < 20000; i++) z = z.mul(1.0001);
  z.backward();
  assert.ok(Math.abs(y.grad!.item() - Math.pow(1.0001, 20000)) < 1e-9 * Math.pow(1.0001, 20000));
});

test("backward twice through a freed graph is rejected; retainGraph allows it", () => {
  const x = nb.tensor([1, 2], { requiresGrad: true });
  const y = x.exp().sum();
  y.backward();
  throwsWith(() => y.backward(), "backward through the graph a second time", "retainGraph");
  const z = x.exp().sum();
  z.backward(null, { retainGraph: true });
  z.backward();
  assert.ok(Math.abs(x.grad!.toArray()[0] - 3 * Math.E) < 1e-5);
});

test("backward on a non-scalar without a gradient is rejected", () => {
  const x = nb.tensor([1, 2], { requiresGrad: true });
  throwsWith(() => x.mul(2).backward(), "grad can be implicitly created only for scalar outputs", "[2]");
  throwsWith(() => x.mul(2).backward(nb.ones([3])), "gradient has shape [3]", "output has shape [2]");
  throwsWith(() => nb.tensor([1]).backward(), "does not require grad");
});

test("int32 tensors cannot require grad", () => {
  throwsWith(() => nb.tensor([1], { dtype: "int32", requiresGrad: true }), "only floating point tensors");
});

test("grad of an unused input: error, or zeros with allowUnused", () => {
  const x = nb.tensor([1], { requiresGrad: true });
  const y = nb.tensor([2], { requiresGrad: true });
  throwsWith(() => nb.autograd.grad(x.mul(2).sum(), [y]), "not used in the graph");
  const [g] = nb.autograd.grad(x.mul(2).sum(), [y], { allowUnused: true });
  assert.deepEqual(g.toArray(), [0]);
});
