// Every op against PyTorch 1.13: outputs and input gradients from fixtures/ops.json (scripts/fixtures/ops.py).

import { test } from "node:test";
import * as nb from "../src/index.js";
import { fixturePath } from "./helpers.js";
import { TOL } from "./tolerances.js";

const F = nb.nn.functional;
type T = nb.Tensor;
interface Case {
  inputs: nb.testing.EncodedTensor[];
  output: nb.testing.EncodedTensor;
  gradOutput?: nb.testing.EncodedTensor;
  grads?: (nb.testing.EncodedTensor | null)[];
}
const fixture = nb.testing.loadJsonFixture<{ cases: Record<string, Case> }>(fixturePath("ops.json"));

/** The nabla side of every case in scripts/fixtures/ops.py, under the same name. */
const impl: Record<string, (...xs: T[]) => T> = {
  add: (a, b) => nb.add(a, b),
  add_broadcast: (a, b) => a.add(b),
  sub_broadcast: (a, b) => nb.sub(a, b),
  mul_broadcast: (a, b) => a.mul(b),
  div: (a, b) => nb.div(a, b),
  div_broadcast: (a, b) => a.div(b),
  mul_scalar: (a) => a.mul(2.5),
  neg: (a) => a.neg(),
  pow: (a, b) => nb.pow(a, b),
  pow_scalar: (a) => a.pow(3),
  exp: (a) => nb.exp(a),
  log: (a) => a.log(),
  sqrt: (a) => a.sqrt(),
  abs: (a) => a.abs(),
  sign: (a) => a.sign(),
  clamp: (a) => a.clamp({ min: -0.5, max: 0.7 }),
  clamp_min: (a) => nb.clamp(a, { min: 0.1 }),
  maximum: (a, b) => nb.maximum(a, b),
  minimum: (a, b) => nb.minimum(a, b),
  where: (c, a, b) => nb.where(c, a, b),
  relu: (a) => nb.relu(a),
  sigmoid: (a) => a.sigmoid(),
  tanh: (a) => a.tanh(),
  softmax: (a) => nb.softmax(a, 1),
  softmax_dim0: (a) => a.softmax(0),
  log_softmax: (a) => nb.logSoftmax(a, -1),
  log_softmax_large: (a) => a.logSoftmax(1),
  sum_all: (a) => a.sum(),
  sum_dim: (a) => a.sum(1),
  sum_dims_keepdim: (a) => a.sum([0, 2], { keepdim: true }),
  mean_dims: (a) => a.mean([0, 2]),
  mean_all: (a) => nb.mean(a),
  var_unbiased: (a) => a.var(1),
  var_biased_dims: (a) => nb.var(a, [0, 2], { unbiased: false, keepdim: true }),
  var_all: (a) => a.var(),
  max_dim: (a) => a.max(2),
  max_dim_keepdim: (a) => a.max(0, { keepdim: true }),
  min_dim: (a) => nb.min(a, 1),
  max_all: (a) => a.max(),
  amax_dims: (a) => a.amax([0, 2]),
  argmax_dim: (a) => a.argmax(1),
  argmax_all: (a) => nb.argmax(a),
  matmul_2d: (a, b) => nb.matmul(a, b),
  matmul_batched: (a, b) => a.matmul(b),
  matmul_broadcast: (a, b) => nb.matmul(a, b),
  matmul_vec: (a, b) => nb.matmul(a, b),
  matmul_vecmat: (a, b) => nb.matmul(a, b),
  matmul_large: (a, b) => nb.matmul(a, b),
  reshape: (a) => a.reshape(4, -1).mul(nb.arange(15).float()),
  flatten: (a) => a.flatten(1),
  transpose: (a) => a.transpose(0, 2),
  permute: (a) => a.permute(1, 2, 0),
  squeeze_unsqueeze: (a) => a.squeeze(1).unsqueeze(0),
  expand: (a) => a.expand(2, 3, 4),
  cat: (a, b) => nb.cat([a, b], 1),
  stack: (a, b) => nb.stack([a, b], 1),
  split: (a) => {
    const p = nb.split(a, 3);
    return p[2].mul(2).add(p[0].index([0, 1]).sum());
  },
  narrow: (a) => a.narrow(2, 1, 3),
  index_slices: (a) => a.index(1, [1, 3], [null, null, 2]),
  index_negative: (a) => a.index(null, -1, [-3, null]),
  gather: (a, i) => a.gather(1, i),
  gather_dim0: (a, i) => nb.gather(a, 0, i),
  pad: (a) => F.pad(a, [1, 2, 0, 1]),
  pad_value_crop: (a) => F.pad(a, [-1, 2, 1, 0], { value: 1.5 }),
  conv2d: (a, w, b) => F.conv2d(a, w, { bias: b }),
  conv2d_stride2_pad: (a, w) => F.conv2d(a, w, { stride: 2, padding: 1 }),
  conv2d_dilation2: (a, w, b) => F.conv2d(a, w, { bias: b, padding: 2, dilation: 2 }),
  conv2d_groups2: (a, w, b) => F.conv2d(a, w, { bias: b, stride: [2, 1], padding: [1, 0], groups: 2 }),
  conv2d_depthwise: (a, w) => F.conv2d(a, w, { padding: 2, groups: 4 }),
  conv2d_same_even: (a, w) => F.conv2d(a, w, { padding: "same" }),
  conv2d_1x1: (a, w, b) => F.conv2d(a, w, { bias: b }),
  max_pool2d: (a) => F.maxPool2d(a, 2),
  max_pool2d_ceil_pad: (a) => F.maxPool2d(a, 3, { stride: 2, padding: 1, ceilMode: true }),
  max_pool2d_dilation: (a) => F.maxPool2d(a, 2, { stride: 1, dilation: 2 }),
  max_pool2d_ceil: (a) => F.maxPool2d(a, 2, { ceilMode: true }),
  avg_pool2d: (a) => F.avgPool2d(a, 2),
  avg_pool2d_pad: (a) => F.avgPool2d(a, 3, { stride: 2, padding: 1 }),
  avg_pool2d_pad_exclude: (a) => F.avgPool2d(a, 3, { stride: 2, padding: 1, countIncludePad: false }),
  avg_pool2d_ceil: (a) => F.avgPool2d(a, 2, { ceilMode: true }),
  avg_pool2d_ceil_pad: (a) => F.avgPool2d(a, 3, { stride: 2, padding: 1, ceilMode: true }),
  adaptive_avg_pool2d: (a) => F.adaptiveAvgPool2d(a, [3, 2]),
  adaptive_avg_pool2d_1: (a) => F.adaptiveAvgPool2d(a, 1),
};

const tolFor = (name: string) => (/matmul|conv|var|pool/.test(name) ? TOL.f32Reduce : TOL.f32);

test("every fixture case has a nabla implementation and vice versa", () => {
  const missing = Object.keys(fixture.cases).filter((k) => !(k in impl));
  const extra = Object.keys(impl).filter((k) => !(k in fixture.cases));
  if (missing.length || extra.length) throw new Error(`missing: ${missing.join(", ")}; not in fixture: ${extra.join(", ")}`);
});

for (const [name, c] of Object.entries(fixture.cases)) {
  test(`golden ${name}`, () => {
    const fn = impl[name];
    if (!fn) throw new Error(`no nabla implementation for fixture case ${name}`);
    const inputs = c.inputs.map((e) => nb.testing.decodeTensor(e, { requiresGrad: c.grads !== undefined && e.dtype !== "int32" }));
    const out = fn(...inputs);
    const tol = tolFor(name);
    nb.testing.assertClose(out, nb.testing.decodeTensor(c.output), { ...tol, msg: `${name} output` });
    if (c.gradOutput && c.grads) {
      out.backward(nb.testing.decodeTensor(c.gradOutput));
      c.grads.forEach((g, i) => {
        if (g === null) return;
        const got = inputs[i].grad;
        if (got === null) throw new Error(`${name}: input ${i} got no gradient`);
        nb.testing.assertClose(got, nb.testing.decodeTensor(g), { ...tol, msg: `${name} grad of input ${i}` });
      });
    }
  });
}
