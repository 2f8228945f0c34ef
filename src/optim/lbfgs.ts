// L-BFGS — torch.optim.LBFGS (1.13): two-loop recursion, optional strong-Wolfe line search.

import { noGrad } from "../autograd/engine.js";
import { Tensor } from "../tensor/tensor.js";
import { check, Optimizer, stateCount, stateNumber, type ParamState, type ParamsInput, type StateSpec } from "./optimizer.js";
import { hyper, optimArgs, type Param } from "./optimizer.js";
import { checks } from "../ops/args.js";
import { dot, lbfgsDirection, maxAbs, strongWolfe } from "./linesearch.js";

export interface LBFGSOptions {
  /** Step length multiplier (default 1). */
  lr?: number;
  /** Iterations per `step` call (default 20). */
  maxIter?: number;
  /** Function evaluations per `step` call (default ⌊maxIter · 5/4⌋). */
  maxEval?: number | null;
  /** Stop when max |g| ≤ this (default 1e-7). */
  toleranceGrad?: number;
  /** Stop when the step or the loss change is below this (default 1e-9). */
  toleranceChange?: number;
  /** Number of (s, y) pairs kept (default 100). */
  historySize?: number;
  lineSearchFn?: "strong_wolfe" | null;
}

type Config = Required<LBFGSOptions> & { maxEval: number };

/**
 * Limited-memory BFGS (Liu & Nocedal 1989; the implementation follows minFunc as torch.optim does).
 * Each iteration:
 *
 * 1. d ← −H·g by the two-loop recursion over the last m pairs (sᵢ = θᵢ₊₁ − θᵢ, yᵢ = gᵢ₊₁ − gᵢ),
 *    with H₀ = (sᵀy / yᵀy)·I; a pair is kept only if yᵀs > 1e-10
 * 2. t ← min(1, 1/‖g‖₁)·lr on the first iteration, lr afterwards; or a strong-Wolfe search
 * 3. θ ← θ + t·d
 *
 * `step(closure)` needs a closure: it zeroes grads, computes the loss, calls backward(), returns the loss.
 *
 * @example
 * const opt = new nb.optim.LBFGS(model.parameters(), { lineSearchFn: "strong_wolfe" });
 * opt.step(() => { opt.zeroGrad(); const l = lossFn(); l.backward(); return l; });
 */
/** torch.optim.LBFGS's settings in its positional order. */
const LBFGS_ARGS: Param[] = [
  hyper("lr"),
  { name: "maxIter", check: checks.int(1) },
  { name: "maxEval", check: checks.orNull(checks.int(1)) },
  hyper("toleranceGrad"),
  hyper("toleranceChange"),
  { name: "historySize", check: checks.int(1) },
  { name: "lineSearchFn", check: checks.oneOf(null, "strong_wolfe") },
];

export class LBFGS extends Optimizer<Config> {
  private readonly params: Tensor[];

  constructor(params: ParamsInput<Config>, opts?: LBFGSOptions);
  constructor(
    params: ParamsInput<Config>,
    lr?: number,
    maxIter?: number,
    maxEval?: number | null,
    toleranceGrad?: number,
    toleranceChange?: number,
    historySize?: number,
    lineSearchFn?: "strong_wolfe" | null,
  );
  constructor(params: ParamsInput<Config>, ...args: unknown[]) {
    const opts = optimArgs<LBFGSOptions>("LBFGS", LBFGS_ARGS, args);
    const maxIter = opts.maxIter ?? 20;
    super(params, {
      lr: 1,
      maxIter,
      toleranceGrad: 1e-7,
      toleranceChange: 1e-9,
      historySize: 100,
      lineSearchFn: null,
      ...opts,
      maxEval: opts.maxEval ?? Math.floor((maxIter * 5) / 4),
    });
    if (this.paramGroups.length !== 1) throw new Error("LBFGS doesn't support per-parameter options (parameter groups)");
    this.params = this.paramGroups[0].params;
  }

  protected validate(o: Config): void {
    check(o.lr >= 0, `Invalid learning rate: ${o.lr}`);
    for (const k of ["maxIter", "maxEval", "historySize"] as const)
      check(Number.isSafeInteger(o[k]) && (o[k] as number) >= 1, `LBFGS: ${k} must be an integer ≥ 1, got ${o[k]}`);
    for (const k of ["toleranceGrad", "toleranceChange"] as const) check(o[k] >= 0, `LBFGS: ${k} must be ≥ 0, got ${o[k]}`);
    check(
      o.lineSearchFn === null || o.lineSearchFn === "strong_wolfe",
      `LBFGS: only 'strong_wolfe' is supported as lineSearchFn, got '${o.lineSearchFn}'`,
    );
  }

  /**
   * LBFGS keeps its state on the first parameter: the evaluation and iteration counts, and once it has
   * iterated, the last direction and step, the curvature pairs (at most historySize, each of the flat
   * parameter length), their 1/yᵀs, the initial Hessian scale and the previous gradient and loss.
   */
  protected override stateSpec(g: Config, p: Tensor, s: ParamState): StateSpec {
    if (p !== this.params[0]) return {};
    const n = this.numel();
    const counts = { func_evals: stateCount, n_iter: stateCount };
    if (s.n_iter === 0 && Object.keys(s).every((k) => k in counts)) return counts;
    const flat = (v: unknown) => (v instanceof Float64Array && v.length === n ? null : `must be ${n} numbers (the parameters' length)`);
    const pairs = Array.isArray(s.old_dirs) ? s.old_dirs.length : -1;
    const list = (v: unknown) =>
      !Array.isArray(v) || v.length !== pairs || pairs > g.historySize || v.some((e) => flat(e) !== null)
        ? `must be a list of at most historySize (${g.historySize}) arrays of ${n} numbers, as long as old_dirs`
        : null;
    const ro = (v: unknown) =>
      Array.isArray(v) && v.length === pairs && v.every((e) => stateNumber(e) === null)
        ? null
        : "must be one finite number per pair in old_dirs";
    return {
      ...counts,
      d: flat,
      t: stateNumber,
      old_dirs: list,
      old_stps: list,
      ro,
      H_diag: stateNumber,
      prev_flat_grad: flat,
      prev_loss: stateNumber,
    };
  }

  private numel(): number {
    return this.params.reduce((a, p) => a + p.data.length, 0);
  }

  private flatGrad(): Float64Array {
    const out = new Float64Array(this.numel());
    let off = 0;
    for (const p of this.params) {
      if (p.grad) out.set(p.grad.data, off);
      off += p.data.length;
    }
    return out;
  }

  private addGrad(t: number, d: Float64Array): void {
    let off = 0;
    for (const p of this.params) {
      const th = p.data;
      for (let i = 0; i < th.length; i++) th[i] = th[i] + t * d[off + i];
      off += th.length;
    }
  }

  private cloneParams(): Float64Array[] {
    return this.params.map((p) => Float64Array.from(p.data));
  }

  private setParams(x: Float64Array[]): void {
    this.params.forEach((p, i) => p.data.set(x[i]));
  }

  /** Run up to `maxIter` iterations; returns the loss of the first closure evaluation. */
  step(closure?: () => Tensor | number): number {
    if (!closure)
      throw new Error("LBFGS.step requires a closure that zeroes grads, computes the loss, calls backward() and returns the loss");
    const run = () => this.evaluate(closure) as number;
    const group = this.paramGroups[0];
    const { lr, maxIter, maxEval, toleranceGrad, toleranceChange, lineSearchFn, historySize } = group;
    const state = this.stateOf(this.params[0]) as Record<string, any>;
    state.func_evals ??= 0;
    state.n_iter ??= 0;
    const origLoss = run();
    let loss = origLoss;
    let currentEvals = 1;
    state.func_evals += 1;
    let flatGrad = this.flatGrad();
    if (maxAbs(flatGrad) <= toleranceGrad) return origLoss;
    let d: Float64Array = state.d,
      t: number = state.t;
    let oldDirs: Float64Array[] = state.old_dirs,
      oldStps: Float64Array[] = state.old_stps,
      ro: number[] = state.ro;
    let hDiag: number = state.H_diag;
    let prevFlatGrad: Float64Array | undefined = state.prev_flat_grad;
    let prevLoss: number = state.prev_loss;
    let nIter = 0;
    noGrad(() => {
      while (nIter < maxIter) {
        nIter++;
        state.n_iter++;
        if (state.n_iter === 1) {
          d = flatGrad.map((v) => -v);
          oldDirs = [];
          oldStps = [];
          ro = [];
          hDiag = 1;
        } else {
          const y = flatGrad.map((v, i) => v - prevFlatGrad![i]);
          const s = d.map((v) => v * t);
          const ys = dot(y, s);
          if (ys > 1e-10) {
            if (oldDirs.length === historySize) {
              oldDirs.shift();
              oldStps.shift();
              ro.shift();
            }
            oldDirs.push(y);
            oldStps.push(s);
            ro.push(1 / ys);
            hDiag = ys / dot(y, y);
          }
          d = lbfgsDirection(flatGrad, oldStps, oldDirs, ro, hDiag);
        }
        prevFlatGrad = Float64Array.from(flatGrad);
        prevLoss = loss;
        t = state.n_iter === 1 ? Math.min(1, 1 / flatGrad.reduce((a, v) => a + Math.abs(v), 0)) * lr : lr;
        const gtd = dot(flatGrad, d);
        if (gtd > -toleranceChange) break;
        let lsEvals = 0;
        let optCond = false;
        if (lineSearchFn !== null) {
          const x0 = this.cloneParams();
          const obj = (tt: number) => {
            this.addGrad(tt, d);
            const f = run();
            const g = this.flatGrad();
            this.setParams(x0);
            return { f, g };
          };
          const r = strongWolfe(obj, t, d, loss, flatGrad, gtd);
          loss = r.f;
          flatGrad = r.g;
          t = r.t;
          lsEvals = r.evals;
          this.addGrad(t, d);
          optCond = maxAbs(flatGrad) <= toleranceGrad;
        } else {
          this.addGrad(t, d);
          if (nIter !== maxIter) {
            loss = run();
            flatGrad = this.flatGrad();
            optCond = maxAbs(flatGrad) <= toleranceGrad;
            lsEvals = 1;
          }
        }
        currentEvals += lsEvals;
        state.func_evals += lsEvals;
        if (nIter === maxIter || currentEvals >= maxEval || optCond) break;
        if (maxAbs(d) * Math.abs(t) <= toleranceChange) break;
        if (Math.abs(loss - prevLoss) < toleranceChange) break;
      }
    });
    Object.assign(state, {
      d,
      t,
      old_dirs: oldDirs,
      old_stps: oldStps,
      ro,
      H_diag: hDiag,
      prev_flat_grad: prevFlatGrad,
      prev_loss: prevLoss,
    });
    return origLoss;
  }
}
