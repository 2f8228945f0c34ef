// Standard optimization test functions, each as a tensor function (for autograd) with its gradient
// and Hessian in closed form and its minima documented.

import { Tensor } from "../tensor/tensor.js";
import { add, mul, pow, sub, sum, matmul } from "../ops/math.js";
import { index, narrow } from "../ops/movement.js";
import { tensor } from "../ops/creation.js";
import { surplus } from "../surplus.js";

export interface TestFunction {
  name: string;
  /** The function of a 1-D tensor x, differentiable by autograd. */
  f: (x: Tensor) => Tensor;
  /** Its value in closed form. */
  value: (x: number[]) => number;
  /** Its gradient in closed form. */
  grad: (x: number[]) => number[];
  /** Its Hessian in closed form (row-major n×n). */
  hessian: (x: number[]) => number[][];
  /** Global minimizers (for the saddle: the stationary point) and the minimum value. */
  minima: number[][];
  fmin: number;
  /** Conventional starting point. */
  start: number[];
}

/**
 * Rosenbrock in n dims: Σᵢ 100·(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)². A curved narrow valley; minimum 0 at (1, …, 1);
 * standard start (−1.2, 1, −1.2, 1, …).
 */
export function rosenbrock(n = 2): TestFunction {
  if (arguments.length > 1) surplus(arguments, "rosenbrock(n)");
  return {
    name: `rosenbrock${n}d`,
    f: (x) => {
      const a = narrow(x, 0, 0, n - 1),
        b = narrow(x, 0, 1, n - 1);
      return sum(add(mul(pow(sub(b, pow(a, 2)), 2), 100), pow(sub(1, a), 2)));
    },
    value: (x) => x.slice(0, -1).reduce((s, xi, i) => s + 100 * (x[i + 1] - xi * xi) ** 2 + (1 - xi) ** 2, 0),
    grad: (x) =>
      x.map((xi, i) => {
        let g = 0;
        if (i < n - 1) g += -400 * xi * (x[i + 1] - xi * xi) - 2 * (1 - xi);
        if (i > 0) g += 200 * (xi - x[i - 1] * x[i - 1]);
        return g;
      }),
    hessian: (x) =>
      x.map((xi, i) =>
        x.map((_, j) => {
          if (i === j) return (i < n - 1 ? 1200 * xi * xi - 400 * x[i + 1] + 2 : 0) + (i > 0 ? 200 : 0);
          if (Math.abs(i - j) === 1) return -400 * x[Math.min(i, j)];
          return 0;
        }),
      ),
    minima: [new Array(n).fill(1)],
    fmin: 0,
    start: Array.from({ length: n }, (_, i) => (i % 2 === 0 ? -1.2 : 1)),
  };
}

const xy = (x: Tensor): [Tensor, Tensor] => [index(x, [0]), index(x, [1])];

/** Beale: (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²; minimum 0 at (3, 0.5); start (1, 1). */
export const beale: TestFunction = {
  name: "beale",
  f: (v) => {
    const [x, y] = xy(v);
    const t = (c: number, k: number) => pow(add(sub(c, x), mul(x, pow(y, k))), 2);
    return add(add(t(1.5, 1), t(2.25, 2)), t(2.625, 3));
  },
  value: ([x, y]) => (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y ** 3) ** 2,
  grad: ([x, y]) => {
    const a = 1.5 - x + x * y,
      b = 2.25 - x + x * y * y,
      c = 2.625 - x + x * y ** 3;
    return [2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * c * (y ** 3 - 1), 2 * a * x + 4 * b * x * y + 6 * c * x * y * y];
  },
  hessian: ([x, y]) => {
    const a = 1.5 - x + x * y,
      b = 2.25 - x + x * y * y,
      c = 2.625 - x + x * y ** 3;
    const hxx = 2 * (y - 1) ** 2 + 2 * (y * y - 1) ** 2 + 2 * (y ** 3 - 1) ** 2;
    const hxy = 2 * x * (y - 1) + 2 * a + 4 * x * y * (y * y - 1) + 4 * b * y + 6 * x * y * y * (y ** 3 - 1) + 6 * c * y * y;
    const hyy = 2 * x * x + 8 * x * x * y * y + 4 * b * x + 18 * x * x * y ** 4 + 12 * c * x * y;
    return [
      [hxx, hxy],
      [hxy, hyy],
    ];
  },
  minima: [[3, 0.5]],
  fmin: 0,
  start: [1, 1],
};

/** Himmelblau: (x² + y − 11)² + (x + y² − 7)²; four minima of value 0; start (0, 0). */
export const himmelblau: TestFunction = {
  name: "himmelblau",
  f: (v) => {
    const [x, y] = xy(v);
    return add(pow(sub(add(pow(x, 2), y), 11), 2), pow(sub(add(x, pow(y, 2)), 7), 2));
  },
  value: ([x, y]) => (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2,
  grad: ([x, y]) => [4 * x * (x * x + y - 11) + 2 * (x + y * y - 7), 2 * (x * x + y - 11) + 4 * y * (x + y * y - 7)],
  hessian: ([x, y]) => [
    [12 * x * x + 4 * y - 42, 4 * x + 4 * y],
    [4 * x + 4 * y, 4 * x + 12 * y * y - 26],
  ],
  minima: [
    [3, 2],
    [-2.805118086952745, 3.131312518250573],
    [-3.779310253377747, -3.28318599128617],
    [3.584428340330492, -1.848126526964404],
  ],
  fmin: 0,
  start: [0, 0],
};

/** Booth: (x + 2y − 7)² + (2x + y − 5)²; a convex quadratic, minimum 0 at (1, 3); start (0, 0). */
export const booth: TestFunction = {
  name: "booth",
  f: (v) => {
    const [x, y] = xy(v);
    return add(pow(sub(add(x, mul(y, 2)), 7), 2), pow(sub(add(mul(x, 2), y), 5), 2));
  },
  value: ([x, y]) => (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2,
  grad: ([x, y]) => [2 * (x + 2 * y - 7) + 4 * (2 * x + y - 5), 4 * (x + 2 * y - 7) + 2 * (2 * x + y - 5)],
  hessian: () => [
    [10, 8],
    [8, 10],
  ],
  minima: [[1, 3]],
  fmin: 0,
  start: [0, 0],
};

/** The saddle x² − y²: gradient zero at the origin, which is no minimum (unbounded below along y). */
export const saddle: TestFunction = {
  name: "saddle",
  f: (v) => {
    const [x, y] = xy(v);
    return sub(pow(x, 2), pow(y, 2));
  },
  value: ([x, y]) => x * x - y * y,
  grad: ([x, y]) => [2 * x, -2 * y],
  hessian: () => [
    [2, 0],
    [0, -2],
  ],
  minima: [[0, 0]],
  fmin: 0,
  start: [1, 1e-3],
};

/**
 * An ill-conditioned quadratic ½·xᵀ·diag(1, κ)·x (κ = condition number, default 100): gradient descent
 * zig-zags across the narrow valley; minimum 0 at the origin; start (κ, 1)·… scaled to (10, 1).
 */
export function illConditionedQuadratic(kappa = 100): TestFunction {
  if (arguments.length > 1) surplus(arguments, "illConditionedQuadratic(kappa)");
  const A = tensor(
    [
      [1, 0],
      [0, kappa],
    ],
    { dtype: "float64" },
  );
  return {
    name: `quadratic_kappa${kappa}`,
    f: (x) => mul(matmul(x, matmul(A.to(x.dtype), x)), 0.5),
    value: ([x, y]) => 0.5 * (x * x + kappa * y * y),
    grad: ([x, y]) => [x, kappa * y],
    hessian: () => [
      [1, 0],
      [0, kappa],
    ],
    minima: [[0, 0]],
    fmin: 0,
    start: [10, 1],
  };
}
