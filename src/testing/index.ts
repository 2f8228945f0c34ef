// nb.testing: gradcheck / gradgradcheck by central differences, and assertClose — for users' own ops too.

import { Tensor } from "../tensor/tensor.js";
import { defaultGenerator, Generator } from "../tensor/random.js";
import { fmt } from "../tensor/shape.js";
import { grad } from "../autograd/functional.js";
import { randn } from "../ops/creation.js";
import { surplus } from "../surplus.js";

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6, PyTorch's). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-3). */
  rtol?: number;
  /**
   * Compare random directional derivatives vᵀJu instead of the full Jacobian: the number of random
   * (u, v) pairs to try (PyTorch's "fast mode"). Use for ops with many elements.
   */
  randomProjections?: number;
  generator?: Generator;
}

type Fn = (...inputs: Tensor[]) => Tensor | Tensor[];

const asList = (r: Tensor | Tensor[]): Tensor[] => (r instanceof Tensor ? [r] : r);

/** Evaluate fn's outputs as plain numbers (with grad mode on: fn may itself differentiate, as in gradgradcheck). */
function evalOutputs(fn: Fn, inputs: Tensor[]): Float64Array[] {
  return asList(fn(...inputs)).map((o) => Float64Array.from(o.data));
}

/** Numerical Jacobian column-block for one input element, by central differences. */
function centralDiff(fn: Fn, inputs: Tensor[], i: number, k: number, eps: number): Float64Array[] {
  const d = inputs[i].data;
  const orig = d[k];
  d[k] = orig + eps;
  const plus = evalOutputs(fn, inputs);
  d[k] = orig - eps;
  const minus = evalOutputs(fn, inputs);
  d[k] = orig;
  return plus.map((p, o) => p.map((v, j) => (v - minus[o][j]) / (2 * eps)));
}

/** Analytic vector-Jacobian products of the outputs with `vs`, one gradient per input (zeros if unused). */
function analyticVjp(fn: Fn, inputs: Tensor[], vs: Tensor[]): Float64Array[] {
  const outs = asList(fn(...inputs));
  const pairs = outs.map((o, k) => [o, vs[k]] as const).filter(([o]) => o.requiresGrad);
  if (pairs.length === 0) return inputs.map((x) => new Float64Array(x.data.length));
  const gs = grad(
    pairs.map((p) => p[0]),
    inputs,
    { gradOutputs: pairs.map((p) => p[1]), allowUnused: true },
  );
  return gs.map((g) => Float64Array.from(g.data));
}

function checkInputs(inputs: Tensor[], op: string): void {
  inputs.forEach((x, i) => {
    if (!(x instanceof Tensor)) throw new TypeError(`${op}: input ${i} is not a Tensor`);
    if (x.dtype !== "float64") throw new TypeError(`${op}: input ${i} is ${x.dtype}; finite differences need float64 inputs`);
    if (!x.requiresGrad) throw new Error(`${op}: input ${i} must have requiresGrad: true`);
  });
}

/**
 * Check the gradients autograd computes for `fn` against central finite differences, like
 * `torch.autograd.gradcheck`. Inputs must be float64 tensors that require grad. Returns true, or
 * throws an error naming the output, input, element and both values.
 *
 * @example
 * nb.testing.gradcheck((x) => x.tanh().sum(), [nb.randn([3], { dtype: "float64", requiresGrad: true })]);
 */
export function gradcheck(fn: Fn, inputs: Tensor[], opts: GradcheckOptions = {}): true {
  if (arguments.length > 3) surplus(arguments, "gradcheck(fn, inputs, opts)");
  const eps = opts.eps ?? 1e-6,
    atol = opts.atol ?? 1e-5,
    rtol = opts.rtol ?? 1e-3;
  checkInputs(inputs, "gradcheck");
  const outs0 = evalOutputs(fn, inputs);
  const shapes = asList(fn(...inputs)).map((o) => o.shape);
  const fail = (what: string, a: number, n: number): never => {
    throw new Error(`gradcheck: Jacobian mismatch for ${what}: analytical ${a} vs numerical ${n} (atol ${atol}, rtol ${rtol})`);
  };
  if (opts.randomProjections) {
    const gen = opts.generator ?? defaultGenerator;
    for (let t = 0; t < opts.randomProjections; t++) {
      const vs = shapes.map((s) => randn(s, { dtype: "float64", generator: gen }));
      const us = inputs.map((x) => randn(x.shape, { dtype: "float64", generator: gen }));
      const a = analyticVjp(fn, inputs, vs).reduce((acc, g, i) => acc + g.reduce((s, v, k) => s + v * us[i].data[k], 0), 0);
      const saved = inputs.map((x) => x.data.slice());
      const shifted = (sgn: number) => {
        inputs.forEach((x, i) => x.data.forEach((_, k) => (x.data[k] = saved[i][k] + sgn * eps * us[i].data[k])));
        const o = evalOutputs(fn, inputs);
        return o.reduce((acc, out, j) => acc + out.reduce((s, v, k) => s + v * vs[j].data[k], 0), 0);
      };
      const n = (shifted(1) - shifted(-1)) / (2 * eps);
      inputs.forEach((x, i) => x.data.set(saved[i]));
      if (!(Math.abs(a - n) <= atol + rtol * Math.abs(n))) fail(`random projection ${t}`, a, n);
    }
    return true;
  }
  // Full Jacobian: numerical columns by perturbing each input element; analytical rows by backward of e_j.
  const numeric = inputs.map((x, i) => Array.from({ length: x.data.length }, (_, k) => centralDiff(fn, inputs, i, k, eps)));
  outs0.forEach((out, o) => {
    for (let j = 0; j < out.length; j++) {
      const vs = shapes.map((s, q) => {
        const v = new Tensor(new Float64Array(out.length === 0 ? 0 : s.reduce((a, b) => a * b, 1)), s);
        if (q === o) v.data[j] = 1;
        return v;
      });
      const rows = analyticVjp(fn, inputs, vs);
      rows.forEach((row, i) =>
        row.forEach((a, k) => {
          const n = numeric[i][k][o][j];
          if (!(Math.abs(a - n) <= atol + rtol * Math.abs(n))) {
            fail(`output ${o} element ${j} w.r.t. input ${i} element ${k} (input shape ${fmt(inputs[i].shape)})`, a, n);
          }
        }),
      );
    }
  });
  return true;
}

/**
 * Check second derivatives: gradcheck of x ↦ vᵀ·∂fn/∂x for a fixed random v, with the first
 * derivative computed by autograd with `createGraph: true`.
 */
export function gradgradcheck(fn: Fn, inputs: Tensor[], opts: GradcheckOptions = {}): true {
  if (arguments.length > 3) surplus(arguments, "gradgradcheck(fn, inputs, opts)");
  checkInputs(inputs, "gradgradcheck");
  const gen = opts.generator ?? new Generator(1234);
  const shapes = asList(fn(...inputs)).map((o) => o.shape);
  const vs = shapes.map((s) => randn(s, { dtype: "float64", generator: gen }));
  const first = (...xs: Tensor[]) => {
    const outs = asList(fn(...xs));
    const pairs = outs.map((o, k) => [o, vs[k]] as const).filter(([o]) => o.requiresGrad);
    return grad(
      pairs.map((p) => p[0]),
      xs,
      { gradOutputs: pairs.map((p) => p[1]), createGraph: true, allowUnused: true },
    );
  };
  return gradcheck(first, inputs, opts);
}

export interface CloseOptions {
  rtol?: number;
  atol?: number;
  /** Prefix for the error message. */
  msg?: string;
  /** Treat NaNs in the same positions as equal (default false, as torch.testing.assert_close: a NaN is a failure unless asked). */
  equalNan?: boolean;
}

type Numeric = Tensor | number | ArrayLike<number> | readonly unknown[];

function flat(v: Numeric): { data: ArrayLike<number>; shape: number[] | null } {
  if (v instanceof Tensor) return { data: v.data, shape: [...v.shape] };
  if (typeof v === "number") return { data: [v], shape: null };
  if (ArrayBuffer.isView(v)) return { data: v as ArrayLike<number>, shape: null };
  return { data: (v as unknown[]).flat(Infinity) as number[], shape: null };
}

/**
 * Assert |actual − expected| ≤ atol + rtol·|expected| elementwise (defaults rtol 1e-5, atol 1e-8),
 * with an error that gives the worst element, its index and both values.
 */
export function assertClose(actual: Numeric, expected: Numeric, opts: CloseOptions = {}): void {
  if (arguments.length > 3) surplus(arguments, "assertClose(actual, expected, opts)");
  const rtol = opts.rtol ?? 1e-5,
    atol = opts.atol ?? 1e-8;
  const a = flat(actual),
    e = flat(expected);
  const prefix = opts.msg ? `${opts.msg}: ` : "";
  if (a.shape && e.shape && (a.shape.length !== e.shape.length || a.shape.some((s, i) => s !== e.shape![i]))) {
    throw new Error(`${prefix}shape mismatch: actual ${fmt(a.shape)} vs expected ${fmt(e.shape)}`);
  }
  if (a.data.length !== e.data.length)
    throw new Error(`${prefix}size mismatch: actual has ${a.data.length} elements, expected ${e.data.length}`);
  let worst = -1,
    worstExcess = 0,
    bad = 0;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i],
      y = e.data[i];
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) && Number.isNaN(y) && opts.equalNan === true) continue;
      bad++;
      if (worst < 0 || worstExcess !== Infinity) {
        worst = i;
        worstExcess = Infinity;
      }
      continue;
    }
    if (x === y) continue;
    const excess = Math.abs(x - y) - (atol + rtol * Math.abs(y));
    if (excess > 0) {
      bad++;
      if (excess > worstExcess || worst < 0) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (bad > 0) {
    const x = a.data[worst],
      y = e.data[worst];
    throw new Error(
      `${prefix}${bad} of ${a.data.length} elements differ; worst at flat index ${worst}: actual ${x} vs expected ${y} ` +
        `(|diff| ${Math.abs(x - y)}, allowed ${atol + rtol * Math.abs(y)}; rtol ${rtol}, atol ${atol})`,
    );
  }
}
export { decodeTensor, loadJsonFixture, type EncodedTensor } from "./fixtures.js";
export * as testFunctions from "./test_functions.js";
