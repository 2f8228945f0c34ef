// The minimize fixture problems (fixtures/minimize.json) as nabla objectives, shared by tests and reports.

import * as nb from "nabla";
import { logisticLoss } from "../examples/logistic_regression.js";

export interface Problem {
  x0: number[];
  xstar: number[];
  fstar: number;
  unique: boolean;
  data?: { X: number[][]; y: number[]; lambda: number };
}

/** The nabla objective of each fixture problem. */
export function problemFn(name: string, p: Problem): (x: nb.Tensor) => nb.Tensor {
  if (name === "rosenbrock2d") return nb.optim.testFunctions.rosenbrock(2).f;
  if (name === "rosenbrock10d") return nb.optim.testFunctions.rosenbrock(10).f;
  if (name === "beale") return nb.optim.testFunctions.beale.f;
  const X = nb.tensor(p.data!.X, { dtype: "float64" });
  const Xb = nb.cat([X, nb.ones([X.shape[0], 1], { dtype: "float64" })], 1);
  return logisticLoss(Xb, nb.tensor(p.data!.y, { dtype: "float64" }), p.data!.lambda);
}
