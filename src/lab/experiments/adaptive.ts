// AdaGrad's decaying step vs RMSProp / AdaDelta / Adam, and Adam's bias correction in its first steps.
// On a linear function the gradient is the same at every step, so each method's step size has a closed
// form to check against; on noisy least squares the same behaviours decide how far each gets.

import * as nb from "../../index.js";
import { fmt, type Experiment, type Plot, type Series } from "../experiment.js";

type Make = (p: nb.nn.Parameter[]) => nb.optim.Optimizer<any>;

/** Step sizes |Δθ| of `make` on f(θ) = c·θ (constant gradient c) over `steps` steps. */
function stepSizes(make: Make, c: number, steps: number): number[] {
  const th = new nb.nn.Parameter(nb.tensor([0], { dtype: "float64" }));
  const opt = make([th]);
  const out: number[] = [];
  for (let t = 1; t <= steps; t++) {
    opt.zeroGrad();
    th.mul(c).sum().backward();
    const before = th.data[0];
    opt.step();
    out.push(Math.abs(th.data[0] - before));
  }
  return out;
}

/** Adam written out without the bias correction (m and v used as they are), on the same linear function. */
function uncorrectedAdamSteps(lr: number, c: number, steps: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): number[] {
  let m = 0,
    v = 0;
  const out: number[] = [];
  for (let t = 1; t <= steps; t++) {
    m = b1 * m + (1 - b1) * c;
    v = b2 * v + (1 - b2) * c * c;
    out.push((lr * Math.abs(m)) / (Math.sqrt(v) + eps));
  }
  return out;
}

/** Noisy least squares: minibatch losses of `make` on y = X·w* + noise, d = 20, m = 1000, batch 10. */
function noisyRegression(make: Make, steps: number, seed: number, onLoss: (t: number, loss: number) => void): number {
  const gen = new nb.Generator(seed);
  const d = 20,
    m = 1000,
    b = 10;
  const X = nb.randn([m, d], { dtype: "float64", generator: gen });
  const wStar = nb.randn([d, 1], { dtype: "float64", generator: gen });
  const y = nb.matmul(X, wStar).add(nb.randn([m, 1], { dtype: "float64", generator: gen }).mul(0.5));
  const w = new nb.nn.Parameter(nb.zeros([d, 1], { dtype: "float64" }));
  const opt = make([w]);
  const full = () => nb.noGrad(() => nb.nn.functional.mseLoss(nb.matmul(X, w), y).item());
  for (let t = 1; t <= steps; t++) {
    const idx = nb.randint(0, m, [b], { generator: gen });
    opt.zeroGrad();
    nb.nn.functional.mseLoss(nb.matmul(nb.indexSelect(X, 0, idx), w), nb.indexSelect(y, 0, idx)).backward();
    opt.step();
    if (t % 10 === 0) onLoss(t, full());
  }
  return full();
}

export const adaptiveExperiment: Experiment = {
  id: "adaptive",
  title: "AdaGrad's vanishing rate, RMSProp / AdaDelta / Adam, and Adam's bias correction",
  claim: "AdaGrad's vanishing rate … RMSProp (γ = 0.9, η = 0.001), Adam (β1 = 0.9, β2 = 0.999, ε = 1e-8, bias-corrected moments)",
  section: "1. Optimization",
  params: {
    lr: { default: 0.01, min: 1e-5, max: 1, help: "the learning rate every method gets (AdaDelta has none)" },
    steps: { default: 2000, min: 20, max: 100000, integer: true, help: "steps on the noisy least-squares problem" },
    gradient: { default: 2, min: 1e-3, max: 1e3, help: "the constant gradient c of the linear function f(θ) = c·θ" },
  },
  fast: { steps: 400 },
  run(p, seed, emit) {
    const lr = p.lr as number,
      c = p.gradient as number,
      steps = p.steps as number;
    const T = 1000;
    const makers: [string, Make][] = [
      ["AdaGrad", (ps) => new nb.optim.Adagrad(ps, { lr })],
      ["RMSProp", (ps) => new nb.optim.RMSprop(ps, { lr, alpha: 0.9 })],
      ["AdaDelta", (ps) => new nb.optim.Adadelta(ps)],
      ["Adam", (ps) => new nb.optim.Adam(ps, { lr })],
    ];
    const sizes = makers.map(([name, make]) => {
      const s = stepSizes(make, c, T);
      s.forEach((v, t) => (t < 20 || (t + 1) % 10 === 0) && emit({ plot: 0, series: name, x: t + 1, y: v }));
      return s;
    });
    const raw = uncorrectedAdamSteps(lr, c, T);
    const [ada, rms, delta, adam] = sizes;
    // closed forms on f = c·θ: AdaGrad lr·c/√(t·c²) = lr/√t; RMSProp lr/√(1 − 0.9^t); Adam lr at every step
    const adaErr = Math.max(...ada.map((s, t) => Math.abs(s / (lr / Math.sqrt(t + 1)) - 1)));
    const rmsErr = Math.max(...rms.map((s, t) => Math.abs(s / (lr / Math.sqrt(1 - 0.9 ** (t + 1))) - 1)));
    const adamErr = Math.max(...adam.map((s) => Math.abs(s / lr - 1)));
    const decay = ada[9] / ada[T - 1]; // √(1000/10) = 10
    const firstRatio = raw[0] / adam[0]; // (1 − β1)/√(1 − β2) ≈ 3.16
    const lossSeries: Series[] = makers.map(([name]) => ({ name, points: [] }));
    const losses = makers.map(([name, make], i) =>
      noisyRegression(make, steps, seed, (t, l) => {
        lossSeries[i].points.push([t, l]);
        emit({ plot: 1, series: name, x: t, y: l });
      }),
    );
    const holds =
      adaErr < 1e-4 && rmsErr < 1e-4 && adamErr < 1e-4 && Math.abs(decay - 10) < 0.01 && losses[0] > Math.min(losses[1], losses[3]);
    const stepSeries: Series[] = makers.map(([name], i) => ({ name, points: sizes[i].map((s, t) => [t + 1, s] as [number, number]) }));
    stepSeries.push({ name: "Adam without bias correction", points: raw.map((s, t) => [t + 1, s] as [number, number]) });
    const plots: Plot[] = [
      { title: `step size |Δθ| on f(θ) = ${c}·θ, lr ${lr}`, xLabel: "step", yLabel: "|Δθ|", logY: true, series: stepSeries },
      { title: "noisy least squares (d = 20, batch 10)", xLabel: "step", yLabel: "loss", logY: true, series: lossSeries },
    ];
    return {
      holds,
      verdict:
        `With a constant gradient AdaGrad's step falls as lr/√t (×${fmt(1 / decay)} from step 10 to 1000, closed form 0.1; max deviation ${fmt(adaErr)}), ` +
        `RMSProp's settles at lr/√(1 − 0.9^t) → lr and Adam's stays lr (deviations ${fmt(rmsErr)}, ${fmt(adamErr)}); AdaDelta starts at ${fmt(delta[0])} and grows to ${fmt(delta[T - 1])} with no learning rate. ` +
        `Without bias correction Adam's first step is ${fmt(firstRatio)}× lr ((1 − β1)/√(1 − β2) = ${fmt(0.1 / Math.sqrt(0.001))}). ` +
        `On noisy least squares after ${steps} steps: AdaGrad ${fmt(losses[0])}, RMSProp ${fmt(losses[1])}, AdaDelta ${fmt(losses[2])}, Adam ${fmt(losses[3])}.`,
      numbers: {
        adagradDecay10to1000: decay,
        adagradClosedFormError: adaErr,
        rmspropClosedFormError: rmsErr,
        adamClosedFormError: adamErr,
        uncorrectedFirstStepRatio: firstRatio,
        adadeltaFirstStep: delta[0],
        adadeltaStep1000: delta[T - 1],
        lossAdagrad: losses[0],
        lossRmsprop: losses[1],
        lossAdadelta: losses[2],
        lossAdam: losses[3],
      },
      plots,
    };
  },
};
