// The losses' claims: cross-entropy does not saturate through a sigmoid where squared error does; Smooth
// L1 / L1 resist outliers that pull L2; multi-label targets need a sigmoid + BCE per label, not a softmax;
// the L2 penalty shrinks logistic regression's weights.

import * as nb from "../../index.js";
import { fmt, type Experiment, type Series } from "../experiment.js";
import { logisticData } from "./batchsize.js";

const f64 = (v: number[] | number[][]) => nb.tensor(v, { dtype: "float64" });

/** d loss / d z at logit z for target 1: MSE through a sigmoid vs BCE with logits (autograd). */
function gradAt(z: number, kind: "mse" | "bce"): number {
  const zt = f64([z]).requiresGrad_();
  const t = f64([1]);
  (kind === "mse" ? nb.nn.functional.mseLoss(nb.sigmoid(zt), t) : nb.nn.functional.binaryCrossEntropyWithLogits(zt, t)).backward();
  return zt.grad!.data[0];
}

/** Fit y = a·x + b by L-BFGS under `loss`; returns [a, b]. */
function fitLine(x: nb.Tensor, y: nb.Tensor, loss: "l1" | "l2" | "smoothl1"): [number, number] {
  const w = new nb.nn.Parameter(f64([0, 0]));
  const opt = new nb.optim.LBFGS([w], { lr: 1, maxIter: 500, lineSearchFn: "strong_wolfe", toleranceGrad: 1e-12, toleranceChange: 1e-14 });
  const F = nb.nn.functional;
  const closure = () => {
    opt.zeroGrad();
    const pred = nb.add(nb.mul(x, nb.narrow(w, 0, 0, 1)), nb.narrow(w, 0, 1, 1));
    const l = loss === "l2" ? F.mseLoss(pred, y) : loss === "l1" ? F.l1Loss(pred, y) : F.smoothL1Loss(pred, y);
    l.backward();
    return l;
  };
  for (let i = 0; i < 5; i++) opt.step(closure);
  return [w.data[0], w.data[1]];
}

export const lossesExperiment: Experiment = {
  id: "losses",
  title: "Cross-entropy vs squared error, robust losses, multi-label, L2 and weight size",
  claim:
    "Cross-entropy for classification, and why it beats squared error with sigmoid/softmax outputs (no saturated gradients) … Smooth L1 (robust to outliers, stable gradients) … the gradient with L2 regularization",
  section: "4. Losses",
  params: {
    logit: { default: -8, min: -30, max: 0, help: "the wrong-side logit z (target 1) where the two gradients are compared" },
    outliers: { default: 0.1, min: 0, max: 0.45, help: "fraction of the line's points moved far off it" },
    points: { default: 200, min: 20, max: 10000, integer: true, help: "points on the line y = 2x + 1" },
  },
  fast: { points: 100 },
  run(p, seed, emit) {
    const gen = new nb.Generator(seed);
    const F = nb.nn.functional;
    // 1. saturation: through a sigmoid, MSE's gradient is 2(σ−1)·σ(1−σ) → 0 as z → −∞; BCE's is σ − 1 → −1
    const zs = Array.from({ length: 61 }, (_, i) => -12 + (14 * i) / 60);
    const mse = zs.map((z) => gradAt(z, "mse")),
      bce = zs.map((z) => gradAt(z, "bce"));
    zs.forEach((z, i) => {
      emit({ plot: 0, series: "|∂MSE/∂z|", x: z, y: Math.abs(mse[i]) });
      emit({ plot: 0, series: "|∂BCE/∂z|", x: z, y: Math.abs(bce[i]) });
    });
    const z = p.logit as number;
    const s = 1 / (1 + Math.exp(-z));
    const gM = gradAt(z, "mse"),
      gB = gradAt(z, "bce");
    const closedM = 2 * (s - 1) * s * (1 - s),
      closedB = s - 1;
    // 2. outliers: y = 2x + 1 + small noise, a fraction moved up by 20
    const n = p.points as number;
    const x = nb.rand([n], { dtype: "float64", generator: gen }).mul(4).sub(2);
    const noise = nb.randn([n], { dtype: "float64", generator: gen }).mul(0.1);
    const yv = Array.from(x.data, (v, i) => 2 * v + 1 + noise.data[i]);
    const nOut = Math.round((p.outliers as number) * n);
    for (let i = 0; i < nOut; i++) yv[i] += 20;
    const y = f64(yv);
    const fits = (["l2", "l1", "smoothl1"] as const).map((l) => fitLine(x, y, l));
    const slopeErr = fits.map(([a]) => Math.abs(a - 2)),
      interceptErr = fits.map(([, b]) => Math.abs(b - 1));
    // 3. multi-label: two labels on at once; softmax probabilities sum to 1, sigmoids need not
    const targets = f64([[1, 1, 0, 0]]);
    const logitsSig = new nb.nn.Parameter(f64([[0, 0, 0, 0]])),
      logitsSm = new nb.nn.Parameter(f64([[0, 0, 0, 0]]));
    const o1 = new nb.optim.SGD([logitsSig], { lr: 1 }),
      o2 = new nb.optim.SGD([logitsSm], { lr: 1 });
    for (let k = 0; k < 300; k++) {
      o1.zeroGrad();
      F.binaryCrossEntropyWithLogits(logitsSig, targets).backward();
      o1.step();
      o2.zeroGrad();
      F.crossEntropy(logitsSm, targets.div(2)).backward(); // the usual soft-target softmax alternative
      o2.step();
    }
    const pSig = Array.from(nb.sigmoid(logitsSig).data),
      pSm = Array.from(nb.softmax(logitsSm, 1).data);
    // 4. L2 strength vs the weight norm of logistic regression (exact minimizers by Newton)
    const { X, y: yl } = logisticData(400, 10, gen);
    const lams = [0, 1e-3, 1e-2, 1e-1, 1, 10];
    const norms = lams.map((lam) => {
      const r = nb.optim.minimize(
        (w: nb.Tensor) =>
          F.binaryCrossEntropyWithLogits(nb.matmul(X, w.reshape([10, 1])), yl).add(
            nb
              .mul(w, w)
              .sum()
              .mul(lam / 2),
          ),
        nb.zeros([10], { dtype: "float64" }),
        { method: "Newton", tol: 1e-10, maxIter: 100 },
      );
      const nrm = Math.hypot(...Array.from(r.x.data));
      emit({ plot: 1, series: "‖w*‖", x: lam, y: nrm });
      return nrm;
    });
    const decreasing = norms.slice(1).every((v, i) => v < norms[i]);
    const holds =
      Math.abs(gM / closedM - 1) < 1e-9 &&
      Math.abs(gB / closedB - 1) < 1e-9 &&
      Math.abs(gB) > 100 * Math.abs(gM) &&
      (nOut === 0 || (slopeErr[2] < slopeErr[0] && slopeErr[1] < slopeErr[0])) &&
      pSig[0] > 0.9 &&
      pSig[1] > 0.9 &&
      pSm[0] <= 0.5 + 1e-6 &&
      decreasing;
    const satSeries: Series[] = [
      { name: "|∂MSE/∂z| through σ", points: zs.map((v, i) => [v, Math.abs(mse[i])] as [number, number]) },
      { name: "|∂BCE/∂z|", points: zs.map((v, i) => [v, Math.abs(bce[i])] as [number, number]) },
    ];
    return {
      holds,
      verdict:
        `At logit ${z} (target 1): ∂BCE/∂z = ${fmt(gB)} (closed form σ − 1 = ${fmt(closedB)}), ∂MSE/∂z through the sigmoid = ${fmt(gM)} (2(σ−1)σ(1−σ) = ${fmt(closedM)}): ${fmt(Math.abs(gB / gM))}× smaller, the saturation. ` +
        `With ${nOut} of ${n} points moved up by 20, the fitted slope (true 2) is ${fmt(fits[0][0])} under L2, ${fmt(fits[1][0])} under L1 and ${fmt(fits[2][0])} under Smooth L1; intercepts (true 1) ${fits.map((f) => fmt(f[1])).join(", ")}. ` +
        `Two labels on at once: sigmoid + BCE gives them ${fmt(pSig[0])} and ${fmt(pSig[1])}; a softmax caps each at ${fmt(pSm[0])} (its outputs sum to 1). ` +
        `Logistic regression's ‖w*‖ falls from ${fmt(norms[0])} (λ = 0) to ${fmt(norms[norms.length - 1])} (λ = 10)${decreasing ? ", monotonically" : ""}.`,
      numbers: {
        gradBce: gB,
        gradMse: gM,
        saturationRatio: Math.abs(gB / gM),
        slopeL2: fits[0][0],
        slopeL1: fits[1][0],
        slopeSmoothL1: fits[2][0],
        interceptErrorL2: interceptErr[0],
        interceptErrorSmoothL1: interceptErr[2],
        sigmoidLabel0: pSig[0],
        softmaxLabel0: pSm[0],
        weightNormL2Zero: norms[0],
        weightNormL2Ten: norms[norms.length - 1],
      },
      plots: [
        { title: "gradient at the logit, target 1", xLabel: "logit z", yLabel: "|∂loss/∂z|", logY: true, series: satSeries },
        {
          title: "logistic regression: ‖w*‖ against λ",
          xLabel: "log10 λ (λ = 0 drawn at −4)",
          yLabel: "‖w*‖",
          series: [{ name: "‖w*‖", points: lams.map((l, i) => [l === 0 ? -4 : Math.log10(l), norms[i]] as [number, number]) }],
        },
      ],
    };
  },
};
