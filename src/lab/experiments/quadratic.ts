// Gradient descent on an ill-conditioned quadratic: oscillation and divergence against the learning rate,
// and momentum / Nesterov damping them, against the closed-form contraction factors.

import * as nb from "../../index.js";
import { fmt, type Experiment, type Plot, type Series } from "../experiment.js";

/** f(x) = ½(μ·x₁² + L·x₂²) with μ = 1, L = κ (minimized from x₀ = (1, 1)). */
function quadratic(kappa: number): (x: nb.Tensor) => nb.Tensor {
  const lam = nb.tensor([1, kappa], { dtype: "float64" });
  return (x) => nb.mul(nb.mul(x, x), lam).sum().mul(0.5);
}

interface Trace {
  norms: number[];
  path: [number, number][];
  /** Steps to ‖x‖ ≤ tol·‖x₀‖ (or Infinity). */
  steps: number;
  /** Empirical contraction per step over the second half of the run, (‖x_K‖ / ‖x_K/2‖)^(2/K). */
  rate: number;
  diverged: boolean;
  /** Sign changes of x₂ over the first 20 steps (oscillation across the valley). */
  flips: number;
}

function descend(
  kappa: number,
  opts: { lr: number; momentum?: number; nesterov?: boolean },
  maxSteps: number,
  tol: number,
  onStep: (k: number, n: number) => void,
): Trace {
  const f = quadratic(kappa);
  const x = new nb.nn.Parameter(nb.tensor([1, 1], { dtype: "float64" }));
  const opt = new nb.optim.SGD([x], { lr: opts.lr, momentum: opts.momentum ?? 0, nesterov: opts.nesterov ?? false });
  const n0 = Math.SQRT2;
  const norms = [n0];
  const path: [number, number][] = [[1, 1]];
  let flips = 0,
    steps = Infinity,
    diverged = false;
  for (let k = 1; k <= maxSteps; k++) {
    opt.zeroGrad();
    f(x).backward();
    opt.step();
    const [a, b] = x.data;
    const n = Math.hypot(a, b);
    if (k <= 20 && Math.sign(b) !== Math.sign(path[path.length - 1][1])) flips++;
    norms.push(n);
    if (path.length <= 60) path.push([a, b]);
    onStep(k, n);
    if (!(n < 1e6 * n0)) {
      diverged = true;
      break;
    }
    if (n <= tol * n0) {
      steps = k;
      break;
    }
  }
  // the asymptotic rate, from the second half of the run (a repeated eigenvalue of the iteration — tuned
  // heavy ball has one — adds a factor k to ‖x_k‖ that would bias a whole-run estimate)
  const K = norms.length - 1,
    h = Math.floor(K / 2);
  return { norms, path, steps, rate: (norms[K] / norms[h]) ** (1 / (K - h)), diverged, flips };
}

export const quadraticExperiment: Experiment = {
  id: "quadratic",
  title: "Gradient descent in an ill-conditioned valley: oscillation, divergence, momentum",
  claim: "The primer's talking points, each to be demonstrable: oscillation of SGD, … Momentum damping oscillation, Nesterov's look-ahead",
  section: "1. Optimization",
  params: {
    kappa: { default: 100, min: 2, max: 10000, help: "condition number κ = L/μ of f(x) = ½(x₁² + κ·x₂²)" },
    lrScale: { default: 1.02, min: 0.01, max: 2, help: "the extra GD run's learning rate as a multiple of 2/L (above 1 it diverges)" },
    tol: { default: 1e-8, min: 1e-14, max: 1e-2, help: "stop when ‖x‖ ≤ tol·‖x₀‖" },
    maxSteps: { default: 5000, min: 10, max: 100000, integer: true, help: "step limit" },
  },
  fast: { kappa: 100, maxSteps: 3000 },
  run(p, _seed, emit) {
    const kappa = p.kappa as number,
      tol = p.tol as number,
      maxSteps = p.maxSteps as number;
    const L = kappa,
      mu = 1,
      sk = Math.sqrt(kappa);
    const theoryGd = (kappa - 1) / (kappa + 1),
      theoryHb = (sk - 1) / (sk + 1);
    const runs: [string, { lr: number; momentum?: number; nesterov?: boolean }][] = [
      ["GD, lr = 2/(L+μ)", { lr: 2 / (L + mu) }],
      [`GD, lr = ${p.lrScale}·2/L`, { lr: ((p.lrScale as number) * 2) / L }],
      ["momentum (heavy ball, tuned)", { lr: 4 / (Math.sqrt(L) + Math.sqrt(mu)) ** 2, momentum: theoryHb ** 2 }],
      ["Nesterov, lr = 1/L", { lr: 1 / L, momentum: theoryHb, nesterov: true }],
    ];
    const traces = runs.map(([name, o]) => descend(kappa, o, maxSteps, tol, (k, n) => emit({ plot: 0, series: name, x: k, y: n })));
    const [gd, user, hb, nag] = traces;
    const stepsText = (t: Trace) =>
      t.diverged ? "diverges" : Number.isFinite(t.steps) ? `${t.steps} steps` : `not within ${maxSteps} steps`;
    const holds =
      Math.abs(gd.rate - theoryGd) < 0.02 &&
      hb.steps < gd.steps &&
      nag.steps < gd.steps &&
      Math.abs(hb.rate - theoryHb) < 0.05 &&
      ((p.lrScale as number) > 1 ? user.diverged : !user.diverged);
    const landscape = (() => {
      const size = 41,
        values: number[] = [];
      for (let j = 0; j < size; j++)
        for (let i = 0; i < size; i++) {
          const x1 = -1.2 + (2.4 * i) / (size - 1),
            x2 = -1.2 + (2.4 * j) / (size - 1);
          values.push(0.5 * (x1 * x1 + kappa * x2 * x2));
        }
      return {
        x: [-1.2, 1.2] as [number, number],
        y: [-1.2, 1.2] as [number, number],
        size,
        values,
        marks: [[0, 0]] as [number, number][],
      };
    })();
    const norms = (t: Trace, name: string): Series => ({ name, points: t.norms.map((n, k) => [k, n] as [number, number]) });
    const plots: Plot[] = [
      {
        title: `‖x_k‖ on ½(x₁² + ${kappa}·x₂²)`,
        xLabel: "step",
        yLabel: "‖x‖",
        logY: true,
        series: runs.map(([name], i) => norms(traces[i], name)),
      },
      {
        title: "the first 40 steps over the valley",
        xLabel: "x₁",
        yLabel: "x₂",
        series: [
          { name: runs[0][0], points: gd.path.slice(0, 41) },
          { name: runs[2][0], points: hb.path.slice(0, 41) },
        ],
        landscape,
      },
    ];
    return {
      holds,
      verdict:
        `κ = ${kappa}: GD at its best rate contracts ‖x‖ by ${fmt(gd.rate)} per step (theory (κ−1)/(κ+1) = ${fmt(theoryGd)}) and needs ${stepsText(gd)}; ` +
        `tuned heavy-ball momentum contracts by ${fmt(hb.rate)} (theory (√κ−1)/(√κ+1) = ${fmt(theoryHb)}), ${stepsText(hb)}; Nesterov ${stepsText(nag)}. ` +
        `GD at ${p.lrScale}·2/L ${user.diverged ? "diverges" : `converges (${stepsText(user)})`}; at 2/(L+μ) x₂ changes sign ${gd.flips} times in 20 steps (the oscillation across the valley).`,
      numbers: {
        gdRate: gd.rate,
        gdRateTheory: theoryGd,
        gdSteps: gd.steps,
        momentumRate: hb.rate,
        momentumRateTheory: theoryHb,
        momentumSteps: hb.steps,
        nesterovSteps: nag.steps,
        userDiverged: user.diverged ? 1 : 0,
        gdFlips: gd.flips,
      },
      plots,
    };
  },
};
