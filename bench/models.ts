// The three networks npm run bench times (seeded), shared by bench/native.ts and bench/infer.ts.

import * as nb from "../src/index.js";

/** LeNet-5, the small BN net (1×28×28) or the small-input ResNet-18 (3×32×32), initialized from seed 0. */
export function benchModel(kind: string): { model: nb.nn.Module; shape: number[] } {
  nb.manualSeed(0);
  if (kind === "lenet5") return { model: nb.models.lenet5(), shape: [1, 28, 28] };
  if (kind === "convnet_bn") return { model: nb.models.convnet_bn(), shape: [1, 28, 28] };
  if (kind === "resnet18") return { model: nb.models.resnet18({ numClasses: 10, smallInput: true }), shape: [3, 32, 32] };
  throw new Error(`bench: unknown model ${kind}`);
}
