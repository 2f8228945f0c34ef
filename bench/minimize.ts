// Side-by-side report: nb.optim.minimize vs scipy.optimize (counts from fixtures/minimize.json) on the
// fixture problems, at scipy's default tolerance (max |∇f| ≤ 1e-5). Run: npm run report:minimize

import * as nb from "nabla";
import { problemFn } from "../test/problems.js";
import { fixturePath } from "../test/helpers.js";

interface ScipyRun {
  nit: number;
  nfev: number;
  nhev: number;
  gradInf: number;
  success: boolean;
}
interface Problem2 {
  x0: number[];
  xstar: number[];
  fstar: number;
  unique: boolean;
  scipy: Record<string, ScipyRun>;
  data?: { X: number[][]; y: number[]; lambda: number };
}
const fx = nb.testing.loadJsonFixture<{ problems: Record<string, Problem2> }>(fixturePath("minimize.json"));

const peer: Record<string, string> = {
  GD: "—",
  Newton: "trust-exact",
  "Newton-CG": "Newton-CG",
  BFGS: "BFGS",
  "L-BFGS": "L-BFGS-B",
  CG: "CG",
};
const rows: string[] = [
  "| problem | method | nabla nit | nabla nfev | nabla nhev | nabla max|∇f| | scipy method | scipy nit | scipy nfev | scipy nhev | scipy max|∇f| |",
  "|---|---|---|---|---|---|---|---|---|---|---|",
];
for (const [name, p] of Object.entries(fx.problems)) {
  for (const method of ["GD", "Newton", "Newton-CG", "BFGS", "L-BFGS", "CG"] as const) {
    const r = nb.optim.minimize(problemFn(name, p), nb.tensor(p.x0, { dtype: "float64" }), { method, tol: 1e-5, maxIter: 100000 });
    const gInf = Math.max(...Array.from(r.grad.data, Math.abs));
    const s = fx.problems[name].scipy[peer[method]];
    rows.push(
      `| ${name} | ${method} | ${r.nit} | ${r.nfev} | ${r.nhev} | ${gInf.toExponential(1)}${r.success ? "" : " (" + r.message + ")"} | ${peer[method]} | ${s ? s.nit : "—"} | ${s ? s.nfev : "—"} | ${s ? s.nhev : "—"} | ${s ? s.gradInf.toExponential(1) : "—"} |`,
    );
  }
}
console.log(rows.join("\n"));
const p = fx.problems.logreg_breast_cancer;
const nr = nb.optim.minimize(problemFn("logreg_breast_cancer", p), nb.tensor(p.x0, { dtype: "float64" }), { method: "Newton", tol: 1e-12 });
console.log(
  `\nNewton on logistic regression (breast cancer, 569x31, λ = 0.01): ‖∇J‖₂ per iteration: ${nr.gradNorms.map((v) => v.toExponential(2)).join(" → ")}`,
);
