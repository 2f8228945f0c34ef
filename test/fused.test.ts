// Every fused kernel of every backend against the composite of primitives it replaces (backend.fused):
// ReLU's backward against g·step(y), the batch-norm affine (with and without its ReLU) and backward against
// batch norm written with plain ops and autograd in float64, and each optimizer update against its update
// rule written with tensor ops (torch.optim's formulas, 1.13) in float64.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as nb from "../src/index.js";
import { onBackend as on } from "./helpers.js";

const F = nb.nn.functional;
const f64 = { dtype: "float64" as const };

/** A tensor with the backend's kernel output written into fresh storage of the given shape. */
const tensorOf = (data: nb.TypedArray, shape: number[]) => new nb.Tensor(data, shape);

for (const name of nb.backend.listBackends()) {
  const be = () => nb.backend.getBackend().fused;

  test(`${name} fused.reluBackward equals g·step(y) exactly (ties at 0, NaN, large tensors)`, () =>
    on(name, () => {
      const g = nb.randn([5000], { generator: new nb.Generator(1) }),
        y = nb.randn([5000], { generator: new nb.Generator(2) }).relu();
      y.data[3] = Number.NaN;
      y.data[4] = -0;
      const out = new Float32Array(5000);
      be().reluBackward(g.data, y.data, out);
      nb.testing.assertClose(tensorOf(out, [5000]), g.mul(nb.gt(y, 0)), { rtol: 0, atol: 0 });
    }));

  test(`${name} fused.channelAffine equals x·scale + shift (then relu) per channel`, () =>
    on(name, () => {
      const [n, c, inner] = [3, 5, 700];
      const x = nb.randn([n, c, inner], { generator: new nb.Generator(3), dtype: "float64" });
      const scale = Float64Array.from({ length: c }, (_, i) => 0.5 - i * 0.3),
        shift = Float64Array.from({ length: c }, (_, i) => i - 2);
      const composite = x
        .mul(nb.tensor(Array.from(scale), f64).reshape([1, c, 1]))
        .add(nb.tensor(Array.from(shift), f64).reshape([1, c, 1]));
      for (const relu of [false, true]) {
        const out = new Float64Array(n * c * inner);
        be().channelAffine(x.data, n, c, inner, scale, shift, out, relu);
        nb.testing.assertClose(tensorOf(out, [n, c, inner]), relu ? composite.relu() : composite, {
          rtol: 1e-15,
          atol: 1e-15,
          msg: `relu ${relu}`,
        });
      }
    }));

  test(`${name} fused.batchNormBackward equals autograd through batch norm written with plain ops (training, fixed statistics, fused ReLU)`, () =>
    on(name, () => {
      const [n, c, inner] = [4, 3, 300];
      const gen = new nb.Generator(4);
      const x = nb.randn([n, c, inner], { generator: gen, dtype: "float64" }),
        w = nb.randn([c], { generator: gen, dtype: "float64" });
      const gy = nb.randn([n, c, inner], { generator: gen, dtype: "float64" });
      const eps = 1e-5;
      for (const [training, relu] of [
        [true, false],
        [true, true],
        [false, false],
        [false, true],
      ] as const) {
        const xs = x.clone().requiresGrad_(),
          ws = w.clone().requiresGrad_(),
          bs = nb.zeros([c], f64).requiresGrad_();
        const runMean = nb.tensor([0.1, -0.2, 0.3], f64),
          runVar = nb.tensor([1.5, 0.5, 2], f64);
        // the composite: x̂ = (x − μ)/√(σ² + ε) with batch (biased) or fixed statistics, y = γ·x̂ + β (then relu)
        const mu = training ? xs.mean([0, 2], { keepdim: true }) : runMean.reshape([1, c, 1]);
        const v = training ? xs.sub(mu).pow(2).mean([0, 2], { keepdim: true }) : runVar.reshape([1, c, 1]);
        let y = xs
          .sub(mu)
          .div(v.add(eps).sqrt())
          .mul(ws.reshape([1, c, 1]))
          .add(bs.reshape([1, c, 1]));
        if (relu) y = y.relu();
        y.mul(gy).sum().backward();
        // the kernel, given the same statistics
        const mean = new Float64Array(c),
          invstd = new Float64Array(c),
          scale = new Float64Array(c);
        for (let ch = 0; ch < c; ch++) {
          mean[ch] = mu.data[ch];
          invstd[ch] = 1 / Math.sqrt(v.data[ch] + eps);
          scale[ch] = invstd[ch] * w.data[ch];
        }
        const yOut = new Float64Array(n * c * inner);
        be().channelAffine(
          x.data,
          n,
          c,
          inner,
          scale,
          Float64Array.from(mean, (m, ch) => -m * scale[ch]),
          yOut,
          relu,
        );
        const gx = new Float64Array(n * c * inner),
          sumG = new Float64Array(c),
          sumGXhat = new Float64Array(c);
        be().batchNormBackward(gy.data, x.data, n, c, inner, mean, invstd, scale, training, gx, sumG, sumGXhat, relu ? yOut : null);
        const msg = `training ${training}, relu ${relu}`;
        nb.testing.assertClose(tensorOf(gx, [n, c, inner]), xs.grad!, { rtol: 1e-9, atol: 1e-12, msg: `gx, ${msg}` });
        nb.testing.assertClose(tensorOf(sumGXhat, [c]), ws.grad!, { rtol: 1e-9, atol: 1e-12, msg: `gγ, ${msg}` });
        nb.testing.assertClose(tensorOf(sumG, [c]), bs.grad!, { rtol: 1e-9, atol: 1e-12, msg: `gβ, ${msg}` });
      }
    }));

  test(`${name} fused optimizer updates equal their update rules written with tensor ops (float64, three steps)`, () =>
    on(name, () => {
      const gen = new nb.Generator(5);
      const p0 = nb.randn([40, 30], { generator: gen, dtype: "float64" });
      const grads = [0, 1, 2].map(() => nb.randn([40, 30], { generator: gen, dtype: "float64" }));
      const zeros = () => nb.zerosLike(p0);
      type Rule = {
        name: string;
        kernel: (p: nb.Tensor, g: nb.Tensor, t: number) => void;
        composite: (p: nb.Tensor, g: nb.Tensor, t: number) => nb.Tensor;
      };
      const rules: Rule[] = [];
      {
        const [lr, b1, b2, eps, wd] = [1e-2, 0.9, 0.999, 1e-8, 0.1];
        let m = zeros(),
          v = zeros(),
          mc = zeros(),
          vc = zeros();
        rules.push({
          name: "adam (L2)",
          kernel: (p, g, t) =>
            be().adamUpdate(p.data, g.data, m.data, v.data, null, {
              lr,
              beta1: b1,
              beta2: b2,
              eps,
              weightDecay: wd,
              step: t,
              decoupled: false,
              maximize: false,
            }),
          composite: (p, g, t) => {
            const d = g.add(p.mul(wd));
            mc = mc.mul(b1).add(d.mul(1 - b1));
            vc = vc.mul(b2).add(d.mul(d).mul(1 - b2));
            return p.sub(
              mc
                .div(
                  vc
                    .sqrt()
                    .div(Math.sqrt(1 - b2 ** t))
                    .add(eps),
                )
                .mul(lr / (1 - b1 ** t)),
            );
          },
        });
      }
      {
        const [lr, mu, wd] = [0.1, 0.9, 0.01];
        let buf = zeros(),
          bc: nb.Tensor | null = null;
        rules.push({
          name: "sgd (nesterov)",
          kernel: (p, g, t) =>
            be().sgdUpdate(p.data, g.data, buf.data, {
              lr,
              momentum: mu,
              dampening: 0,
              weightDecay: wd,
              nesterov: true,
              maximize: false,
              first: t === 1,
            }),
          composite: (p, g) => {
            const d = g.add(p.mul(wd));
            bc = bc === null ? d : bc.mul(mu).add(d);
            return p.sub(d.add(bc.mul(mu)).mul(lr));
          },
        });
      }
      {
        const [lr, alpha, eps, wd, mu] = [1e-2, 0.99, 1e-8, 0.1, 0.9];
        const v = zeros(),
          ga = zeros(),
          buf = zeros();
        let vc = zeros(),
          gc = zeros(),
          bc = zeros();
        rules.push({
          name: "rmsprop (centered, momentum)",
          kernel: (p, g) =>
            be().rmspropUpdate(p.data, g.data, v.data, ga.data, buf.data, {
              lr,
              alpha,
              eps,
              weightDecay: wd,
              momentum: mu,
              maximize: false,
            }),
          composite: (p, g) => {
            const d = g.add(p.mul(wd));
            vc = vc.mul(alpha).add(d.mul(d).mul(1 - alpha));
            gc = gc.mul(alpha).add(d.mul(1 - alpha));
            bc = bc.mul(mu).add(d.div(vc.sub(gc.mul(gc)).sqrt().add(eps)));
            return p.sub(bc.mul(lr));
          },
        });
      }
      {
        const [lr, decay, eps, wd] = [0.1, 0.01, 1e-10, 0.1];
        const s = nb.fullLike(p0, 0.1);
        let sc = nb.fullLike(p0, 0.1);
        rules.push({
          name: "adagrad",
          kernel: (p, g, t) =>
            be().adagradUpdate(p.data, g.data, s.data, { clr: lr / (1 + (t - 1) * decay), eps, weightDecay: wd, maximize: true }),
          composite: (p, g, t) => {
            const d = g.neg().add(p.mul(wd));
            sc = sc.add(d.mul(d));
            return p.sub(d.div(sc.sqrt().add(eps)).mul(lr / (1 + (t - 1) * decay)));
          },
        });
      }
      {
        const [lr, rho, eps, wd] = [1, 0.9, 1e-6, 0.1];
        const v = zeros(),
          u = zeros();
        let vc = zeros(),
          uc = zeros();
        rules.push({
          name: "adadelta",
          kernel: (p, g) => be().adadeltaUpdate(p.data, g.data, v.data, u.data, { lr, rho, eps, weightDecay: wd, maximize: false }),
          composite: (p, g) => {
            const d = g.add(p.mul(wd));
            vc = vc.mul(rho).add(d.mul(d).mul(1 - rho));
            const delta = uc.add(eps).sqrt().div(vc.add(eps).sqrt()).mul(d);
            uc = uc.mul(rho).add(delta.mul(delta).mul(1 - rho));
            return p.sub(delta.mul(lr));
          },
        });
      }
      {
        const [b1, b2, eps, wd] = [0.9, 0.999, 1e-8, 0.1];
        const m = zeros(),
          v = zeros();
        let mc = zeros(),
          vc = zeros();
        const coef = (t: number) => ({ bc2: 1 - b2 ** t, c1: -2e-3 * (0.5 + t * 0.01), c2: -2e-3 * (0.4 + t * 0.02) });
        rules.push({
          name: "nadam",
          kernel: (p, g, t) => be().nadamUpdate(p.data, g.data, m.data, v.data, { beta1: b1, beta2: b2, eps, weightDecay: wd, ...coef(t) }),
          composite: (p, g, t) => {
            const { bc2, c1, c2 } = coef(t);
            const d = g.add(p.mul(wd));
            mc = mc.mul(b1).add(d.mul(1 - b1));
            vc = vc.mul(b2).add(d.mul(d).mul(1 - b2));
            const denom = vc.div(bc2).sqrt().add(eps);
            return p.add(d.div(denom).mul(c1)).add(mc.div(denom).mul(c2));
          },
        });
      }
      {
        const [lr, b1, b2, eps, wd] = [2e-3, 0.9, 0.999, 1e-8, 0.1];
        const m = zeros(),
          u = zeros();
        let mc = zeros(),
          uc = zeros();
        rules.push({
          name: "adamax",
          kernel: (p, g, t) =>
            be().adamaxUpdate(p.data, g.data, m.data, u.data, {
              clr: lr / (1 - b1 ** t),
              beta1: b1,
              beta2: b2,
              eps,
              weightDecay: wd,
              maximize: false,
            }),
          composite: (p, g, t) => {
            const d = g.add(p.mul(wd));
            mc = mc.mul(b1).add(d.mul(1 - b1));
            uc = nb.maximum(uc.mul(b2), d.abs().add(eps));
            return p.sub(mc.div(uc).mul(lr / (1 - b1 ** t)));
          },
        });
      }
      for (const r of rules) {
        const p = p0.clone();
        let pc = p0.clone();
        grads.forEach((g, i) => {
          r.kernel(p, g, i + 1);
          pc = r.composite(pc, g, i + 1);
        });
        nb.testing.assertClose(p, pc, { rtol: 1e-12, atol: 1e-14, msg: `${name} ${r.name}` });
        assert.ok(p.sub(p0).abs().max().item() > 1e-4, `${r.name}: the update moved the parameter`);
      }
    }));
}
