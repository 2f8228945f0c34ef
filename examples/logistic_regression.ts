// Logistic regression with L2 regularization: the loss and its gradient written out by hand, checked
// against autograd, and solved by gradient descent, Newton and L-BFGS (nb.optim.minimize).
// Run: npm run examples (or, after npm run build: npx tsc -p tsconfig.examples.json && node .examples-build/logistic_regression.js)

import * as nb from "nabla";

/**
 * J(w) = (1/m)·Σᵢ [log(1 + e^{zᵢ}) − yᵢ·zᵢ] + (λ/2)·‖w‖², zᵢ = xᵢ·w, yᵢ ∈ {0, 1}
 * (the mean binary cross-entropy of σ(z) against y, written stably, plus the L2 penalty).
 */
export function logisticLoss(X: nb.Tensor, y: nb.Tensor, lambda: number): (w: nb.Tensor) => nb.Tensor {
  return (w) => {
    const z = nb.matmul(X, w);
    const data = nb.nn.functional.binaryCrossEntropyWithLogits(z, y);
    return lambda === 0 ? data : nb.add(data, nb.mul(nb.dot(w, w), lambda / 2));
  };
}

/** ∇J(w) = (1/m)·Xᵀ(σ(Xw) − y) + λw, in closed form (no autograd). */
export function logisticGradient(X: nb.Tensor, y: nb.Tensor, lambda: number, w: nb.Tensor): nb.Tensor {
  const m = X.shape[0];
  const residual = nb.sub(nb.sigmoid(nb.matmul(X, w)), y);
  return nb.add(nb.div(nb.matmul(X.t(), residual), m), nb.mul(w, lambda));
}

/** ∇²J(w) = (1/m)·Xᵀ·diag(σ(1 − σ))·X + λI, in closed form. */
export function logisticHessian(X: nb.Tensor, y: nb.Tensor, lambda: number, w: nb.Tensor): nb.Tensor {
  const m = X.shape[0],
    n = X.shape[1];
  const p = nb.sigmoid(nb.matmul(X, w));
  const weights = nb.mul(p, nb.sub(1, p)).unsqueeze(1); // [m, 1]
  return nb.add(nb.div(nb.matmul(X.t(), nb.mul(X, weights)), m), nb.mul(nb.eye(n, n, { dtype: X.dtype }), lambda));
}

/** Synthetic, linearly non-separable data with an intercept column: X [m, d + 1], y ∈ {0, 1}. */
export function syntheticData(m: number, d: number, seed = 0): { X: nb.Tensor; y: nb.Tensor } {
  const g = new nb.Generator(seed);
  const feats = nb.randn([m, d], { dtype: "float64", generator: g });
  const X = nb.cat([feats, nb.ones([m, 1], { dtype: "float64" })], 1);
  const wTrue = nb.randn([d + 1], { dtype: "float64", generator: g });
  const p = nb.sigmoid(nb.matmul(X, wTrue));
  const y = nb.lt(nb.rand([m], { dtype: "float64", generator: g }), p);
  return { X, y };
}

function main(): void {
  const { X, y } = syntheticData(500, 5);
  const lambda = 1e-2;
  const f = logisticLoss(X, y, lambda);
  const w0 = nb.zeros([6], { dtype: "float64" });
  console.log("Logistic regression, 500 samples, 5 features + intercept, λ = 0.01");
  for (const method of ["GD", "Newton", "L-BFGS"] as const) {
    const r = nb.optim.minimize(f, w0, { method, tol: 1e-8 });
    console.log(
      `${method.padEnd(7)} iterations ${String(r.nit).padStart(4)}  J = ${r.fun.toFixed(10)}  ‖∇J‖ = ${r.gradNorms[r.gradNorms.length - 1].toExponential(2)}`,
    );
    if (method === "Newton") console.log(`        gradient norms per iteration: ${r.gradNorms.map((v) => v.toExponential(1)).join(" → ")}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
