// Every factory builds, runs forward and backward, and its loss falls over a few optimizer steps on a
// tiny synthetic task (four images, the smallest input each accepts; small-input variants where offered).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as nb from "../src/index.js";
import { zooCases as cases } from "./zoo_cases.js";

/** Cases trained with BatchNorm's batch statistics (final feature maps of at least 2×2). */
const BATCH_STATS = new Set(["lenet5", "convnet_bn", "resnet18 smallInput", "densenet121 smallInput", "vgg11_bn smallInput"]);

test("every model in the zoo has a training case", () => {
  assert.deepEqual([...new Set(Object.values(cases).map((c) => c[0]))].sort(), nb.models.list().sort());
});

for (const [name, [factory, opts, shape]] of Object.entries(cases)) {
  test(`${name} trains: forward, backward, loss decreases`, () => {
    nb.manualSeed(1);
    const model = nb.models.get(factory, { ...opts, numClasses: 3 });
    const x = nb.randn([4, ...shape]);
    const y = nb.tensor([0, 2, 1, 0], { dtype: "int32" });
    // Dropout off, so the function being minimized is the same at every step. At these minimal inputs the
    // ImageNet layouts end on a 1×1 grid, where BatchNorm's batch statistics over 4 values make the loss
    // wildly non-smooth (gradient norms ~1e6); there BatchNorm uses its running statistics, while the
    // small-input cases (final grids ≥ 2×2) train with batch statistics. Train-mode gradients of the deep
    // nets are checked against PyTorch in zoo.golden.test.ts.
    const smoothBn = !BATCH_STATS.has(name);
    for (const m of model.modules())
      if (m instanceof nb.nn.Dropout || (smoothBn && (m instanceof nb.nn.BatchNorm2d || m instanceof nb.nn.BatchNorm1d))) m.eval();
    const opt = new nb.optim.SGD(model.parameters(), { lr: 1e-3 });
    const withAux = model as unknown as {
      forwardWithAux?: (x: nb.Tensor) => { logits: nb.Tensor; aux1?: nb.Tensor | null; aux2?: nb.Tensor | null };
    };
    const losses: number[] = [];
    for (let step = 0; step < 4; step++) {
      opt.zeroGrad();
      const out = withAux.forwardWithAux ? withAux.forwardWithAux(x) : { logits: model.forward(x) };
      assert.deepEqual(out.logits.shape, [4, 3]);
      let loss = nb.nn.functional.crossEntropy(out.logits, y);
      // GoogLeNet's recipe: auxiliary classifiers weighted 0.3 during training
      for (const aux of [out.aux1, out.aux2]) if (aux) loss = loss.add(nb.nn.functional.crossEntropy(aux, y).mul(0.3));
      losses.push(nb.nn.functional.crossEntropy(out.logits, y).item());
      if (step === 3) break;
      loss.backward();
      // steps of length ≤ 1e-3 in parameter space: small enough that a correct gradient must lower the loss
      nb.nn.utils.clipGradNorm(model.parameters(), 1);
      const withGrad = model.parameters().filter((p) => p.grad !== null).length;
      assert.equal(withGrad, model.parameters().length, "every parameter receives a gradient");
      opt.step();
    }
    assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
    assert.ok(losses[3] < losses[0], `${name}: loss did not decrease: ${losses.map((l) => l.toFixed(4)).join(" → ")}`);
  });
}
