// nb.optim.minimize: deterministic minimization of a scalar function of one tensor, scipy.optimize-style:
// gradient descent, Newton (exact Hessian), Newton-CG (Hessian-vector products), BFGS, L-BFGS and
// nonlinear conjugate gradient, all sharing one strong-Wolfe line search.

import { Tensor } from "../tensor/tensor.js";
import { fmt } from "../tensor/shape.js";
import { grad as autogradGrad } from "../autograd/functional.js";
import { hessian as autogradHessian, hvp as autogradHvp } from "../autograd/functional.js";
import { dot, lbfgsDirection, maxAbs, strongWolfe } from "./linesearch.js";
import { surplus } from "../surplus.js";

export type MinimizeMethod = "GD" | "Newton" | "Newton-CG" | "BFGS" | "L-BFGS" | "CG";

export interface MinimizeOptions {
  /** Default "BFGS". */
  method?: MinimizeMethod;
  /** Converged when max |∇f| ≤ tol (default 1e-5, scipy's gtol). */
  tol?: number;
  /** Iteration limit (default 200·n for GD and CG, 100·n otherwise, at least 1000 for GD). */
  maxIter?: number;
  /** GD only: a fixed step size instead of the line search. */
  lr?: number;
  /** L-BFGS: number of (s, y) pairs kept (default 10, scipy's). */
  historySize?: number;
  /** CG: "PR+" (Polak–Ribière with restarts, default) or "FR" (Fletcher–Reeves). */
  beta?: "PR+" | "FR";
  /** Record every iterate in `path` (default false). */
  returnPath?: boolean;
}

/** The result, shaped like scipy's OptimizeResult. */
export interface OptimizeResult {
  x: Tensor;
  fun: number;
  grad: Tensor;
  /** Iterations. */
  nit: number;
  /** Function evaluations (each also computes the gradient through autograd). */
  nfev: number;
  ngev: number;
  /** Hessian (Newton) or Hessian-vector product (Newton-CG) evaluations. */
  nhev: number;
  success: boolean;
  message: string;
  /** ‖∇f‖₂ at the start and after every iteration. */
  gradNorms: number[];
  /** Every iterate, when `returnPath` was set (starting point first). */
  path?: number[][];
}

class Objective {
  nfev = 0;
  ngev = 0;
  nhev = 0;
  constructor(
    private readonly fn: (x: Tensor) => Tensor,
    private readonly shape: readonly number[],
  ) {}

  private leaf(x: Float64Array): Tensor {
    return new Tensor(Float64Array.from(x), this.shape, true);
  }

  fg(x: Float64Array): { f: number; g: Float64Array } {
    this.nfev++;
    this.ngev++;
    const xt = this.leaf(x);
    const y = this.fn(xt);
    if (y.data.length !== 1) throw new RangeError(`minimize: the function must return a scalar, got shape ${fmt(y.shape)}`);
    const f = y.item();
    if (!y.requiresGrad) return { f, g: new Float64Array(x.length) };
    const [g] = autogradGrad(y, [xt], { allowUnused: true });
    return { f, g: Float64Array.from(g.data) };
  }

  hessian(x: Float64Array): Float64Array {
    this.nhev++;
    return Float64Array.from(autogradHessian(this.fn, new Tensor(Float64Array.from(x), this.shape)).data);
  }

  hvp(x: Float64Array, v: Float64Array): Float64Array {
    this.nhev++;
    const [, hv] = autogradHvp(this.fn, new Tensor(Float64Array.from(x), this.shape), new Tensor(Float64Array.from(v), this.shape));
    return Float64Array.from(hv.data);
  }
}

const norm2 = (v: Float64Array) => Math.sqrt(dot(v, v));
const axpy = (x: Float64Array, t: number, d: Float64Array) => x.map((v, i) => v + t * d[i]);

/** Solve (H + τI)p = b by Cholesky, raising τ until H + τI is positive definite (modified Newton). */
function dampedNewtonSolve(H: Float64Array, b: Float64Array, n: number): Float64Array {
  let tau = 0;
  const diagMin = Math.min(...Array.from({ length: n }, (_, i) => H[i * n + i]));
  if (diagMin <= 0) tau = -diagMin + 1e-3;
  for (let attempt = 0; attempt < 60; attempt++) {
    const L = new Float64Array(n * n);
    let ok = true;
    for (let j = 0; j < n && ok; j++) {
      let s = H[j * n + j] + tau;
      for (let k = 0; k < j; k++) s -= L[j * n + k] ** 2;
      if (!(s > 0)) {
        ok = false;
        break;
      }
      L[j * n + j] = Math.sqrt(s);
      for (let i = j + 1; i < n; i++) {
        let t = H[i * n + j];
        for (let k = 0; k < j; k++) t -= L[i * n + k] * L[j * n + k];
        L[i * n + j] = t / L[j * n + j];
      }
    }
    if (ok) {
      const y = new Float64Array(n),
        p = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = b[i];
        for (let k = 0; k < i; k++) s -= L[i * n + k] * y[k];
        y[i] = s / L[i * n + i];
      }
      for (let i = n - 1; i >= 0; i--) {
        let s = y[i];
        for (let k = i + 1; k < n; k++) s -= L[k * n + i] * p[k];
        p[i] = s / L[i * n + i];
      }
      return p;
    }
    tau = Math.max(2 * tau, 1e-3);
  }
  return b.slice(); // give up on curvature: steepest descent
}

/**
 * Minimize a scalar function of one tensor. Gradients, Hessians and Hessian-vector products come from
 * autograd in float64. Converges when max |∇f| ≤ tol.
 *
 * - "GD": steepest descent (strong-Wolfe line search, or a fixed `lr`)
 * - "Newton": Newton steps from the exact Hessian; when it is not positive definite, H + τI with τ raised
 *   until Cholesky succeeds, then a line search from t = 1
 * - "Newton-CG": truncated Newton; conjugate gradient on H·p = −g with Hessian-vector products only
 * - "BFGS": dense inverse-Hessian updates H ← (I − ρsyᵀ)H(I − ρysᵀ) + ρssᵀ
 * - "L-BFGS": two-loop recursion over the last `historySize` pairs
 * - "CG": nonlinear conjugate gradient, Polak–Ribière+ or Fletcher–Reeves (line search c2 = 0.4)
 *
 * @example
 * const r = nb.optim.minimize(nb.optim.testFunctions.rosenbrock(2).f, nb.tensor([-1.2, 1], { dtype: "float64" }), { method: "Newton" });
 * r.x.toArray(); // ≈ [1, 1]
 */
export function minimize(fn: (x: Tensor) => Tensor, x0: Tensor, opts: MinimizeOptions = {}): OptimizeResult {
  if (arguments.length > 3) surplus(arguments, "minimize(fn, x0, opts)");
  const method = opts.method ?? "BFGS";
  const methods: MinimizeMethod[] = ["GD", "Newton", "Newton-CG", "BFGS", "L-BFGS", "CG"];
  if (!methods.includes(method)) throw new RangeError(`minimize: unknown method '${method}' (expected one of ${methods.join(", ")})`);
  const n = x0.data.length;
  const tol = opts.tol ?? 1e-5;
  const maxIter = opts.maxIter ?? (method === "GD" ? Math.max(1000, 200 * n) : method === "CG" ? 200 * n : 100 * Math.max(n, 2));
  const obj = new Objective(fn, x0.shape);
  let x = Float64Array.from(x0.data);
  let { f, g } = obj.fg(x);
  const path: number[][] | undefined = opts.returnPath ? [Array.from(x)] : undefined;
  const gradNorms = [norm2(g)];
  let fPrev = f + norm2(g) / 2; // scipy's guess of a previous value, for the first step length
  let nit = 0;
  let message = "Maximum number of iterations has been exceeded.";
  let success = false;
  // per-method state
  let H: Float64Array | null = method === "BFGS" ? identity(n) : null;
  const sHist: Float64Array[] = [],
    yHist: Float64Array[] = [],
    rhoHist: number[] = [];
  let dPrev: Float64Array | null = null,
    gPrev: Float64Array | null = null;

  if (maxAbs(g) <= tol) {
    success = true;
    message = "Optimization terminated successfully.";
  }
  while (!success && nit < maxIter) {
    // 1. search direction
    let d: Float64Array;
    let t0 = 1;
    switch (method) {
      case "GD":
        d = g.map((v) => -v);
        break;
      case "Newton":
        d = dampedNewtonSolve(
          obj.hessian(x),
          g.map((v) => -v),
          n,
        );
        break;
      case "Newton-CG":
        d = truncatedCG(obj, x, g, n);
        break;
      case "BFGS":
        d = matVec(H!, g, n).map((v) => -v);
        break;
      case "L-BFGS":
        const last = sHist.length - 1;
        d = lbfgsDirection(g, sHist, yHist, rhoHist, last >= 0 ? dot(sHist[last], yHist[last]) / dot(yHist[last], yHist[last]) : 1);
        if (nit === 0) t0 = Math.min(1, 1 / g.reduce((a, v) => a + Math.abs(v), 0));
        break;
      case "CG": {
        if (dPrev === null || gPrev === null) d = g.map((v) => -v);
        else {
          const gg = dot(gPrev, gPrev);
          const beta = opts.beta === "FR" ? dot(g, g) / gg : Math.max(0, (dot(g, g) - dot(g, gPrev)) / gg);
          d = g.map((v, i) => -v + beta * dPrev![i]);
          if (dot(d, g) >= 0) d = g.map((v) => -v); // not a descent direction: restart
        }
        break;
      }
    }
    let gtd = dot(g, d);
    if (!(gtd < 0)) {
      d = g.map((v) => -v);
      gtd = dot(g, d);
    }
    if (method === "GD" || method === "CG" || method === "BFGS") {
      const guess = (1.01 * 2 * (f - fPrev)) / gtd;
      t0 = guess > 0 && Number.isFinite(guess) ? Math.min(1, guess) : 1;
    }
    // 2. step length
    let t: number, fNew: number, gNew: Float64Array;
    const xCur = x;
    // At the precision floor f no longer resolves a decrease: a step that keeps f level and shrinks the
    // gradient is accepted there (used for the full Newton step and after a line search that stalls).
    const levelAndBetter = (trial: { f: number; g: Float64Array }) => trial.f <= f + 1e-12 * Math.abs(f) && norm2(trial.g) < norm2(g);
    const newtonFull = method === "Newton" || method === "Newton-CG" ? obj.fg(axpy(xCur, 1, d)) : null;
    if (method === "GD" && opts.lr !== undefined) {
      t = opts.lr;
      ({ f: fNew, g: gNew } = obj.fg(axpy(xCur, t, d)));
    } else if (newtonFull && (newtonFull.f <= f + 1e-4 * gtd || levelAndBetter(newtonFull))) {
      // the full Newton step, on sufficient decrease or at the precision floor
      t = 1;
      ({ f: fNew, g: gNew } = newtonFull);
    } else {
      const r = strongWolfe((tt) => obj.fg(axpy(xCur, tt, d)), t0, d, f, g, gtd, {
        c2: method === "CG" ? 0.4 : 0.9,
        toleranceChange: 1e-12,
        maxLs: 40,
      });
      ({ t, f: fNew, g: gNew } = r);
      if (!(fNew < f)) {
        const trial = obj.fg(axpy(xCur, t0, d));
        if (levelAndBetter(trial)) {
          ({ f: fNew, g: gNew } = trial);
          t = t0;
        }
      }
    }
    const xNew = axpy(x, t, d);
    const s = xNew.map((v, i) => v - x[i]);
    const y = gNew.map((v, i) => v - g[i]);
    // 3. curvature updates
    const sy = dot(s, y);
    if (method === "BFGS" && sy > 1e-12) H = bfgsUpdate(H!, s, y, sy, n);
    if (method === "L-BFGS" && sy > 1e-10) {
      if (sHist.length === (opts.historySize ?? 10)) {
        sHist.shift();
        yHist.shift();
        rhoHist.shift();
      }
      sHist.push(s);
      yHist.push(y);
      rhoHist.push(1 / sy);
    }
    dPrev = d;
    gPrev = g;
    fPrev = f;
    x = xNew;
    f = fNew;
    g = gNew;
    nit++;
    gradNorms.push(norm2(g));
    path?.push(Array.from(x));
    if (maxAbs(g) <= tol) {
      success = true;
      message = "Optimization terminated successfully.";
      break;
    }
    if (!Number.isFinite(f)) {
      message = "The function value is not finite.";
      break;
    }
    if (maxAbs(s) <= 1e-16 * Math.max(1, maxAbs(x)) && Math.abs(f - fPrev) <= 1e-16 * Math.max(1, Math.abs(f))) {
      message = "Desired error not necessarily achieved due to precision loss.";
      break;
    }
  }
  return {
    x: new Tensor(x, x0.shape),
    fun: f,
    grad: new Tensor(g, x0.shape),
    nit,
    nfev: obj.nfev,
    ngev: obj.ngev,
    nhev: obj.nhev,
    success,
    message,
    gradNorms,
    ...(path ? { path } : {}),
  };
}

function identity(n: number): Float64Array {
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  return I;
}

function matVec(A: Float64Array, v: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += A[i * n + k] * v[k];
    out[i] = s;
  }
  return out;
}

/** H ← (I − ρsyᵀ)H(I − ρysᵀ) + ρssᵀ, expanded: H − ρ(s·(Hy)ᵀ + (Hy)·sᵀ) + (ρ²·yᵀHy + ρ)·ssᵀ. */
function bfgsUpdate(H: Float64Array, s: Float64Array, y: Float64Array, sy: number, n: number): Float64Array {
  const rho = 1 / sy;
  const Hy = matVec(H, y, n);
  const yHy = dot(y, Hy);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      out[i * n + j] = H[i * n + j] - rho * (s[i] * Hy[j] + Hy[i] * s[j]) + (rho * rho * yHy + rho) * s[i] * s[j];
    }
  }
  return out;
}

/** Truncated-Newton direction: CG on H·p = −g with H·v products, stopped at residual ≤ min(0.5, √‖g‖₁)·‖g‖₁ or on negative curvature. */
function truncatedCG(obj: Objective, x: Float64Array, g: Float64Array, n: number): Float64Array {
  const mag = g.reduce((a, v) => a + Math.abs(v), 0);
  const term = Math.min(0.5, Math.sqrt(mag)) * mag;
  const p = new Float64Array(n);
  const r = Float64Array.from(g);
  let dir = g.map((v) => -v);
  let rr = dot(r, r);
  for (let i = 0; i < 20 * n; i++) {
    if (r.reduce((a, v) => a + Math.abs(v), 0) <= term) break;
    const Ad = obj.hvp(x, dir);
    const curv = dot(dir, Ad);
    if (curv >= 0 && curv <= 3 * Number.EPSILON) break;
    if (curv < 0) {
      if (i > 0) break;
      return dir.map((v) => (rr / -curv) * v); // negative curvature at once: scaled steepest descent
    }
    const alpha = rr / curv;
    for (let k = 0; k < n; k++) {
      p[k] += alpha * dir[k];
      r[k] += alpha * Ad[k];
    }
    const rr1 = dot(r, r);
    const beta = rr1 / rr;
    dir = dir.map((v, k) => -r[k] + beta * v);
    rr = rr1;
  }
  return p.every((v) => v === 0) ? g.map((v) => -v) : p;
}
