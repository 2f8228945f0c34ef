// The zoo side by side: parameters and mult-adds of every classic network from nb.summary, and the primer's
// comparisons made with them (VGG vs GoogLeNet, 1×1 bottlenecks, ResNeXt vs ResNet, Inception v1 → v4).

import * as nb from "../../index.js";
import { fmt, type Experiment } from "../experiment.js";

const NAMES = [
  "lenet5",
  "alexnet",
  "vgg16",
  "googlenet",
  "bn_inception",
  "inception_v3",
  "inception_v4",
  "inception_resnet_v2",
  "resnet18",
  "resnet34",
  "resnet50",
  "resnext50_32x4d",
  "resnet152",
  "preact_resnet200",
  "resnext101_64x4d",
  "densenet121",
];

export const zooExperiment: Experiment = {
  id: "zoo",
  title: "The classic CNNs side by side: parameters and mult-adds",
  claim:
    "Classic architectures: LeNet, AlexNet, VGG, GoogLeNet (Inception v1: parallel 1×1, 3×3, 5×5 and pooling branches with 1×1 reductions), Inception v2 (BN) … ResNet (skip connections, bottleneck blocks), ResNet v2 (pre-activation), ResNeXt (cardinality = grouped convolution branches), DenseNet (dense blocks, concatenation)",
  section: "3. Convolutional networks",
  params: {
    size: { default: 224, min: 75, max: 512, integer: true, help: "input side for every ImageNet model (LeNet: 28)" },
  },
  fast: { size: 96 },
  heavy: true,
  run(p, _seed, emit) {
    const size = p.size as number;
    const rows = NAMES.map((name) => {
      // without the auxiliary classifiers, which only training uses
      const m = nb.nn.init.skipInit(() => nb.models.get(name, name === "googlenet" || name === "inception_v3" ? { auxLogits: false } : {}));
      const s = nb.summary(m, name === "lenet5" ? [1, 28, 28] : [3, size, size]);
      emit({ plot: 0, series: name, x: s.totalMacs / 1e9, y: s.totalParams / 1e6 });
      return { name, params: s.totalParams, macs: s.totalMacs };
    });
    const by = Object.fromEntries(rows.map((r) => [r.name, r]));
    const resnext101_32x4d = nb.summary(
      nb.nn.init.skipInit(() => nb.models.resnet101({ groups: 32, widthPerGroup: 4 })),
      [3, size, size],
    );
    const vggOverGoogle = by.vgg16.params / by.googlenet.params;
    const nextOverRes = by.resnext50_32x4d.params / by.resnet50.params;
    const r101VsR200 = resnext101_32x4d.totalMacs / by.preact_resnet200.macs;
    const holds = vggOverGoogle > 10 && Math.abs(nextOverRes - 1) < 0.05 && r101VsR200 < 0.6;
    return {
      holds,
      verdict:
        `At ${size}×${size}: VGG-16 has ${fmt(by.vgg16.params / 1e6)} M parameters, GoogLeNet ${fmt(by.googlenet.params / 1e6)} M (${fmt(vggOverGoogle)}× fewer, from 1×1 reductions and no big fully connected layers) at ${fmt(by.vgg16.macs / by.googlenet.macs)}× fewer mult-adds. ` +
        `ResNeXt-50 32×4d has ${fmt(nextOverRes)}× ResNet-50's parameters (${fmt(by.resnext50_32x4d.params / 1e6)} M vs ${fmt(by.resnet50.params / 1e6)} M) at ${fmt(by.resnext50_32x4d.macs / 1e9)} vs ${fmt(by.resnet50.macs / 1e9)} G mult-adds. ` +
        `ResNeXt-101 32×4d costs ${fmt(resnext101_32x4d.totalMacs / 1e9)} G mult-adds, ${fmt(r101VsR200)}× pre-activation ResNet-200's ${fmt(by.preact_resnet200.macs / 1e9)} G (the ResNeXt paper reports it as accurate). ` +
        `Inception v1 → v2 (BN) → v3 → v4: ${["googlenet", "bn_inception", "inception_v3", "inception_v4"].map((n) => `${fmt(by[n].params / 1e6)} M`).join(" → ")} parameters.`,
      numbers: Object.fromEntries([
        ...rows.flatMap((r) => [
          [`${r.name} params`, r.params],
          [`${r.name} macs`, r.macs],
        ]),
        ["resnext101_32x4d macs", resnext101_32x4d.totalMacs],
        ["vgg16 / googlenet params", vggOverGoogle],
      ]),
      plots: [
        {
          title: `parameters against mult-adds (${size}×${size})`,
          xLabel: "G mult-adds",
          yLabel: "M parameters",
          logY: true,
          series: rows.map((r) => ({ name: r.name, points: [[r.macs / 1e9, r.params / 1e6] as [number, number]] })),
        },
      ],
    };
  },
};
