// Layers and BatchNorm against PyTorch 1.13 (fixtures/layers.safetensors, batchnorm.safetensors from
// scripts/fixtures/nn.py): identical weights loaded through loadStateDict, outputs and all gradients.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as nb from "../src/index.js";
import { fixturePath } from "./helpers.js";
import { TOL } from "./tolerances.js";

const nn = nb.nn;
const { tensors: layerFx, metadata: layerMeta } = nb.io.loadSafetensorsFile(fixturePath("layers.safetensors"));
const trainFlags = JSON.parse(layerMeta.train) as Record<string, boolean>;

/** The nabla side of every layer in scripts/fixtures/nn.py. */
const layers: Record<string, () => nb.nn.Module> = {
  linear: () => new nn.Linear(5, 3),
  linear_nobias_3d: () => new nn.Linear(5, 3, { bias: false }),
  conv2d: () => new nn.Conv2d(3, 4, 3, { stride: 2, padding: 1 }),
  conv2d_groups_dilation: () => new nn.Conv2d(4, 6, 3, { padding: 2, dilation: 2, groups: 2 }),
  conv2d_same: () => new nn.Conv2d(3, 2, [3, 4], { padding: "same", bias: false }),
  conv2d_depthwise: () => new nn.Conv2d(4, 4, 3, { padding: 1, groups: 4 }),
  relu: () => new nn.ReLU(),
  leaky_relu: () => new nn.LeakyReLU(0.2),
  sigmoid: () => new nn.Sigmoid(),
  tanh: () => new nn.Tanh(),
  softmax: () => new nn.Softmax(1),
  log_softmax: () => new nn.LogSoftmax(1),
  max_pool2d: () => new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }),
  avg_pool2d: () => new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }),
  adaptive_avg_pool2d: () => new nn.AdaptiveAvgPool2d([2, 3]),
  flatten: () => new nn.Flatten(),
  identity: () => new nn.Identity(),
  dropout_eval: () => new nn.Dropout(0.5),
  lrn_odd: () => new nn.LocalResponseNorm(3, 1e-2, 0.75, 2),
  lrn_even: () => new nn.LocalResponseNorm(4),
  lrn_3d: () => new nn.LocalResponseNorm(5, 1e-1, 0.5, 1.5),
  sequential: () =>
    new nn.Sequential(
      new nn.Conv2d(2, 4, 3, { padding: 1 }),
      new nn.BatchNorm2d(4),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Flatten(),
      new nn.Linear(4 * 2 * 2, 3),
    ),
};

function group(fx: Record<string, nb.Tensor>, prefix: string): Record<string, nb.Tensor> {
  const out: Record<string, nb.Tensor> = {};
  for (const [k, v] of Object.entries(fx)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

test("every fixture layer has a nabla counterpart", () => {
  assert.deepEqual(Object.keys(trainFlags).sort(), Object.keys(layers).sort());
});

for (const [name, make] of Object.entries(layers)) {
  test(`layer ${name} matches PyTorch (output, input and parameter gradients)`, () => {
    const m = make();
    m.loadStateDict(group(layerFx, `${name}/state/`)); // strict: keys and shapes must be PyTorch's
    m.train(trainFlags[name]);
    const x = layerFx[`${name}/input`].detach().requiresGrad_();
    const y = m.forward(x);
    nb.testing.assertClose(y, layerFx[`${name}/output`], { ...TOL.f32Reduce, msg: `${name} output` });
    y.backward(layerFx[`${name}/grad_output`]);
    nb.testing.assertClose(x.grad!, layerFx[`${name}/grad_input`], { ...TOL.f32Reduce, msg: `${name} grad input` });
    const grads = group(layerFx, `${name}/grad/`);
    assert.deepEqual(
      m
        .namedParameters()
        .map((e) => e[0])
        .sort(),
      Object.keys(grads).sort(),
    );
    for (const [k, p] of m.namedParameters()) nb.testing.assertClose(p.grad!, grads[k], { ...TOL.f32Reduce, msg: `${name} grad ${k}` });
    const after = group(layerFx, `${name}/after/`);
    const sd = m.stateDict();
    for (const [k, v] of Object.entries(after)) nb.testing.assertClose(sd[k], v, { ...TOL.f32, msg: `${name} ${k} after the step` });
  });
}

const { tensors: bnFx } = nb.io.loadSafetensorsFile(fixturePath("batchnorm.safetensors"));
const bnCases: Record<string, [() => nb.nn.Module, number]> = {
  bn1d_2d_m01: [() => new nn.BatchNorm1d(4), 2],
  bn1d_3d_cumulative: [() => new nn.BatchNorm1d(4, { momentum: null }), 3],
  bn2d_m01: [() => new nn.BatchNorm2d(3), 4],
  bn2d_cumulative: [() => new nn.BatchNorm2d(3, { momentum: null, eps: 1e-3 }), 4],
  bn2d_m03_noaffine: [() => new nn.BatchNorm2d(3, { momentum: 0.3, affine: false }), 4],
  bn2d_notrack: [() => new nn.BatchNorm2d(3, { trackRunningStats: false }), 4],
};

for (const [name, [make]] of Object.entries(bnCases)) {
  test(`BatchNorm ${name}: five training steps then eval match PyTorch`, () => {
    const m = make();
    m.loadStateDict(group(bnFx, `${name}/init/`));
    for (let step = 0; step < 6; step++) {
      const p = `${name}/${step}/`;
      m.train(step < 5);
      m.zeroGrad();
      const x = bnFx[`${p}input`].detach().requiresGrad_();
      const y = m.forward(x);
      nb.testing.assertClose(y, bnFx[`${p}output`], { ...TOL.f32Reduce, msg: `${p}output` });
      y.backward(bnFx[`${p}grad_output`]);
      nb.testing.assertClose(x.grad!, bnFx[`${p}grad_input`], { ...TOL.f32Reduce, msg: `${p}grad_input` });
      const sd = m.stateDict();
      if (`${p}grad_weight` in bnFx) {
        nb.testing.assertClose(sd.weight.grad!, bnFx[`${p}grad_weight`], { ...TOL.f32Reduce, msg: `${p}grad_weight` });
        nb.testing.assertClose(sd.bias.grad!, bnFx[`${p}grad_bias`], { ...TOL.f32Reduce, msg: `${p}grad_bias` });
      }
      for (const k of ["running_mean", "running_var", "num_batches_tracked"]) {
        const expected = bnFx[`${p}${k}`];
        if (expected === undefined) {
          assert.equal(sd[k], undefined, `${k} must be absent`);
          continue;
        }
        nb.testing.assertClose(sd[k], expected, { ...TOL.f32, msg: `${p}${k}` });
      }
    }
  });
}

test("BatchNorm in training mode passes gradcheck (x, γ, β) in float64", () => {
  const g = new nb.Generator(5);
  const x = nb.randn([4, 3, 2, 2], { dtype: "float64", generator: g }).requiresGrad_();
  const w = nb.rand([3], { dtype: "float64", generator: g }).add(0.5).detach().requiresGrad_();
  const b = nb.randn([3], { dtype: "float64", generator: g }).requiresGrad_();
  const fn = (a: nb.Tensor, ww: nb.Tensor, bb: nb.Tensor) =>
    nn.functional.batchNorm(a, null, null, { weight: ww, bias: bb, training: true });
  assert.equal(nb.testing.gradcheck(fn, [x, w, b]), true);
  const x1 = nb.randn([5, 3], { dtype: "float64", generator: g }).requiresGrad_();
  assert.equal(
    nb.testing.gradcheck((a: nb.Tensor) => nn.functional.batchNorm(a, null, null, { training: true }).pow(2).mul(a), [x1]),
    true,
  );
});

test("BatchNorm backward equals the primer's closed form dx = γ/σ·(g − mean(g) − x̂·mean(g·x̂))", () => {
  const g0 = new nb.Generator(9);
  const x = nb.randn([6, 2], { dtype: "float64", generator: g0 }).mul(3).add(1).detach().requiresGrad_();
  const gamma = nb.tensor([0.7, 1.9], { dtype: "float64", requiresGrad: true });
  const beta = nb.tensor([0.1, -0.4], { dtype: "float64", requiresGrad: true });
  const up = nb.randn([6, 2], { dtype: "float64", generator: g0 });
  const y = nn.functional.batchNorm(x, null, null, { weight: gamma, bias: beta, training: true, eps: 1e-5 });
  y.backward(up);
  // Closed form, computed by hand in plain JS per feature.
  for (let c = 0; c < 2; c++) {
    const xs = [0, 1, 2, 3, 4, 5].map((i) => x.data[i * 2 + c]);
    const gs = [0, 1, 2, 3, 4, 5].map((i) => up.data[i * 2 + c]);
    const mu = xs.reduce((a, b) => a + b) / 6;
    const v = xs.reduce((a, b) => a + (b - mu) ** 2, 0) / 6;
    const sigma = Math.sqrt(v + 1e-5);
    const xhat = xs.map((xi) => (xi - mu) / sigma);
    const mg = gs.reduce((a, b) => a + b) / 6;
    const mgx = gs.reduce((a, gi, i) => a + gi * xhat[i], 0) / 6;
    const dx = gs.map((gi, i) => (gamma.data[c] / sigma) * (gi - mg - xhat[i] * mgx));
    nb.testing.assertClose(
      [0, 1, 2, 3, 4, 5].map((i) => x.grad!.data[i * 2 + c]),
      dx,
      { ...TOL.f64, rtol: 1e-9, msg: `dx feature ${c}` },
    );
    nb.testing.assertClose(
      gamma.grad!.data[c],
      gs.reduce((a, gi, i) => a + gi * xhat[i], 0),
      { ...TOL.f64, rtol: 1e-9 },
    );
    nb.testing.assertClose(
      beta.grad!.data[c],
      gs.reduce((a, b) => a + b),
      { ...TOL.f64, rtol: 1e-9 },
    );
  }
});
