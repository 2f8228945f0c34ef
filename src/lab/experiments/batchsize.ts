// Batch vs stochastic vs mini-batch gradient descent on logistic regression: updates per epoch, the noise
// of the descent direction (against its closed form for sampling without replacement), loss per epoch
// and time.

import * as nb from "../../index.js";
import { fmt, type Experiment, type Series } from "../experiment.js";

/** A seeded two-class problem: m points in d dimensions, labels from a noisy linear rule. */
export function logisticData(m: number, d: number, gen: nb.Generator): { X: nb.Tensor; y: nb.Tensor } {
  const X = nb.randn([m, d], { dtype: "float64", generator: gen });
  const w = nb.randn([d, 1], { dtype: "float64", generator: gen });
  const logits = nb.matmul(X, w).add(nb.randn([m, 1], { dtype: "float64", generator: gen }));
  return {
    X,
    y: nb
      .tensor(
        Array.from(logits.data, (v) => (v > 0 ? 1 : 0)),
        { dtype: "float64" },
      )
      .reshape([m, 1]),
  };
}

const loss = (X: nb.Tensor, y: nb.Tensor, w: nb.Tensor) => nb.nn.functional.binaryCrossEntropyWithLogits(nb.matmul(X, w), y);

export const batchSizeExperiment: Experiment = {
  id: "batch-size",
  title: "Batch, stochastic and mini-batch gradient descent",
  claim: "the effect of batch size on speed and on the noise of the descent direction",
  section: "1. Optimization",
  params: {
    samples: { default: 2000, min: 100, max: 100000, integer: true, help: "training points m" },
    dims: { default: 20, min: 2, max: 500, integer: true, help: "features d" },
    batch: { default: 32, min: 2, max: 10000, integer: true, help: "the mini-batch size b" },
    lr: { default: 0.1, min: 1e-4, max: 10, help: "learning rate (the same for all three)" },
    epochs: { default: 10, min: 1, max: 200, integer: true, help: "passes over the data" },
  },
  fast: { samples: 800, epochs: 4 },
  run(p, seed, emit) {
    const m = p.samples as number,
      d = p.dims as number,
      b = Math.min(p.batch as number, m),
      lr = p.lr as number,
      epochs = p.epochs as number;
    const gen = new nb.Generator(seed);
    const { X, y } = logisticData(m, d, gen);
    // Gradient noise at w = 0: E‖g_b − g‖² over batches drawn without replacement is (m − b)/(b(m − 1))·σ²,
    // σ² the mean of ‖g_i − g‖² over the samples.
    const w0 = nb.zeros([d, 1], { dtype: "float64" });
    const gradAt = (rows: nb.Tensor): Float64Array => {
      const w = w0.detach().requiresGrad_();
      loss(nb.indexSelect(X, 0, rows), nb.indexSelect(y, 0, rows), w).backward();
      return Float64Array.from(w.grad!.data);
    };
    const all = nb.arange(0, m, 1, { dtype: "int32" });
    const g = gradAt(all);
    let sigma2 = 0;
    for (let i = 0; i < m; i++) {
      const gi = gradAt(nb.tensor([i], { dtype: "int32" }));
      sigma2 += gi.reduce((a, v, k) => a + (v - g[k]) ** 2, 0) / m;
    }
    const noise = (size: number, draws: number) => {
      let s = 0;
      for (let k = 0; k < draws; k++) {
        const rows = nb.narrow(nb.randperm(m, { generator: gen }), 0, 0, size);
        const gb = gradAt(rows);
        s += gb.reduce((a, v, j) => a + (v - g[j]) ** 2, 0) / draws;
      }
      return s;
    };
    const sizes = [1, b, m];
    const measured = sizes.map((s) => (s === m ? 0 : noise(s, 300)));
    const theory = sizes.map((s) => ((m - s) / (s * (m - 1))) * sigma2);
    // Training: each regime for the same number of epochs (reshuffled each epoch), loss after every epoch.
    const names = ["stochastic (b = 1)", `mini-batch (b = ${b})`, `batch (b = ${m})`];
    const curves: Series[] = [];
    const timePerEpoch: number[] = [];
    const finalLoss: number[] = [];
    sizes.forEach((size, r) => {
      const w = new nb.nn.Parameter(nb.zeros([d, 1], { dtype: "float64" }));
      const opt = new nb.optim.SGD([w], { lr });
      const pts: [number, number][] = [[0, nb.noGrad(() => loss(X, y, w).item())]];
      const t0 = performance.now();
      for (let e = 1; e <= epochs; e++) {
        const perm = nb.randperm(m, { generator: gen });
        for (let k = 0; k < m; k += size) {
          const rows = nb.narrow(perm, 0, k, Math.min(size, m - k));
          opt.zeroGrad();
          loss(nb.indexSelect(X, 0, rows), nb.indexSelect(y, 0, rows), w).backward();
          opt.step();
        }
        const l = nb.noGrad(() => loss(X, y, w).item());
        pts.push([e, l]);
        emit({ plot: 1, series: names[r], x: e, y: l });
      }
      timePerEpoch.push((performance.now() - t0) / epochs / 1000);
      finalLoss.push(pts[pts.length - 1][1]);
      curves.push({ name: names[r], points: pts });
    });
    // loss to a target: the first epoch each regime gets within 10 % of the best final loss, and its time
    const target = 1.1 * Math.min(...finalLoss);
    const toTarget = curves.map((c) => c.points.find(([, l]) => l <= target)?.[0] ?? Infinity);
    const secondsToTarget = toTarget.map((e, r) => e * timePerEpoch[r]);
    const ratioErr = Math.max(...[0, 1].map((i) => Math.abs(measured[i] / theory[i] - 1)));
    const updates = sizes.map((s) => Math.ceil(m / s));
    const holds = ratioErr < 0.2 && finalLoss[0] < finalLoss[2] && finalLoss[1] < finalLoss[2];
    return {
      holds,
      verdict:
        `Updates per epoch: ${updates.join(" / ")} for b = 1 / ${b} / ${m}. The descent direction's noise E‖g_b − g‖² measures ${fmt(measured[0])} at b = 1 and ${fmt(measured[1])} at b = ${b} ` +
        `(closed form (m−b)/(b(m−1))·σ²: ${fmt(theory[0])} and ${fmt(theory[1])}). After ${epochs} epochs at lr ${lr} the loss is ${fmt(finalLoss[0])} (stochastic), ` +
        `${fmt(finalLoss[1])} (mini-batch), ${fmt(finalLoss[2])} (batch), at ${fmt(timePerEpoch[0] * 1000)} / ${fmt(timePerEpoch[1] * 1000)} / ${fmt(timePerEpoch[2] * 1000)} ms per epoch. ` +
        `To a loss of ${fmt(target)}: ` +
        names
          .map(
            (n, r) =>
              `${n} ${Number.isFinite(toTarget[r]) ? `${toTarget[r]} epoch${toTarget[r] === 1 ? "" : "s"} (${fmt(secondsToTarget[r] * 1000)} ms)` : `not within ${epochs} epochs`}`,
          )
          .join(", ") +
        ".",
      numbers: {
        updatesStochastic: updates[0],
        updatesMini: updates[1],
        updatesBatch: updates[2],
        noiseStochastic: measured[0],
        noiseStochasticTheory: theory[0],
        noiseMini: measured[1],
        noiseMiniTheory: theory[1],
        lossStochastic: finalLoss[0],
        lossMini: finalLoss[1],
        lossBatch: finalLoss[2],
        msPerEpochStochastic: timePerEpoch[0] * 1000,
        msPerEpochMini: timePerEpoch[1] * 1000,
        msPerEpochBatch: timePerEpoch[2] * 1000,
        targetLoss: target,
        epochsToTargetStochastic: toTarget[0],
        epochsToTargetMini: toTarget[1],
        epochsToTargetBatch: toTarget[2],
        msToTargetStochastic: secondsToTarget[0] * 1000,
        msToTargetMini: secondsToTarget[1] * 1000,
        msToTargetBatch: secondsToTarget[2] * 1000,
      },
      plots: [
        {
          title: "gradient noise E‖g_b − g‖² against b",
          xLabel: "batch size b",
          yLabel: "E‖g_b − g‖²",
          logY: true,
          series: [
            { name: "measured", points: [0, 1].map((i) => [sizes[i], measured[i]] as [number, number]) },
            {
              name: "(m−b)/(b(m−1))·σ²",
              points: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
                .filter((s) => s < m)
                .map((s) => [s, ((m - s) / (s * (m - 1))) * sigma2] as [number, number]),
            },
          ],
        },
        { title: "loss after each epoch", xLabel: "epoch", yLabel: "loss", logY: true, series: curves },
      ],
    };
  },
};
