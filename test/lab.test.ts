// The lab: each experiment's claim checked quantitatively at fast settings, against closed forms or
// independent figures where they exist; parameters validated; runs deterministic; the CLI's files written.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as lab from "../src/lab/index.js";
import * as nb from "../src/index.js";
import { ROOT } from "./helpers.js";

const run = (id: string, extra: Record<string, unknown> = {}, seed = 0) => {
  const e = lab.getExperiment(id);
  return lab.runExperiment(id, { ...e.fast, ...extra }, seed);
};
const near = (a: number, b: number, rel: number, msg: string) => assert.ok(Math.abs(a / b - 1) <= rel, `${msg}: ${a} vs ${b}`);

test("quadratic: GD contracts by (κ−1)/(κ+1), tuned heavy ball by ≈ (√κ−1)/(√κ+1); GD above 2/L diverges", () => {
  for (const kappa of [25, 100]) {
    const r = run("quadratic", { kappa });
    assert.ok(r.holds, r.verdict);
    near(r.numbers.gdRate, (kappa - 1) / (kappa + 1), 1e-3, `κ ${kappa} GD rate`);
    const s = Math.sqrt(kappa);
    assert.ok(Math.abs(r.numbers.momentumRate - (s - 1) / (s + 1)) < 0.03, `κ ${kappa} heavy-ball rate ${r.numbers.momentumRate}`);
    assert.ok(r.numbers.momentumSteps * 3 < r.numbers.gdSteps, "momentum needs far fewer steps");
    assert.equal(r.numbers.userDiverged, 1);
  }
  const below = run("quadratic", { lrScale: 0.98 });
  assert.equal(below.numbers.userDiverged, 0, "just below 2/L, GD converges");
});

test("adaptive: AdaGrad's step lr/√t, RMSProp's lr/√(1−0.9^t), Adam's lr; uncorrected Adam's first step (1−β1)/√(1−β2)·lr", () => {
  const r = run("adaptive");
  assert.ok(r.holds, r.verdict);
  assert.ok(r.numbers.adagradClosedFormError < 1e-6 && r.numbers.rmspropClosedFormError < 1e-6 && r.numbers.adamClosedFormError < 1e-6);
  near(r.numbers.adagradDecay10to1000, 10, 1e-6, "AdaGrad step 10 / step 1000");
  near(r.numbers.uncorrectedFirstStepRatio, 0.1 / Math.sqrt(0.001), 1e-6, "uncorrected first step");
  assert.ok(r.numbers.lossAdagrad > 5 * r.numbers.lossAdam, "AdaGrad's decayed rate leaves it behind on noisy least squares");
});

test("batch-size: updates per epoch, and gradient noise against (m−b)/(b(m−1))·σ²", () => {
  const r = run("batch-size");
  assert.ok(r.holds, r.verdict);
  assert.deepEqual([r.numbers.updatesStochastic, r.numbers.updatesMini, r.numbers.updatesBatch], [800, 25, 1]);
  near(r.numbers.noiseStochastic, r.numbers.noiseStochasticTheory, 0.2, "b = 1 noise");
  near(r.numbers.noiseMini, r.numbers.noiseMiniTheory, 0.2, "b = 32 noise");
  near(r.numbers.noiseStochasticTheory / r.numbers.noiseMiniTheory, 799 / 1 / ((800 - 32) / 32), 1e-9, "the closed form's ratio");
});

test("paths: second-order methods converge on Rosenbrock and Beale in a few dozen iterations; at the saddle pure Newton is captured, GD escapes", () => {
  for (const f of ["rosenbrock", "beale"]) {
    const r = run("paths", { function: f });
    assert.ok(r.holds, r.verdict);
    for (const m of ["Newton", "BFGS", "L-BFGS", "CG"]) {
      assert.ok(r.numbers[`${m} iterations`] < 100, `${f} ${m}: ${r.numbers[`${m} iterations`]}`);
      assert.ok(r.numbers[`${m} f`] < 1e-10, `${f} ${m} f = ${r.numbers[`${m} f`]}`);
    }
  }
  const s = run("paths", { function: "saddle" });
  assert.ok(s.holds, s.verdict);
  assert.ok(s.numbers.pureNewtonDistanceToSaddle < 1e-12);
  assert.ok(s.numbers.gdFinalY > 0.5);
});

test("newton: quadratic convergence measured (order ≈ 2) and fewer iterations than every other method", () => {
  const r = run("newton");
  assert.ok(r.holds, r.verdict);
  assert.ok(r.numbers.newtonOrder > 1.7, `order ${r.numbers.newtonOrder}`);
  assert.ok(r.numbers["Newton iterations"] < 15);
  assert.ok(r.numbers["Newton Hessian evaluations"] > 0 && r.numbers["BFGS Hessian evaluations"] === 0);
});

test("schedules: closed forms to rounding; reduce-on-plateau lowers the rate and the noise floor", () => {
  const r = run("schedules");
  assert.ok(r.holds, r.verdict);
  assert.ok(r.numbers.closedFormDeviation < 1e-12);
  assert.ok(r.numbers.plateauCuts >= 1);
  assert.ok(r.numbers.lossPlateau < r.numbers.lossConstant);
});

test("losses: BCE vs MSE gradients at a saturated sigmoid (closed forms), robust slopes under outliers, multi-label, L2 shrinkage", () => {
  const z = -8;
  const r = run("losses", { logit: z });
  assert.ok(r.holds, r.verdict);
  const s = 1 / (1 + Math.exp(-z));
  near(r.numbers.gradBce, s - 1, 1e-12, "∂BCE/∂z");
  near(r.numbers.gradMse, 2 * (s - 1) * s * (1 - s), 1e-9, "∂MSE/∂z");
  assert.ok(Math.abs(r.numbers.slopeL1 - 2) < 0.05 && Math.abs(r.numbers.slopeSmoothL1 - 2) < 0.1, "robust fits keep the slope");
  assert.ok(Math.abs(r.numbers.slopeL2 - 2) > 0.3, "least squares is pulled by the outliers");
  assert.ok(r.numbers.sigmoidLabel0 > 0.9 && r.numbers.softmaxLabel0 <= 0.5 + 1e-9);
  assert.ok(r.numbers.weightNormL2Ten < r.numbers.weightNormL2Zero / 10);
});

test("depth: on the Fashion-MNIST slice the deeper plain net trains worse than the shallow one, the residual one better", () => {
  // the slice handed in, as a page does (dist/ finds it by itself; this test build's copy of the code does not)
  const set = nb.data.mnistFormat(join(ROOT, "data", "fashion-mnist-slice"), "train").set;
  const e = lab.getExperiment("depth");
  const r = lab.runExperiment("depth", e.fast, 0, () => {}, { fashionTrain: { images: set.images, labels: set.labels, count: set.count } });
  assert.ok(r.holds, r.verdict);
  assert.ok(r.numbers.lossDeepPlain > r.numbers.lossShallowPlain && r.numbers.lossDeepResidual < r.numbers.lossDeepPlain);
});

test("zoo: the comparisons use the zoo's exact counts (torchvision's for VGG-16 and GoogLeNet)", () => {
  const r = run("zoo");
  assert.ok(r.holds, r.verdict);
  assert.equal(r.numbers["vgg16 params"], 138_357_544);
  assert.equal(r.numbers["googlenet params"], 6_624_904); // without the auxiliary classifiers
  assert.ok(r.numbers["vgg16 / googlenet params"] > 20);
});

test("batchnorm: BN trains at a larger learning rate; train and eval modes differ; the running mean tracks the data", () => {
  const r = run("batchnorm");
  assert.ok(r.holds, r.verdict);
  assert.ok(r.numbers.largestLrBn > r.numbers.largestLrPlain);
  assert.ok(r.numbers.trainEvalMaxDifference > 1e-4);
  assert.ok(r.numbers.runningMeanRelativeError < 0.2);
  assert.ok(Number.isFinite(r.numbers.lossBnAfterRelu) && Number.isFinite(r.numbers.lossBnBeforeRelu), "both placements measured");
});

const MISSION = join(ROOT, "..", "shared", "MISSION.md");
test(
  "every experiment's claim is quoted word for word from the primer's topic list",
  { skip: existsSync(MISSION) ? false : `${MISSION} is not beside this checkout` },
  () => {
    const mission = readFileSync(MISSION, "utf8").replace(/\s+/g, " ");
    for (const e of lab.experiments)
      for (const part of e.claim.split(" … ")) assert.ok(mission.includes(part.trim()), `${e.id}: '${part}' is not in MISSION.md`);
  },
);

test("every experiment: parameters checked, deterministic for a seed", () => {
  for (const e of lab.experiments) assert.throws(() => lab.runExperiment(e.id, { nope: 1 }), /unknown parameter 'nope'/);
  assert.throws(() => lab.runExperiment("quadratic", { kappa: 1 }), RangeError);
  assert.throws(() => lab.runExperiment("quadratic", { kappa: "10" }), TypeError);
  assert.throws(() => lab.runExperiment("paths", { function: "himmelblau" }), RangeError);
  assert.throws(() => lab.getExperiment("nope"), /unknown experiment/);
  const a = run("batch-size", {}, 7),
    b = run("batch-size", {}, 7),
    c = run("batch-size", {}, 8);
  const noTime = (n: Record<string, number>) => Object.fromEntries(Object.entries(n).filter(([k]) => !k.startsWith("ms")));
  assert.deepEqual(noTime(a.numbers), noTime(b.numbers));
  assert.notDeepEqual(noTime(a.numbers), noTime(c.numbers));
});

test("nabla lab list / run: the verdict printed, metrics JSON and an SVG figure written", () => {
  const CLI = join(ROOT, "dist", "cli", "main.js");
  const out = mkdtempSync(join(tmpdir(), "nabla-lab-"));
  try {
    const l = spawnSync(process.execPath, [CLI, "lab", "list"], { encoding: "utf8" });
    assert.equal(l.status, 0, l.stderr);
    for (const e of lab.experiments) assert.match(l.stdout, new RegExp(`^${e.id} `, "m"));
    const r = spawnSync(process.execPath, [CLI, "lab", "run", "quadratic", "--kappa", "50", "--out", out], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /holds at these settings: κ = 50/);
    const json = JSON.parse(readFileSync(join(out, "quadratic.json"), "utf8"));
    assert.equal(json.params.kappa, 50);
    assert.equal(json.holds, true);
    assert.ok(json.plots[0].series.length === 4 && json.plots[0].series[0].points.length > 10);
    const svg = readFileSync(join(out, "quadratic.svg"), "utf8");
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.ok((svg.match(/<polyline /g) ?? []).length >= 6);
    assert.doesNotMatch(svg, /NaN|undefined|<script/);
    const bad = spawnSync(process.execPath, [CLI, "lab", "run", "quadratic", "--kappa", "1"], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /kappa/);
    const typo = spawnSync(process.execPath, [CLI, "lab", "run", "quadratik"], { encoding: "utf8" });
    assert.match(typo.stderr, /did you mean quadratic/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
