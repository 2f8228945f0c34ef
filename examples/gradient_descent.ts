// The primer's worked example: fit h(x) = θ1 + θ2·x by squared error with batch, stochastic and
// mini-batch gradient descent, and compare with the closed-form least-squares solution.
// Run: npm run examples (or, after npm run build: npx tsc -p tsconfig.examples.json && node .examples-build/gradient_descent.js)

import * as nb from "nabla";

export type Regime = "batch" | "stochastic" | "minibatch";

/** m noisy samples of y = 4 + 3x (x uniform in [0, 2)), float64. */
export function linearData(m: number, seed = 0): { x: Float64Array; y: Float64Array } {
  const g = new nb.Generator(seed);
  const x = new Float64Array(m),
    y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    x[i] = 2 * g.random();
    y[i] = 4 + 3 * x[i] + 0.5 * g.normal();
  }
  return { x, y };
}

/** The least-squares solution of the normal equations, in closed form: θ2 = cov(x, y)/var(x), θ1 = ȳ − θ2·x̄. */
export function leastSquares(x: Float64Array, y: Float64Array): [number, number] {
  const m = x.length;
  const mx = x.reduce((a, b) => a + b) / m,
    my = y.reduce((a, b) => a + b) / m;
  let sxy = 0,
    sxx = 0;
  for (let i = 0; i < m; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  const t2 = sxy / sxx;
  return [my - t2 * mx, t2];
}

export interface FitResult {
  theta: [number, number];
  /** Parameter updates performed. */
  steps: number;
  /** J(θ) = (1/2m)·Σ (h(xᵢ) − yᵢ)² after each epoch. */
  losses: number[];
}

/**
 * Gradient descent on J(θ) = (1/2b)·Σ_batch (θ1 + θ2·x − y)², with autograd and nb.optim.SGD:
 * batch (b = m), stochastic (b = 1) or mini-batch (b = batchSize), reshuffled every epoch.
 */
export function fit(
  regime: Regime,
  x: Float64Array,
  y: Float64Array,
  opts: { lr: number; epochs: number; batchSize?: number; seed?: number },
): FitResult {
  const m = x.length;
  const b = regime === "batch" ? m : regime === "stochastic" ? 1 : (opts.batchSize ?? 16);
  const theta = nb.zeros([2], { dtype: "float64", requiresGrad: true });
  const opt = new nb.optim.SGD([theta], { lr: opts.lr });
  const gen = new nb.Generator(opts.seed ?? 1);
  const X = nb.tensor(x),
    Y = nb.tensor(y);
  const fullLoss = () =>
    nb.noGrad(() => {
      const r = nb.sub(nb.add(theta.index(0), nb.mul(theta.index(1), X)), Y);
      return nb.mul(r, r).mean().item() / 2;
    });
  const losses: number[] = [];
  let steps = 0;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    const order = regime === "batch" ? null : nb.randperm(m, { generator: gen }).data;
    for (let start = 0; start < m; start += b) {
      const idx = order ? Int32Array.from(order.subarray(start, Math.min(start + b, m))) : null;
      const xb = idx ? nb.tensor(Float64Array.from(idx, (i) => x[i])) : X;
      const yb = idx ? nb.tensor(Float64Array.from(idx, (i) => y[i])) : Y;
      opt.zeroGrad();
      const r = nb.sub(nb.add(theta.index(0), nb.mul(theta.index(1), xb)), yb);
      nb.mul(r, r).mean().div(2).backward();
      opt.step();
      steps++;
    }
    losses.push(fullLoss());
  }
  return { theta: [theta.data[0], theta.data[1]], steps, losses };
}

function main(): void {
  const { x, y } = linearData(200);
  const [t1, t2] = leastSquares(x, y);
  console.log(`closed form: θ1 = ${t1.toFixed(5)}, θ2 = ${t2.toFixed(5)}`);
  for (const [regime, lr, epochs] of [
    ["batch", 0.5, 500],
    ["stochastic", 0.01, 50],
    ["minibatch", 0.1, 100],
  ] as const) {
    const r = fit(regime, x, y, { lr, epochs });
    console.log(
      `${regime.padEnd(10)} θ1 = ${r.theta[0].toFixed(5)}, θ2 = ${r.theta[1].toFixed(5)}  updates ${r.steps}, final J ${r.losses[r.losses.length - 1].toFixed(6)}`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
