import { surplus } from "../surplus.js"; // Strong-Wolfe line search with cubic interpolation (Nocedal & Wright, Alg. 3.5/3.6), as torch.optim.LBFGS
// implements it (after minFunc); shared by LBFGS and every method of `minimize`.

/** Evaluate the objective at x + t·d: the value and the gradient (a fresh array). */
export type DirectionalObjective = (t: number) => { f: number; g: Float64Array };

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (v > m || v !== v) m = v;
  }
  return m;
}

/** Minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to `bounds` (bisection if none). */
export function cubicInterpolate(
  x1: number,
  f1: number,
  g1: number,
  x2: number,
  f2: number,
  g2: number,
  bounds?: [number, number],
): number {
  if (arguments.length > 7) surplus(arguments, "cubicInterpolate(x1, f1, g1, x2, f2, g2, bounds)");
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2sq = d1 * d1 - g1 * g2;
  if (d2sq >= 0) {
    const d2 = Math.sqrt(d2sq);
    const minPos =
      x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)) : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return Math.min(Math.max(minPos, lo), hi);
  }
  return (lo + hi) / 2;
}

export interface WolfeOptions {
  /** Sufficient-decrease constant (default 1e-4). */
  c1?: number;
  /** Curvature constant (default 0.9; 0.1–0.4 for conjugate gradient). */
  c2?: number;
  toleranceChange?: number;
  /** Maximum number of evaluations (default 25). */
  maxLs?: number;
}

/**
 * Find t satisfying the strong Wolfe conditions f(x + t d) ≤ f + c1·t·gᵀd and |∇f(x + t d)ᵀd| ≤ c2·|gᵀd|,
 * starting from `t`: bracket by cubic extrapolation, then zoom by safeguarded cubic interpolation.
 * Returns the accepted step with its value, gradient and the number of evaluations.
 */
export function strongWolfe(
  obj: DirectionalObjective,
  t: number,
  d: Float64Array,
  f: number,
  g: Float64Array,
  gtd: number,
  opts: WolfeOptions = {},
): { f: number; g: Float64Array; t: number; evals: number } {
  if (arguments.length > 7) surplus(arguments, "strongWolfe(obj, t, d, f, g, gtd, opts)");
  const c1 = opts.c1 ?? 1e-4,
    c2 = opts.c2 ?? 0.9,
    tolChange = opts.toleranceChange ?? 1e-9,
    maxLs = opts.maxLs ?? 25;
  const dNorm = maxAbs(d);
  let { f: fNew, g: gNew } = obj(t);
  let evals = 1;
  let gtdNew = dot(gNew, d);
  let tPrev = 0,
    fPrev = f,
    gPrev = g,
    gtdPrev = gtd;
  let done = false;
  let lsIter = 0;
  let bracket: number[] = [],
    bf: number[] = [],
    bg: Float64Array[] = [],
    bgtd: number[] = [];
  while (lsIter < maxLs) {
    if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev)) {
      bracket = [tPrev, t];
      bf = [fPrev, fNew];
      bg = [gPrev, gNew];
      bgtd = [gtdPrev, gtdNew];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      bracket = [t];
      bf = [fNew];
      bg = [gNew];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      bracket = [tPrev, t];
      bf = [fPrev, fNew];
      bg = [gPrev, gNew];
      bgtd = [gtdPrev, gtdNew];
      break;
    }
    // extrapolate with a cubic, between 1.01·t and 10·t
    const minStep = t + 0.01 * (t - tPrev),
      maxStep = t * 10;
    const tmp = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    tPrev = tmp;
    fPrev = fNew;
    gPrev = gNew;
    gtdPrev = gtdNew;
    ({ f: fNew, g: gNew } = obj(t));
    evals++;
    gtdNew = dot(gNew, d);
    lsIter++;
  }
  if (lsIter === maxLs) {
    bracket = [0, t];
    bf = [f, fNew];
    bg = [g, gNew];
    bgtd = [gtd, gtdNew];
  }
  // zoom
  let insufProgress = false;
  let [lowPos, highPos] = bf[0] <= bf[bf.length - 1] ? [0, 1] : [1, 0];
  while (!done && lsIter < maxLs) {
    if (Math.abs(bracket[1] - bracket[0]) * dNorm < tolChange) break;
    t = cubicInterpolate(bracket[0], bf[0], bgtd[0], bracket[1], bf[1], bgtd[1]);
    const bmax = Math.max(...bracket),
      bmin = Math.min(...bracket);
    const eps = 0.1 * (bmax - bmin);
    if (Math.min(bmax - t, t - bmin) < eps) {
      // too close to a bracket end: move away unless progress was fine last time
      if (insufProgress || t >= bmax || t <= bmin) {
        t = Math.abs(t - bmax) < Math.abs(t - bmin) ? bmax - eps : bmin + eps;
        insufProgress = false;
      } else insufProgress = true;
    } else insufProgress = false;
    ({ f: fNew, g: gNew } = obj(t));
    evals++;
    gtdNew = dot(gNew, d);
    lsIter++;
    if (fNew > f + c1 * t * gtd || fNew >= bf[lowPos]) {
      bracket[highPos] = t;
      bf[highPos] = fNew;
      bg[highPos] = gNew;
      bgtd[highPos] = gtdNew;
      [lowPos, highPos] = bf[0] <= bf[1] ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) done = true;
      else if (gtdNew * (bracket[highPos] - bracket[lowPos]) >= 0) {
        bracket[highPos] = bracket[lowPos];
        bf[highPos] = bf[lowPos];
        bg[highPos] = bg[lowPos];
        bgtd[highPos] = bgtd[lowPos];
      }
      bracket[lowPos] = t;
      bf[lowPos] = fNew;
      bg[lowPos] = gNew;
      bgtd[lowPos] = gtdNew;
    }
  }
  return { f: bf[lowPos], g: bg[lowPos], t: bracket[lowPos], evals };
}

/**
 * d = −H·g by the L-BFGS two-loop recursion (Nocedal & Wright, Algorithm 7.4) over the pairs sᵢ = θᵢ₊₁ − θᵢ,
 * yᵢ = gᵢ₊₁ − gᵢ (oldest first) with ρᵢ = 1 / yᵢᵀsᵢ and H₀ = h0·I (h0 = sᵀy / yᵀy of the newest pair, or 1).
 * Shared by optim.LBFGS and minimize's "L-BFGS".
 */
export function lbfgsDirection(
  g: Float64Array,
  S: readonly Float64Array[],
  Y: readonly Float64Array[],
  rho: readonly number[],
  h0: number,
): Float64Array {
  const q = g.map((v) => -v);
  const alpha = new Array<number>(S.length);
  for (let i = S.length - 1; i >= 0; i--) {
    alpha[i] = dot(S[i], q) * rho[i];
    const y = Y[i];
    for (let k = 0; k < q.length; k++) q[k] += -alpha[i] * y[k];
  }
  for (let k = 0; k < q.length; k++) q[k] *= h0;
  for (let i = 0; i < S.length; i++) {
    const beta = dot(Y[i], q) * rho[i];
    const s = S[i];
    for (let k = 0; k < q.length; k++) q[k] += (alpha[i] - beta) * s[k];
  }
  return q;
}
