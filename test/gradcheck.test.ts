// gradcheck (float64 central differences) for every differentiable op, gradgradcheck for the ops a
// Hessian needs, and hessian/hvp against closed forms.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as nb from "../src/index.js";
import { onEveryBackend, r64 } from "./helpers.js";
import { TOL } from "./tolerances.js";
import { batchNormMaybeRelu } from "../src/ops/normalization.js";
import * as P from "../src/ops/prims.js";
import type { Prim } from "../src/ops/prims.js";

const F = nb.nn.functional;
const { gradcheck, gradgradcheck, assertClose } = nb.testing;
type T = nb.Tensor;

const pos = (shape: number[], seed: number) => r64(shape, seed, 0.3, 1.5); // values well away from 0
const idx = (data: number[][]) => nb.tensor(data, { dtype: "int32" });

/** name → [fn, inputs]; every differentiable op appears at least once. */
const cases: Record<string, [(...x: T[]) => T | T[], () => T[]]> = {
  add: [(a, b) => a.add(b), () => [r64([2, 3], 1), r64([3], 2)]],
  sub: [(a, b) => a.sub(b), () => [r64([2, 1], 1), r64([1, 3], 2)]],
  mul: [(a, b) => a.mul(b), () => [r64([2, 3], 1), r64([2, 1], 2)]],
  div: [(a, b) => a.div(b), () => [r64([2, 3], 1), pos([3], 2)]],
  neg: [(a) => a.neg(), () => [r64([4], 1)]],
  pow: [(a, b) => a.pow(b), () => [pos([2, 3], 1), r64([2, 3], 2)]],
  pow_scalar: [(a) => a.pow(3), () => [r64([5], 1)]],
  exp: [(a) => a.exp(), () => [r64([5], 1)]],
  log: [(a) => a.log(), () => [pos([5], 1)]],
  sqrt: [(a) => a.sqrt(), () => [pos([5], 1)]],
  rsqrt: [(a) => a.rsqrt(), () => [pos([5], 1)]],
  abs: [(a) => a.abs(), () => [pos([5], 1)]],
  clamp: [(a) => a.clamp({ min: -0.5, max: 0.5 }), () => [nb.tensor([-1, -0.3, 0.2, 0.9], { dtype: "float64", requiresGrad: true })]],
  maximum: [(a, b) => nb.maximum(a, b), () => [r64([3, 2], 1), r64([3, 2], 2)]],
  minimum: [(a, b) => nb.minimum(a, b), () => [r64([3, 2], 1), r64([2], 2)]],
  where: [(a, b) => nb.where(nb.gt(a, 0), a, b), () => [r64([2, 3], 1), r64([3], 2)]],
  relu: [(a) => a.relu(), () => [r64([6], 3)]],
  sigmoid: [(a) => a.sigmoid(), () => [r64([6], 1, 3)]],
  tanh: [(a) => a.tanh(), () => [r64([6], 1, 2)]],
  softplus: [(a) => F.softplus(a), () => [r64([6], 1, 3)]],
  softmax: [(a) => a.softmax(1), () => [r64([2, 4], 1)]],
  logSoftmax: [(a) => a.logSoftmax(0), () => [r64([3, 2], 1)]],
  logsumexp: [(a) => nb.logsumexp(a, 1), () => [r64([2, 4], 1)]],
  sum: [(a) => a.sum([0, 2]), () => [r64([2, 3, 2], 1)]],
  mean: [(a) => a.mean(1, { keepdim: true }), () => [r64([2, 3], 1)]],
  var: [(a) => a.var(1), () => [r64([2, 4], 1)]],
  std: [(a) => a.std(), () => [r64([5], 1)]],
  max: [(a) => a.max(1), () => [r64([3, 4], 1)]],
  min: [(a) => a.min(), () => [r64([3, 4], 1)]],
  amax: [(a) => a.amax([0, 2]), () => [r64([2, 3, 2], 1)]],
  matmul: [(a, b) => nb.matmul(a, b), () => [r64([2, 3], 1), r64([3, 4], 2)]],
  matmul_batched_broadcast: [(a, b) => nb.matmul(a, b), () => [r64([2, 1, 2, 3], 1), r64([3, 3, 2], 2)]],
  matmul_vec: [(a, b) => nb.matmul(a, b), () => [r64([3], 1), r64([2, 3, 2], 2)]],
  reshape: [(a) => a.reshape(3, 2).mul(nb.arange(6, undefined, 1, { dtype: "float64" }).reshape(3, 2)), () => [r64([2, 3], 1)]],
  permute: [(a) => a.permute(2, 0, 1), () => [r64([2, 3, 2], 1)]],
  transpose: [(a) => a.transpose(0, 1), () => [r64([2, 3], 1)]],
  expand: [(a) => a.expand(2, 3, 4), () => [r64([3, 1], 1)]],
  squeeze_unsqueeze: [(a) => a.squeeze().unsqueeze(2), () => [r64([2, 1, 3], 1)]],
  cat: [(a, b) => nb.cat([a, b], 1), () => [r64([2, 2], 1), r64([2, 3], 2)]],
  stack: [(a, b) => nb.stack([a, b]), () => [r64([2, 2], 1), r64([2, 2], 2)]],
  split: [(a) => nb.split(a, 2, 1), () => [r64([2, 5], 1)]],
  narrow: [(a) => a.narrow(1, 1, 2), () => [r64([2, 4], 1)]],
  index: [(a) => a.index([0, 3, 2], -1), () => [r64([4, 3], 1)]],
  gather: [
    (a) =>
      a.gather(
        1,
        idx([
          [0, 2],
          [1, 1],
        ]),
      ),
    () => [r64([2, 3], 1)],
  ],
  pad: [(a) => F.pad(a, [1, 2, 2, 0], { value: 0.5 }), () => [r64([2, 2], 1)]],
  conv2d: [
    (x, w, b) => F.conv2d(x, w, { bias: b, stride: 2, padding: 1, dilation: 1 }),
    () => [r64([2, 2, 5, 5], 1), r64([3, 2, 3, 3], 2), r64([3], 3)],
  ],
  conv2d_groups_dilation: [
    (x, w) => F.conv2d(x, w, { padding: 2, dilation: 2, groups: 2 }),
    () => [r64([1, 4, 5, 5], 1), r64([4, 2, 3, 3], 2)],
  ],
  maxPool2d: [(x) => F.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }), () => [r64([1, 2, 5, 5], 1)]],
  avgPool2d: [(x) => F.avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }), () => [r64([1, 2, 5, 5], 1)]],
  adaptiveAvgPool2d: [(x) => F.adaptiveAvgPool2d(x, [2, 3]), () => [r64([1, 2, 5, 4], 1)]],
  // primitives that no public op above reaches in its forward pass, called directly
  log1p: [(a) => P.unaryPrim("log1p", a), () => [pos([5], 1)]],
  sign: [(a) => P.unaryPrim("sign", a).add(a), () => [pos([4], 1)]],
  unslice: [(a) => P.unslicePrim(a, 1, 1, 2, 6).mul(r64([2, 6], 9).detach()), () => [r64([2, 3], 1)]],
  scatterAdd: [
    (a) =>
      P.scatterAddPrim(
        a,
        1,
        idx([
          [0, 2, 0],
          [1, 1, 2],
        ]),
        3,
      ),
    () => [r64([2, 3], 1)],
  ],
  im2col: [
    (x) => P.im2colPrim(x, { n: 1, c: 2, h: 4, w: 4, kh: 2, kw: 3, sh: 1, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1, oh: 5, ow: 2 }, 0),
    () => [r64([1, 2, 4, 4], 1)],
  ],
  col2im: [
    (c) => P.col2imPrim(c, { n: 1, c: 2, h: 4, w: 4, kh: 2, kw: 3, sh: 1, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1, oh: 5, ow: 2 }),
    () => [r64([1, 12, 10], 1)],
  ],
  conv2dBackwardInput: [
    (gy, w) =>
      P.conv2dBackwardInputPrim(gy, w, {
        n: 1,
        c: 2,
        h: 5,
        w: 5,
        kh: 3,
        kw: 3,
        sh: 2,
        sw: 2,
        ph: 1,
        pw: 1,
        dh: 1,
        dw: 1,
        oh: 3,
        ow: 3,
        o: 3,
        groups: 1,
      }),
    () => [r64([1, 3, 3, 3], 1), r64([3, 2, 3, 3], 2)],
  ],
  conv2dBackwardWeight: [
    (x, gy) =>
      P.conv2dBackwardWeightPrim(x, gy, {
        n: 1,
        c: 2,
        h: 5,
        w: 5,
        kh: 3,
        kw: 3,
        sh: 2,
        sw: 2,
        ph: 1,
        pw: 1,
        dh: 1,
        dw: 1,
        oh: 3,
        ow: 3,
        o: 3,
        groups: 1,
      }),
    () => [r64([1, 2, 5, 5], 1), r64([1, 3, 3, 3], 2)],
  ],
  batchNorm_training: [
    (x, w, b) => F.batchNorm(x, null, null, { weight: w, bias: b, training: true }).pow(2),
    () => [r64([2, 3, 2, 2], 1), r64([3], 2), r64([3], 3)],
  ],
};

/**
 * The cases that check each primitive's backward rule, keyed by primitive: a primitive added to PrimAttrs
 * without an entry here fails to compile, and an entry naming no case fails below.
 */
const casesOf: { [P in Prim]: string[] } = {
  neg: ["neg"],
  exp: ["exp"],
  log: ["log"],
  log1p: ["log1p"],
  sqrt: ["sqrt"],
  abs: ["abs"],
  sign: ["sign"],
  relu: ["relu"],
  sigmoid: ["sigmoid"],
  tanh: ["tanh"],
  softplus: ["softplus"],
  add: ["add"],
  sub: ["sub"],
  mul: ["mul"],
  div: ["div"],
  pow: ["pow"],
  maximum: ["maximum"],
  minimum: ["minimum"],
  clamp: ["clamp"],
  where: ["where"],
  cast: [],
  sum: ["sum"],
  maxDim: ["max"],
  reshape: ["reshape"],
  permute: ["permute"],
  expand: ["expand"],
  slice: ["narrow"],
  unslice: ["unslice"],
  pad: ["pad"],
  cat: ["cat"],
  gather: ["gather"],
  scatterAdd: ["scatterAdd"],
  matmul: ["matmul", "matmul_batched_broadcast"],
  im2col: ["im2col"],
  col2im: ["col2im"],
  conv2d: ["conv2d", "conv2d_groups_dilation"],
  conv2dBackwardInput: ["conv2dBackwardInput"],
  conv2dBackwardWeight: ["conv2dBackwardWeight"],
  batchNorm: ["batchNorm_training"],
};

test("every primitive's backward rule has a gradcheck case (cast: its own test below)", () => {
  for (const [prim, names] of Object.entries(casesOf)) {
    for (const n of names) assert.ok(n in cases, `${prim}: no gradcheck case named ${n}`);
    if (prim !== "cast") assert.ok(names.length > 0, `${prim} has no gradcheck case`);
  }
});

for (const [name, [fn, make]] of Object.entries(cases)) {
  test(`gradcheck ${name}`, () => {
    assert.equal(gradcheck(fn, make(), TOL.gradcheck), true);
  });
}

test("gradcheck cast through float32 (a step exactly representable in float32)", () => {
  const x = nb.tensor([0.5, 0.25], { dtype: "float64", requiresGrad: true });
  assert.equal(
    gradcheck((a) => a.float().mul(3).double(), [x], { ...TOL.gradcheck, eps: 2 ** -6 }),
    true,
  );
});

test("gradcheck random-projection mode on a big conv", () => {
  const x = r64([2, 3, 12, 12], 1),
    w = r64([4, 3, 3, 3], 2);
  assert.equal(
    gradcheck((a, b) => F.conv2d(a, b, { padding: 1 }), [x, w], { ...TOL.gradcheck, randomProjections: 3 }),
    true,
  );
});

test("gradcheck batch norm with fixed (running) statistics", () => {
  const rm = nb.tensor([0.1, -0.2, 0.3], { dtype: "float64" }),
    rv = nb.tensor([0.5, 2, 1.5], { dtype: "float64" });
  assert.equal(
    gradcheck((x, w, b) => F.batchNorm(x, rm, rv, { weight: w, bias: b }).pow(2), [r64([2, 3, 2, 2], 1), r64([3], 2), r64([3], 3)]),
    true,
  );
});

test("batch norm: the fused backward kernel equals the differentiable rebuild (createGraph) in float32", () => {
  const g = new nb.Generator(5);
  for (const shape of [
    [16, 8, 6, 6],
    [32, 12],
  ]) {
    const x = nb.randn(shape, { generator: g }).mul(3).add(1),
      w = nb.randn([shape[1]], { generator: g }),
      b = nb.randn([shape[1]], { generator: g });
    const up = nb.randn(shape, { generator: g });
    for (const training of [true, false]) {
      const rm = nb.randn([shape[1]], { generator: g }),
        rv = nb.rand([shape[1]], { generator: g }).add(0.5);
      const grads = (createGraph: boolean) => {
        const xi = x.detach().requiresGrad_(),
          wi = w.detach().requiresGrad_(),
          bi = b.detach().requiresGrad_();
        const y = F.batchNorm(xi, rm.clone(), rv.clone(), { weight: wi, bias: bi, training });
        return nb.autograd.grad(y.mul(up).sum(), [xi, wi, bi], { createGraph });
      };
      const fused = grads(false),
        rebuilt = grads(true);
      fused.forEach((t, i) => assertClose(t, rebuilt[i], { rtol: 1e-4, atol: 1e-4, msg: `${shape} training=${training} grad ${i}` }));
    }
  }
});

test("batch norm with a fused ReLU equals relu(batchNorm): values, gradients (kernel and createGraph rebuild), running statistics; on every backend", () => {
  const g = new nb.Generator(8);
  onEveryBackend((backend) => {
    for (const dtype of ["float32", "float64"] as const) {
      for (const shape of [
        [16, 8, 6, 6],
        [32, 12],
      ]) {
        const c = shape[1];
        const x = nb.randn(shape, { generator: g, dtype }).mul(2),
          w = nb.randn([c], { generator: g, dtype }),
          b = nb.randn([c], { generator: g, dtype });
        const up = nb.randn(shape, { generator: g, dtype });
        for (const training of [true, false]) {
          const rm0 = nb.randn([c], { generator: g, dtype }),
            rv0 = nb.rand([c], { generator: g, dtype }).add(0.5);
          const run = (fused: boolean, createGraph: boolean) => {
            const xi = x.detach().requiresGrad_(),
              wi = w.detach().requiresGrad_(),
              bi = b.detach().requiresGrad_();
            const rm = rm0.clone(),
              rv = rv0.clone(),
              opts = { weight: wi, bias: bi, training };
            const y = fused ? batchNormMaybeRelu(xi, rm, rv, opts, true) : F.batchNorm(xi, rm, rv, opts).relu();
            return [y.detach(), ...nb.autograd.grad(y.mul(up).sum(), [xi, wi, bi], { createGraph }), rm, rv];
          };
          const ref = run(false, false),
            tol = dtype === "float32" ? { rtol: 1e-5, atol: 1e-5 } : { rtol: 1e-12, atol: 1e-12 };
          for (const createGraph of [false, true]) {
            run(true, createGraph).forEach((t, i) =>
              assertClose(t, ref[i], {
                ...(i === 0 || i >= 4 ? { rtol: 0, atol: 0 } : tol),
                msg: `${backend} ${dtype} ${shape} training=${training} createGraph=${createGraph} output ${i}`,
              }),
            );
          }
        }
      }
    }
  });
});

test("gradcheck detects a wrong backward rule", () => {
  // A function whose recorded gradient is deliberately wrong: x·stop(x) has gradient x, not 2x.
  const x = r64([3], 1);
  assert.throws(() => gradcheck((a) => a.mul(a.detach()), [x]), /Jacobian mismatch/);
});

/** Second derivatives: the ops that Hessians of MLPs with tanh / sigmoid / softplus-like losses need. */
const ggCases: Record<string, [(...x: T[]) => T, () => T[]]> = {
  mul_add: [(a, b) => a.mul(b).add(a), () => [r64([3], 1), r64([3], 2)]],
  div: [(a, b) => a.div(b), () => [r64([3], 1), pos([3], 2)]],
  exp_log: [(a) => a.exp().add(1).log(), () => [r64([4], 1)]],
  pow: [(a) => a.pow(3), () => [r64([4], 1)]],
  sqrt: [(a) => a.sqrt(), () => [pos([4], 1)]],
  tanh: [(a) => a.tanh(), () => [r64([4], 1)]],
  sigmoid: [(a) => a.sigmoid(), () => [r64([4], 1)]],
  softplus: [(a) => F.softplus(a), () => [r64([4], 1)]],
  logSoftmax: [(a) => a.logSoftmax(1), () => [r64([2, 3], 1)]],
  sum_mean: [(a) => a.mul(a).mean(0), () => [r64([3, 2], 1)]],
  matmul: [(a, b) => nb.matmul(a, b).tanh(), () => [r64([2, 3], 1), r64([3, 2], 2)]],
  mlp: [(x, w1, w2) => nb.matmul(nb.matmul(x, w1).tanh(), w2).sigmoid().sum(), () => [r64([3, 2], 1), r64([2, 4], 2), r64([4, 1], 3)]],
  conv2d: [(x, w) => F.conv2d(x, w, { padding: 1 }).tanh(), () => [r64([1, 1, 4, 4], 1), r64([2, 1, 3, 3], 2)]],
  // batch norm's backward is one fused kernel; recorded (createGraph), it is rebuilt from differentiable ops
  batchNorm_train: [
    (x, w, b) => F.batchNorm(x, null, null, { weight: w, bias: b, training: true }).tanh(),
    () => [r64([3, 2, 2], 1), r64([2], 2), r64([2], 3)],
  ],
  batchNorm_eval: [
    (x, w) => F.batchNorm(x, nb.tensor([0.1, -0.2], { dtype: "float64" }), nb.tensor([0.5, 2], { dtype: "float64" }), { weight: w }).tanh(),
    () => [r64([3, 2, 2], 1), r64([2], 2)],
  ],
  // with a fused ReLU (Sequential's BatchNorm → ReLU): the recorded backward masks g as relu's rule does
  batchNormRelu_train: [
    (x, w, b) => batchNormMaybeRelu(x, null, null, { weight: w, bias: b, training: true }, true).tanh(),
    () => [r64([3, 2, 2], 1), r64([2], 2), r64([2], 3)],
  ],
};

for (const [name, [fn, make]] of Object.entries(ggCases)) {
  test(`gradgradcheck ${name}`, () => {
    assert.equal(gradgradcheck(fn, make(), TOL.gradcheck), true);
  });
}

/** Rosenbrock f(x, y) = (1 − x)² + 100 (y − x²)². */
const rosen = (v: T) => {
  const x = v.index(0),
    y = v.index(1);
  return nb.add(nb.sub(1, x).pow(2), nb.sub(y, x.pow(2)).pow(2).mul(100));
};

test("hessian of Rosenbrock equals the analytic Hessian", () => {
  for (const [x, y] of [
    [-1.2, 1],
    [1, 1],
    [0.3, -0.7],
  ]) {
    const H = nb.autograd.functional.hessian(rosen, nb.tensor([x, y], { dtype: "float64" }));
    // ∂²f/∂x² = 2 − 400 (y − x²) + 800 x², ∂²f/∂x∂y = −400 x, ∂²f/∂y² = 200
    const expected = [
      [2 - 400 * (y - x * x) + 800 * x * x, -400 * x],
      [-400 * x, 200],
    ];
    assertClose(H, expected, { ...TOL.f64, msg: `H at (${x}, ${y})` });
  }
});

test("hvp equals Hessian times vector (closed form) without forming the Hessian", () => {
  const x = -1.2,
    y = 1;
  const v = nb.tensor([0.3, -2], { dtype: "float64" });
  const [f, hv] = nb.autograd.functional.hvp(rosen, nb.tensor([x, y], { dtype: "float64" }), v);
  assertClose(f, (1 - x) ** 2 + 100 * (y - x * x) ** 2, TOL.f64);
  const H = [
    [2 - 400 * (y - x * x) + 800 * x * x, -400 * x],
    [-400 * x, 200],
  ];
  assertClose(hv, [H[0][0] * 0.3 + H[0][1] * -2, H[1][0] * 0.3 + H[1][1] * -2], TOL.f64);
});

test("hessian of a quadratic form ½xᵀAx is the symmetric part of A", () => {
  const A = nb.tensor(
    [
      [2, 1, 0],
      [3, 4, 1],
      [0, 1, 5],
    ],
    { dtype: "float64" },
  );
  const H = nb.autograd.functional.hessian((x) => nb.matmul(x, nb.matmul(A, x)).mul(0.5), nb.tensor([1, -1, 2], { dtype: "float64" }));
  assertClose(H, nb.add(A, A.t()).mul(0.5), TOL.f64);
});

test("third derivative through createGraph twice", () => {
  const x = nb.tensor([2], { dtype: "float64", requiresGrad: true });
  const [g1] = nb.autograd.grad(x.pow(4).sum(), [x], { createGraph: true }); // 4x³ = 32
  const [g2] = nb.autograd.grad(g1.sum(), [x], { createGraph: true }); // 12x² = 48
  const [g3] = nb.autograd.grad(g2.sum(), [x]); // 24x = 48
  assertClose([g1.item(), g2.item(), g3.item()], [32, 48, 48], TOL.f64);
});

test("kinks: softplus and BCE-with-logits have their true derivative at exactly 0 (σ(0) = 1/2, as PyTorch)", () => {
  const x = nb.tensor([0, 0], { dtype: "float64", requiresGrad: true });
  F.softplus(x).sum().backward();
  assert.deepEqual(x.grad!.toArray(), [0.5, 0.5]);
  const z = nb.zeros([2], { requiresGrad: true });
  F.binaryCrossEntropyWithLogits(z, nb.tensor([1, 0]), { reduction: "sum" }).backward();
  assert.deepEqual(z.grad!.toArray(), [-0.5, 0.5]); // σ(0) − y
});
