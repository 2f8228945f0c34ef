// Learning-rate schedules on one noisy problem: each schedule's rate against its closed form, and
// ReduceLROnPlateau lowering the rate when the loss stops improving by more than its threshold.

import * as nb from "../../index.js";
import { fmt, type Experiment, type Series } from "../experiment.js";

export const schedulesExperiment: Experiment = {
  id: "schedules",
  title: "Learning-rate schedules and reduce-on-plateau",
  claim:
    'Learning-rate schedules, including "lower the rate when the improvement between checks falls below a threshold" (reduce-on-plateau)',
  section: "1. Optimization",
  params: {
    lr: { default: 0.1, min: 1e-4, max: 1, help: "initial learning rate" },
    epochs: { default: 60, min: 10, max: 1000, integer: true, help: "epochs (one schedule step each)" },
    patience: { default: 3, min: 0, max: 50, integer: true, help: "ReduceLROnPlateau: checks without improvement before lowering" },
    noise: { default: 0.3, min: 0, max: 2, help: "gradient noise on the quadratic being minimized" },
  },
  fast: { epochs: 40 },
  run(p, seed, emit) {
    const lr0 = p.lr as number,
      epochs = p.epochs as number,
      noise = p.noise as number;
    const S = nb.optim.lrScheduler;
    type Sched = { step(metric?: number): void };
    const makers: [string, (o: nb.optim.SGD) => Sched, (e: number) => number | null][] = [
      ["constant", () => ({ step() {} }), () => lr0],
      ["StepLR(10, 0.5)", (o) => new S.StepLR(o, 10, 0.5), (e) => lr0 * 0.5 ** Math.floor(e / 10)],
      ["ExponentialLR(0.95)", (o) => new S.ExponentialLR(o, 0.95), (e) => lr0 * 0.95 ** e],
      ["CosineAnnealingLR", (o) => new S.CosineAnnealingLR(o, epochs), (e) => (lr0 * (1 + Math.cos((Math.PI * e) / epochs))) / 2],
      [
        "ReduceLROnPlateau",
        (o) => new S.ReduceLROnPlateau(o, { factor: 0.5, patience: p.patience as number, threshold: 1e-2 }),
        () => null,
      ],
    ];
    const gen = new nb.Generator(seed);
    const lrSeries: Series[] = [],
      lossSeries: Series[] = [];
    let maxDev = 0;
    const finals: number[] = [];
    let plateauCuts = 0;
    for (const [name, make, closed] of makers) {
      const x = new nb.nn.Parameter(nb.tensor([3, -2], { dtype: "float64" }));
      const opt = new nb.optim.SGD([x], { lr: lr0 });
      const sched = make(opt);
      const lrs: [number, number][] = [],
        losses: [number, number][] = [];
      let prev = lr0;
      for (let e = 0; e < epochs; e++) {
        const lr = opt.paramGroups[0].lr as number;
        const c = closed(e);
        if (c !== null) maxDev = Math.max(maxDev, Math.abs(lr / c - 1));
        if (name === "ReduceLROnPlateau" && lr < prev) plateauCuts++;
        prev = lr;
        let epochLoss = 0;
        for (let k = 0; k < 20; k++) {
          opt.zeroGrad();
          const l = nb.mul(x, x).sum().mul(0.5);
          l.backward();
          x.grad!.data.set(Array.from(x.grad!.data, (g) => g + noise * nb.randn([1], { dtype: "float64", generator: gen }).data[0]));
          opt.step();
          epochLoss += l.item() / 20;
        }
        lrs.push([e, lr]);
        losses.push([e, epochLoss]);
        emit({ plot: 0, series: name, x: e, y: lr });
        emit({ plot: 1, series: name, x: e, y: epochLoss });
        sched.step(epochLoss);
      }
      finals.push(losses.slice(-5).reduce((a, q) => a + q[1], 0) / 5);
      lrSeries.push({ name, points: lrs });
      lossSeries.push({ name, points: losses });
    }
    const holds = maxDev < 1e-12 && plateauCuts > 0 && finals[4] < finals[0];
    return {
      holds,
      verdict:
        `StepLR, ExponentialLR and CosineAnnealingLR follow their closed forms (largest relative deviation ${fmt(maxDev)}). ` +
        `On the noisy quadratic ReduceLROnPlateau halved the rate ${plateauCuts} times once the epoch loss stopped improving by 1 %, and its last five epochs average ${fmt(finals[4])} against ${fmt(finals[0])} at the constant rate ` +
        `(StepLR ${fmt(finals[1])}, exponential ${fmt(finals[2])}, cosine ${fmt(finals[3])}): at a fixed rate the noise keeps the loss at a floor proportional to the rate.`,
      numbers: {
        closedFormDeviation: maxDev,
        plateauCuts,
        lossConstant: finals[0],
        lossStep: finals[1],
        lossExponential: finals[2],
        lossCosine: finals[3],
        lossPlateau: finals[4],
      },
      plots: [
        { title: "learning rate per epoch", xLabel: "epoch", yLabel: "lr", logY: true, series: lrSeries },
        { title: "mean loss per epoch (noisy gradients)", xLabel: "epoch", yLabel: "loss", logY: true, series: lossSeries },
      ],
    };
  },
};
