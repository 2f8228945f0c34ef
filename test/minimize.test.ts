// minimize() against scipy.optimize (fixtures/minimize.json), test functions against their closed forms,
// and the primer's examples: three gradient-descent regimes and L2-regularized logistic regression.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as nb from "nabla";
import { fixturePath } from "./helpers.js";
import { TOL } from "./tolerances.js";
import { fit, leastSquares, linearData } from "../examples/gradient_descent.js";
import { logisticGradient, logisticHessian, logisticLoss, syntheticData } from "../examples/logistic_regression.js";
import { problemFn, type Problem } from "./problems.js";

const tf = nb.optim.testFunctions;
const fx = nb.testing.loadJsonFixture<{ problems: Record<string, Problem> }>(fixturePath("minimize.json"));

const methods: nb.optim.MinimizeMethod[] = ["GD", "Newton", "Newton-CG", "BFGS", "L-BFGS", "CG"];

for (const [name, p] of Object.entries(fx.problems)) {
  for (const method of methods) {
    if (method === "GD" && name === "rosenbrock10d") continue; // tens of thousands of iterations: covered by the 2-D case
    test(`minimize ${name} with ${method} reaches scipy's minimum`, () => {
      const r = nb.optim.minimize(problemFn(name, p), nb.tensor(p.x0, { dtype: "float64" }), { method, tol: 1e-9, maxIter: 50000 });
      const x = Array.from(r.x.data);
      const dist = (a: number[]) => Math.max(...a.map((v, i) => Math.abs(v - x[i])));
      // 10-D Rosenbrock has a second, local minimizer near x1 = −1 (scipy's x* from this start); either is a minimum.
      const candidates = p.unique ? [p.xstar] : [p.xstar, new Array(x.length).fill(1)];
      const best = Math.min(...candidates.map(dist));
      assert.ok(
        best <= 1e-5,
        `${method} on ${name}: |x − x*|∞ = ${best} (${r.message}, ${r.nit} iterations, |g|∞ ${Math.max(...Array.from(r.grad.data, Math.abs))})`,
      );
    });
  }
}

test("Newton converges quadratically on the logistic regression (gradient norm roughly squares)", () => {
  const p = fx.problems.logreg_breast_cancer;
  const r = nb.optim.minimize(problemFn("logreg_breast_cancer", p), nb.tensor(p.x0, { dtype: "float64" }), {
    method: "Newton",
    tol: 1e-12,
  });
  assert.ok(r.success, r.message);
  const g = r.gradNorms;
  // The last few ratios log(g_{k+1}) / log(g_k) approach 2 in the quadratic phase.
  const tail = g.slice(-3);
  assert.ok(tail[2] < 1e-10 && tail[1] < 1e-4, `gradient norms ${g.map((v) => v.toExponential(1)).join(" ")}`);
  assert.ok(Math.log(tail[2]) / Math.log(tail[1]) > 1.6, `not quadratic: ${g.map((v) => v.toExponential(1)).join(" ")}`);
  assert.ok(r.nit <= 12, `${r.nit} Newton iterations`);
});

test("test functions: gradients and Hessians in closed form equal autograd's, minima have zero gradient", () => {
  const fns = [tf.rosenbrock(2), tf.rosenbrock(5), tf.beale, tf.himmelblau, tf.booth, tf.saddle, tf.illConditionedQuadratic(50)];
  const g0 = new nb.Generator(3);
  for (const fn of fns) {
    for (let trial = 0; trial < 3; trial++) {
      const x = Array.from(nb.randn([fn.start.length], { dtype: "float64", generator: g0 }).data);
      const xt = nb.tensor(x, { dtype: "float64", requiresGrad: true });
      const y = fn.f(xt);
      nb.testing.assertClose(y.item(), fn.value(x), { ...TOL.f64, msg: `${fn.name} value` });
      const [g] = nb.autograd.grad(y, [xt]);
      nb.testing.assertClose(g, fn.grad(x), { rtol: 1e-10, atol: 1e-10, msg: `${fn.name} gradient` });
      const H = nb.autograd.functional.hessian(fn.f, nb.tensor(x, { dtype: "float64" }));
      nb.testing.assertClose(H, fn.hessian(x), { rtol: 1e-10, atol: 1e-10, msg: `${fn.name} Hessian` });
    }
    for (const m of fn.minima) {
      nb.testing.assertClose(fn.grad(m), new Array(m.length).fill(0), { atol: 1e-9, msg: `${fn.name} gradient at ${m}` });
      nb.testing.assertClose(fn.value(m), fn.fmin, { atol: 1e-12, msg: `${fn.name} value at ${m}` });
    }
  }
});

test("the saddle: gradient descent started on the stable manifold stalls at the saddle; off it, it escapes", () => {
  const onAxis = nb.optim.minimize(tf.saddle.f, nb.tensor([1, 0], { dtype: "float64" }), { method: "GD", lr: 0.1, maxIter: 200 });
  assert.ok(onAxis.success && Math.abs(onAxis.x.data[0]) < 1e-5 && onAxis.x.data[1] === 0, "should converge to the saddle point (0, 0)");
  const off = nb.optim.minimize(tf.saddle.f, nb.tensor([1, 1e-6], { dtype: "float64" }), { method: "GD", lr: 0.1, maxIter: 100 });
  assert.ok(Math.abs(off.x.data[1]) > 1, `a tiny perturbation must grow (y = ${off.x.data[1]})`);
});

test("three gradient-descent regimes reach the least-squares solution; steps per epoch are m/b", () => {
  const { x, y } = linearData(200, 0);
  const [t1, t2] = leastSquares(x, y);
  const batch = fit("batch", x, y, { lr: 0.5, epochs: 500 });
  assert.equal(batch.steps, 500); // one update per epoch
  nb.testing.assertClose(batch.theta, [t1, t2], { atol: 1e-6, rtol: 0, msg: "batch GD" });
  const sgd = fit("stochastic", x, y, { lr: 0.005, epochs: 40 });
  assert.equal(sgd.steps, 40 * 200); // one update per sample
  // With a constant step the SGD iterate keeps fluctuating around θ*: allow a few noise standard deviations.
  nb.testing.assertClose(sgd.theta, [t1, t2], { atol: 0.05, rtol: 0, msg: "stochastic GD" });
  const mini = fit("minibatch", x, y, { lr: 0.05, epochs: 200, batchSize: 16 });
  assert.equal(mini.steps, 200 * Math.ceil(200 / 16));
  nb.testing.assertClose(mini.theta, [t1, t2], { atol: 0.05, rtol: 0, msg: "mini-batch GD" });
  // J(θ) reached is within 1% of the minimum for all three
  const Jmin = x.reduce((s, xi, i) => s + (t1 + t2 * xi - y[i]) ** 2, 0) / (2 * x.length);
  for (const r of [batch, sgd, mini]) assert.ok(r.losses[r.losses.length - 1] <= Jmin * 1.01);
});

test("logistic regression: hand-written loss gradient and Hessian (with and without L2) equal autograd's", () => {
  const { X, y } = syntheticData(60, 3, 1);
  for (const lambda of [0, 0.1]) {
    const w = nb.randn([4], { dtype: "float64", generator: new nb.Generator(2) });
    const wl = w.detach().requiresGrad_();
    const [g] = nb.autograd.grad(logisticLoss(X, y, lambda)(wl), [wl]);
    nb.testing.assertClose(g, logisticGradient(X, y, lambda, w), { rtol: 1e-10, atol: 1e-12, msg: `gradient λ=${lambda}` });
    nb.testing.assertClose(nb.autograd.functional.hessian(logisticLoss(X, y, lambda), w), logisticHessian(X, y, lambda, w), {
      rtol: 1e-10,
      atol: 1e-12,
      msg: `Hessian λ=${lambda}`,
    });
  }
});

test("logistic regression: GD, Newton and L-BFGS reach the same optimum", () => {
  const { X, y } = syntheticData(300, 4, 5);
  const f = logisticLoss(X, y, 0.05);
  const w0 = nb.zeros([5], { dtype: "float64" });
  // GD's line search compares function values, which stop resolving progress near |∇J| ~ 1e-8 here: tol 1e-7.
  const rs = (["GD", "Newton", "L-BFGS"] as const).map((method) =>
    nb.optim.minimize(f, w0, { method, tol: method === "GD" ? 1e-7 : 1e-8 }),
  );
  for (const r of rs) assert.ok(r.success, r.message);
  // J is at least 0.05-strongly convex (the L2 term), so |x − x*| ≤ |∇J| / 0.05: 2e-6 for GD, 2e-7 for the others.
  nb.testing.assertClose(rs[0].x, rs[1].x, { atol: 2.2e-6, rtol: 0 });
  nb.testing.assertClose(rs[2].x, rs[1].x, { atol: 4e-7, rtol: 0 });
  assert.ok(rs[1].nit < rs[2].nit && rs[2].nit < rs[0].nit, `iterations: GD ${rs[0].nit}, L-BFGS ${rs[2].nit}, Newton ${rs[1].nit}`);
});
