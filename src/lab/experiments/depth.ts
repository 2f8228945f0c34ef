// Depth: a plain deep CNN against the same depth with residual connections (and a shallow plain one) on the
// shipped Fashion-MNIST slice — the degradation problem at small scale: the deeper plain net trains worse
// than the shallower one, and identity shortcuts remove the gap.

import * as nb from "../../index.js";
import { fmt, type Experiment, type LabData, type Series } from "../experiment.js";

/** conv 3×3 → BN (→ ReLU), the unit every net here is built from. */
class Unit extends nb.nn.Module {
  conv: nb.nn.Conv2d;
  bn: nb.nn.BatchNorm2d;
  constructor(
    inCh: number,
    outCh: number,
    stride: number,
    readonly act = true,
  ) {
    super();
    this.conv = new nb.nn.Conv2d(inCh, outCh, 3, { stride, padding: 1, bias: false });
    this.bn = new nb.nn.BatchNorm2d(outCh);
  }
  forward(x: nb.Tensor): nb.Tensor {
    const h = this.bn.forward(this.conv.forward(x));
    return this.act ? nb.relu(h) : h;
  }
}

/** Two units with an identity shortcut: relu(x + BN(conv(relu(BN(conv(x)))))). */
class ResidualPair extends nb.nn.Module {
  a: Unit;
  b: Unit;
  constructor(w: number) {
    super();
    this.a = new Unit(w, w, 1);
    this.b = new Unit(w, w, 1, false);
  }
  forward(x: nb.Tensor): nb.Tensor {
    return nb.relu(nb.add(x, this.b.forward(this.a.forward(x))));
  }
}

/**
 * A stride-2 stem (28 → 14), `depth` − 2 more 3×3 layers at width w (one of them stride 2, 14 → 7; with
 * `residual`, the others in shortcut pairs), global average pool, fc: `depth` convolutions in all.
 */
function net(depth: number, w: number, residual: boolean): nb.nn.Sequential {
  const layers: nb.nn.Module[] = [new Unit(1, w, 2)];
  const rest = depth - 2;
  const half = Math.floor(rest / 2);
  const stage = (n: number) => {
    if (!residual) for (let i = 0; i < n; i++) layers.push(new Unit(w, w, 1));
    else {
      for (let i = 0; i + 1 < n; i += 2) layers.push(new ResidualPair(w));
      if (n % 2) layers.push(new Unit(w, w, 1));
    }
  };
  stage(half);
  layers.push(new Unit(w, w, 2));
  stage(rest - half);
  layers.push(new nb.nn.AdaptiveAvgPool2d([1, 1]), new nb.nn.Flatten(), new nb.nn.Linear(w, 10));
  return new nb.nn.Sequential(...layers);
}

function fashionTrain(data?: LabData): { images: Uint8Array; labels: Uint8Array; count: number } {
  if (data?.fashionTrain) return data.fashionTrain;
  const set = nb.data.fashionMnist("train", { dir: nb.data.SHIPPED_FASHION_MNIST }).set;
  return { images: set.images, labels: set.labels, count: set.count };
}

export const depthExperiment: Experiment = {
  id: "depth",
  title: "Deeper plain nets train worse; residual connections fix it",
  claim: "ResNet (skip connections, bottleneck blocks)",
  section: "3. Convolutional networks",
  params: {
    depth: { default: 26, min: 6, max: 80, integer: true, help: "convolutions in the deep nets" },
    shallow: { default: 8, min: 3, max: 40, integer: true, help: "convolutions in the shallow plain net" },
    width: { default: 16, min: 4, max: 64, integer: true, help: "channels per layer" },
    steps: { default: 300, min: 10, max: 5000, integer: true, help: "SGD steps (batch 64, lr 0.05, momentum 0.9)" },
  },
  fast: { depth: 20, shallow: 6, width: 8, steps: 120 },
  heavy: true,
  run(p, seed, emit, data) {
    const { images, labels, count } = fashionTrain(data);
    const X = nb.tensor(Float32Array.from(images, (v) => v / 255 - 0.5)).reshape([count, 1, 28, 28]);
    const Y = nb.tensor(Int32Array.from(labels), { dtype: "int32" });
    const steps = p.steps as number,
      w = p.width as number;
    const configs: [string, number, boolean][] = [
      [`plain, ${p.shallow} layers`, p.shallow as number, false],
      [`plain, ${p.depth} layers`, p.depth as number, false],
      [`residual, ${p.depth} layers`, p.depth as number, true],
    ];
    const curves: Series[] = [];
    const finals = configs.map(([name, depth, residual]) => {
      nb.manualSeed(seed);
      const model = net(depth, w, residual);
      const opt = new nb.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
      const gen = new nb.Generator(seed + 1);
      const pts: [number, number][] = [];
      let ema = NaN;
      const tail: number[] = [];
      for (let k = 1; k <= steps; k++) {
        const idx = nb.randint(0, count, [64], { generator: gen });
        opt.zeroGrad();
        const loss = nb.nn.functional.crossEntropy(model.forward(nb.indexSelect(X, 0, idx)), nb.indexSelect(Y, 0, idx));
        const l = loss.item();
        loss.backward();
        opt.step();
        ema = Number.isNaN(ema) ? l : 0.9 * ema + 0.1 * l;
        if (k % 5 === 0) {
          pts.push([k, ema]);
          emit({ plot: 0, series: name, x: k, y: ema });
        }
        if (k > steps - Math.max(10, Math.floor(steps / 5))) tail.push(l);
      }
      curves.push({ name, points: pts });
      return tail.reduce((a, b) => a + b, 0) / tail.length;
    });
    const [shallow, plainDeep, resDeep] = finals;
    const holds = plainDeep > shallow && resDeep < plainDeep;
    return {
      holds,
      verdict:
        `Training loss (mean of the last steps) after ${steps} SGD steps on the Fashion-MNIST slice: plain ${p.shallow}-layer ${fmt(shallow)}, plain ${p.depth}-layer ${fmt(plainDeep)}, ` +
        `residual ${p.depth}-layer ${fmt(resDeep)}. ${plainDeep > shallow ? "The deeper plain net trains worse than the shallower one (the degradation problem: not overfitting, the training loss itself)" : "At these settings the deeper plain net does not train worse"}; ` +
        `${resDeep < plainDeep ? `identity shortcuts bring the deep net to ${fmt(resDeep)}` : "the shortcuts do not help here"}.`,
      numbers: { lossShallowPlain: shallow, lossDeepPlain: plainDeep, lossDeepResidual: resDeep },
      plots: [{ title: "training loss (moving average)", xLabel: "step", yLabel: "loss", logY: true, series: curves }],
    };
  },
};
