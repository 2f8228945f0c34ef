// BatchNorm's claims on a small MLP: larger usable learning rates, training vs inference behaviour and the
// running statistics, and BN before vs after the ReLU (the primer asserts one placement; this measures).

import * as nb from "../../index.js";
import { fmt, type Experiment, type Series } from "../experiment.js";

/** Ten Gaussian classes in d dimensions with features on scales 1 … 30 (badly conditioned for plain SGD). */
function blobs(m: number, d: number, gen: nb.Generator): { X: nb.Tensor; y: nb.Tensor } {
  const centers = nb.randn([10, d], { generator: gen }).mul(1.5);
  const y = nb.randint(0, 10, [m], { generator: gen });
  const X = nb.add(nb.indexSelect(centers, 0, y), nb.randn([m, d], { generator: gen }));
  const scale = nb.tensor(Array.from({ length: d }, (_, i) => 1 + (29 * i) / (d - 1)));
  return { X: nb.mul(X, scale).add(2), y };
}

type Placement = "none" | "before" | "after";

function mlp(d: number, width: number, depth: number, bn: Placement): nb.nn.Sequential {
  const layers: nb.nn.Module[] = [];
  let inF = d;
  for (let i = 0; i < depth; i++) {
    layers.push(new nb.nn.Linear(inF, width));
    if (bn === "before") layers.push(new nb.nn.BatchNorm1d(width), new nb.nn.ReLU());
    else if (bn === "after") layers.push(new nb.nn.ReLU(), new nb.nn.BatchNorm1d(width));
    else layers.push(new nb.nn.ReLU());
    inF = width;
  }
  layers.push(new nb.nn.Linear(inF, 10));
  return new nb.nn.Sequential(...layers);
}

/** Train with SGD on mini-batches; the mean training loss of the last 20 steps (NaN / Infinity if it blew up). */
function train(
  model: nb.nn.Module,
  X: nb.Tensor,
  y: nb.Tensor,
  lr: number,
  steps: number,
  gen: nb.Generator,
  onLoss: (k: number, l: number) => void,
): number {
  const opt = new nb.optim.SGD(model.parameters(), { lr, momentum: 0.9 });
  const m = X.shape[0];
  const tail: number[] = [];
  model.train();
  for (let k = 1; k <= steps; k++) {
    const idx = nb.randint(0, m, [64], { generator: gen });
    opt.zeroGrad();
    const loss = nb.nn.functional.crossEntropy(model.forward(nb.indexSelect(X, 0, idx)), nb.indexSelect(y, 0, idx));
    const l = loss.item();
    if (!Number.isFinite(l) || l > 1e3) return Infinity;
    loss.backward();
    opt.step();
    if (k % 5 === 0) onLoss(k, l);
    if (k > steps - 20) tail.push(l);
  }
  return tail.reduce((a, b) => a + b, 0) / tail.length;
}

export const batchNormExperiment: Experiment = {
  id: "batchnorm",
  title: "BatchNorm: larger learning rates, training vs inference, placement around the ReLU",
  claim:
    "Training uses batch statistics; inference uses running mean/variance collected during training … the primer claims BN after ReLU works better than before — a claim to test, not to assume … faster convergence, larger usable learning rates",
  section: "2. Batch Normalization",
  params: {
    depth: { default: 4, min: 1, max: 20, integer: true, help: "hidden layers of the MLP" },
    width: { default: 64, min: 8, max: 1024, integer: true, help: "units per hidden layer" },
    steps: { default: 300, min: 20, max: 20000, integer: true, help: "SGD steps (batch 64, momentum 0.9)" },
  },
  fast: { steps: 150 },
  heavy: true,
  run(p, seed, emit) {
    const depth = p.depth as number,
      width = p.width as number,
      steps = p.steps as number;
    const d = 32;
    const gen = new nb.Generator(seed);
    const { X, y } = blobs(4000, d, gen);
    const lrs = [0.001, 0.01, 0.1, 1];
    const curves: Series[] = [];
    const results: Record<string, number[]> = { none: [], before: [] };
    for (const bn of ["none", "before"] as const)
      for (const lr of lrs) {
        nb.manualSeed(seed);
        const name = `${bn === "none" ? "plain" : "BN"} lr ${lr}`;
        const pts: [number, number][] = [];
        const l = train(mlp(d, width, depth, bn), X, y, lr, steps, new nb.Generator(seed + 1), (k, v) => {
          pts.push([k, v]);
          emit({ plot: 0, series: name, x: k, y: v });
        });
        results[bn].push(l);
        if (lr >= 0.01) curves.push({ name, points: pts });
      }
    const bestPlain = Math.min(...results.none),
      bestBn = Math.min(...results.before);
    const largestOk = (r: number[]) => Math.max(...lrs.filter((_, i) => Number.isFinite(r[i]) && r[i] < 1.5));
    // placement, at the learning rate BN-before did best with
    const lrBest = lrs[results.before.indexOf(bestBn)];
    nb.manualSeed(seed);
    const after = train(mlp(d, width, depth, "after"), X, y, lrBest, steps, new nb.Generator(seed + 1), () => {});
    // training vs inference, and the running statistics against the population's
    nb.manualSeed(seed);
    const model = mlp(d, width, depth, "before");
    train(model, X, y, lrBest, steps, new nb.Generator(seed + 1), () => {});
    const bn1 = model.at(1) as nb.nn.BatchNorm1d;
    const batch = nb.narrow(X, 0, 0, 8);
    const outTrain = nb.noGrad(() => model.forward(batch));
    model.eval();
    const outEval = nb.noGrad(() => model.forward(batch));
    const diff = Math.max(...Array.from(outTrain.data, (v, i) => Math.abs(v - outEval.data[i])));
    const h = nb.noGrad(() => (model.at(0) as nb.nn.Linear).forward(X)); // the first BN's input over all data
    const popMean = nb.mean(h, 0);
    const meanErr =
      Math.max(...Array.from(bn1.runningMean!.data, (v, i) => Math.abs(v - popMean.data[i]))) /
      Math.max(...Array.from(popMean.data, Math.abs));
    const holds = largestOk(results.before) > largestOk(results.none) && diff > 1e-4 && meanErr < 0.2;
    const show = (r: number[]) => lrs.map((lr, i) => `${lr}: ${Number.isFinite(r[i]) ? fmt(r[i]) : "diverged"}`).join(", ");
    return {
      holds,
      verdict:
        `Final training loss of a ${depth}-layer MLP (width ${width}, ${steps} SGD-momentum steps) by learning rate — plain: ${show(results.none)}; with BN: ${show(results.before)}. ` +
        `The largest rate that trains is ${largestOk(results.none)} without BN and ${largestOk(results.before)} with it. ` +
        `BN after the ReLU (lr ${lrBest}) ends at ${fmt(after)} against ${fmt(results.before[lrs.indexOf(lrBest)])} before it. ` +
        `The same 8 images give outputs up to ${fmt(diff)} apart in training mode (batch statistics) and eval mode (running ones); the first BN's running mean is within ${fmt(100 * meanErr)} % of its input's mean over the data.`,
      numbers: {
        largestLrPlain: largestOk(results.none),
        largestLrBn: largestOk(results.before),
        bestLossPlain: bestPlain,
        bestLossBn: bestBn,
        lossBnAfterRelu: after,
        lossBnBeforeRelu: results.before[lrs.indexOf(lrBest)],
        trainEvalMaxDifference: diff,
        runningMeanRelativeError: meanErr,
      },
      plots: [{ title: "training loss (every 5 steps)", xLabel: "step", yLabel: "loss", logY: true, series: curves }],
    };
  },
};
